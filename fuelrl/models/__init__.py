"""Q-networks: fully convolutional, one Q-value per cell, any tile size."""

from fuelrl.models.qnet import FuelBreakQNet, QNetConfig, count_parameters

__all__ = ["FuelBreakQNet", "QNetConfig", "count_parameters"]
