"""FireEnv: a TensorDict-native, batched TorchRL environment for fuel-break placement (docs/env.md).

from fuelrl.envs import EnvConfig, FireEnv, make_env

env = FireEnv()                                   # one tile of the generated landscape
env = make_env(EnvConfig(batch_size=4), num_workers=2, seed=0)   # ParallelEnv(2) x 4 tiles
"""

from fuelrl.envs.config import EnvConfig
from fuelrl.envs.factory import make_env, worker_seeds
from fuelrl.envs.fire_env import FireEnv
from fuelrl.envs.observation import DYNAMIC_CHANNELS, LANDSCAPE_CHANNELS, OBSERVATION_CHANNELS

__all__ = [
    "DYNAMIC_CHANNELS",
    "LANDSCAPE_CHANNELS",
    "OBSERVATION_CHANNELS",
    "EnvConfig",
    "FireEnv",
    "make_env",
    "worker_seeds",
]
