"""The DQN agent: LightningModule, collector + replay data module, evaluation, LightningCLI."""

from fuelrl.agents.module import DQNAgent

__all__ = ["DQNAgent", "ReplayDataModule"]


def __getattr__(name: str):
    # the data module imports the env (and TorchRL collectors): load it only when asked for
    if name == "ReplayDataModule":
        from fuelrl.agents.data import ReplayDataModule

        return ReplayDataModule
    raise AttributeError(name)
