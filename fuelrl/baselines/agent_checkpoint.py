"""Loading ``fuelrl fit`` checkpoints for planning: the packaged agent's path, the observation
layouts a checkpoint may have, and what its network reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from fuelrl.errors import InputError


def pretrained_checkpoint_path() -> Path:
    """Where the packaged agent's checkpoint lives (package data: ``fuelrl/pretrained/``)."""
    return Path(__file__).resolve().parent.parent / "pretrained" / "fuelrl_pretrained.ckpt"


def known_layouts() -> dict[tuple[str, ...], dict[str, bool]]:
    """The observation layouts this fuelrl's FireEnv produces, with the options that give each."""
    from fuelrl.envs.observation import channel_layout

    out = {}
    for dpv in (False, True):
        for weather in (False, True):
            for value in (False, True):
                out[channel_layout(dpv_channel=dpv, weather_channels=weather, value_channel=value)] = {
                    "dpv_channel": dpv,
                    "weather_channels": weather,
                    "value_channel": value,
                }
    return out


def load_agent(checkpoint: str | Path, device: str | torch.device = "cpu") -> Any:
    """The :class:`fuelrl.agents.DQNAgent` of a ``fuelrl fit`` checkpoint, in eval mode on ``device``.

    Raises :class:`InputError` when the file is missing, is not a fuelrl DQN checkpoint, or its
    network reads an observation layout this fuelrl's FireEnv does not produce.
    """
    from fuelrl.agents import DQNAgent
    from fuelrl.envs.observation import OBSERVATION_CHANNELS

    path = Path(checkpoint)
    if not path.is_file():
        raise InputError(f"checkpoint not found: {path}")
    try:
        agent = DQNAgent.load_from_checkpoint(
            str(path), map_location=torch.device(device), weights_only=False
        )
    except Exception as exc:  # noqa: BLE001 - any failure means "not a checkpoint we can use"
        raise InputError(
            f"{path}: not a fuelrl DQN checkpoint (from `fuelrl fit`): {type(exc).__name__}: {exc}"
        ) from exc
    names = tuple(agent.hparams.get("observation_channels") or ())
    if names not in known_layouts() or agent.qnet.in_channels != len(names):
        raise InputError(
            f"{path}: the network reads {agent.qnet.in_channels} observation channels {list(names)}; "
            f"this fuelrl's FireEnv gives {list(OBSERVATION_CHANNELS)} + optional weather planes and "
            "'dpv/max' and 'value/max' (fuelrl.envs.observation.channel_layout); retrain with this version"
        )
    return agent.eval().to(device)


def observation_names(agent: Any) -> tuple[str, ...]:
    """The agent's observation channel names, in the order its network reads them."""
    return tuple(agent.hparams.get("observation_channels") or ())


def uses_dpv_channel(agent: Any) -> bool:
    """Whether the agent's network reads FireEnv's ``dpv/max`` channel."""
    from fuelrl.envs.observation import DPV_CHANNEL

    return DPV_CHANNEL in observation_names(agent)


def uses_weather_channels(agent: Any) -> bool:
    """Whether the agent's network reads FireEnv's weather planes."""
    from fuelrl.envs.observation import WEATHER_CHANNELS

    return any(n in WEATHER_CHANNELS for n in observation_names(agent))
