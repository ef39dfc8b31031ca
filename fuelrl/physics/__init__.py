"""Fire behaviour science: fuel models, Rothermel surface fire, wind adjustment, fire ellipse,
crown fire. Array code that works on numpy arrays and torch tensors alike.

Entry points: :func:`fuelrl.physics.behavior.fire_behavior` (a whole landscape in one call),
:func:`fuelrl.physics.behavior.ros_at_azimuth`, :data:`fuelrl.physics.fuel_models.FUEL_MODELS`.
See docs/science.md for the equations, sources, conventions and validation.
"""

from fuelrl.physics.behavior import CONVENTIONS, FIRE_TYPES, FireBehavior, fire_behavior, ros_at_azimuth
from fuelrl.physics.fuel_models import (
    FUEL_MODELS,
    KNOWN_CODES,
    NONBURNABLE_CODES,
    FuelModel,
    is_burnable,
    parse_fuel_model,
)

__all__ = [
    "CONVENTIONS",
    "FIRE_TYPES",
    "FUEL_MODELS",
    "KNOWN_CODES",
    "NONBURNABLE_CODES",
    "FireBehavior",
    "FuelModel",
    "fire_behavior",
    "is_burnable",
    "parse_fuel_model",
    "ros_at_azimuth",
]
