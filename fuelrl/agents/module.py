"""The DQN LightningModule: online and target Q-networks, double-DQN loss, exploration, evaluation.

Read it top to bottom like CleanRL's ``dqn.py``:

1. ``policy`` (TorchRL ``QValueActor`` with the action mask, then :class:`MaskedEpsilonGreedy`) acts
   in the env; the data module's collector calls it and stores transitions in the replay buffer.
2. ``training_step`` takes a sampled batch and returns the double-DQN Huber loss
   (:func:`fuelrl.agents.losses.double_dqn_loss`); Lightning handles precision, gradient
   accumulation and DDP; gradients are clipped by norm (``max_grad_norm``).
3. After every optimizer step the target network is updated: copied every
   ``target_update_every`` steps (``target_update: hard``) or Polyak-averaged (``soft``, ``tau``).
4. ``validation_step`` plays the greedy policy and random placement on the same held-out tiles and
   fires and logs ``eval/burned_ha`` and ``eval/burned_ha_random``.

Everything that must survive a restart is in the checkpoint: both networks, the optimizer, epsilon
(a buffer), the number of target updates and (through the data module) the frame count.
"""

from __future__ import annotations

import copy
import logging
from typing import Literal

import lightning.pytorch as pl
import torch
from tensordict import TensorDictBase
from tensordict.nn import TensorDictSequential
from torchrl.modules import QValueActor

from fuelrl.agents.evaluation import (
    EpisodeResult,
    channel_greedy_action_fn,
    greedy_action_fn,
    random_action_fn,
    run_episodes,
)
from fuelrl.agents.exploration import MaskedEpsilonGreedy, linear_epsilon
from fuelrl.agents.losses import agent_loss, hard_update, soft_update
from fuelrl.envs.observation import DPV_CHANNEL
from fuelrl.errors import InputError
from fuelrl.models import FuelBreakQNet, QNetConfig, count_parameters

log = logging.getLogger(__name__)

_PROG_BAR = ("loss", "expert_agreement")  # train/* metrics also shown in the progress bar


def load_initial_weights(qnet: FuelBreakQNet, path: str, observation_channels: list[str]) -> None:
    """Copy the Q-network weights of the ``fuelrl fit`` checkpoint ``path`` into ``qnet``
    (``model.init_weights``); :class:`InputError` when it is missing, unreadable, or its network or
    observation channels differ from this model's."""
    from pathlib import Path

    flag = f"model.init_weights {path}"
    if not Path(path).is_file():
        raise InputError(f"{flag}: checkpoint not found")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
        state = {k[len("qnet.") :]: v for k, v in ckpt["state_dict"].items() if k.startswith("qnet.")}
        theirs = list(ckpt["hyper_parameters"].get("observation_channels") or [])
    except Exception as exc:  # noqa: BLE001 - truncated, not a checkpoint, wrong format
        raise InputError(f"{flag}: not a fuelrl fit checkpoint ({type(exc).__name__})") from None
    if theirs != list(observation_channels):
        raise InputError(
            f"{flag}: its network reads the observation channels {theirs}, this model's are "
            f"{list(observation_channels)} (set data.env as in its run)"
        )
    try:
        qnet.load_state_dict(state, strict=True)
    except RuntimeError:
        raise InputError(
            f"{flag}: its Q-network has other layers or widths than model.net (use its run's model.net)"
        ) from None


class DQNAgent(pl.LightningModule):
    """Deep Q-learning of fuel-break placement.

    Args:
        in_channels: channels of the env observation; the CLI links it from
            ``data.num_observation_channels``. Required when built from Python.
        observation_channels: names of those channels, in order (the CLI links them from
            ``data.observation_channels``); kept in the checkpoint so a planner rebuilds the same
            observation (e.g. with FireEnv's optional ``dpv/max`` channel). ``None``: FireEnv's
            default channels when ``in_channels`` matches them, else ``channel0``, ``channel1``, ...
        net: Q-network widths (:class:`fuelrl.models.QNetConfig`).
        lr: Adam learning rate. weight_decay: AdamW decoupled weight decay (0 = Adam).
        gamma: discount per placed break.
        double_dqn: choose the next action with the online net, value it with the target net.
        loss_function: "smooth_l1" (Huber) or "l2".
        reward_scale: multiply env rewards (the fraction of the tile's burnable area a break saves)
            by this before the TD target; 100 makes them percent.
        max_grad_norm: clip the gradient norm to this (None: no clipping; ``--trainer.gradient_clip_val``
            overrides it).
        eps_start, eps_end, eps_decay_frames: linear epsilon schedule over env transitions, starting
            after the data module's warm-up.
        target_update: "hard" (copy every ``target_update_every`` optimizer steps) or "soft" (``tau``).
        expert_weight: weight of DQfD's large-margin loss on the transitions that carry an
            ``expert_action`` (FireEnv's ``expert: dpv``; :func:`fuelrl.agents.losses.large_margin_loss`);
            0: plain DQN.
        expert_margin: the margin of that loss, in Q units (reward x ``reward_scale``).
        expert_loss: "margin" (DQfD's large-margin loss on ``expert_action``) or "dpv_regression"
            (a DPV-residual network regresses the teacher's fresh DPV map ``expert_dpv`` on the legal
            cells: :func:`fuelrl.agents.losses.dpv_regression_loss`).
        expert_value_weight: with "dpv_regression", weigh each cell's error by 1 + this x its
            teacher value (the best cells count most).
        expert_set_weight: weight of the listwise loss on the every-break teacher's next interval
            (FireEnv's ``expert_set``, ``data.env.expert_lookahead: true``;
            :func:`fuelrl.agents.losses.expert_set_loss`); 0: not used.
        expert_set_temperature: its softmax temperature, in Q units (``dpv/max`` for a DPV-residual net).
        td_weight: weight of the TD loss (1: DQN/DQfD; 0 with ``expert_weight`` > 0: pure imitation).
        seed: seed of the exploration generator (each DDP rank adds its rank).
        init_weights: a ``fuelrl fit`` checkpoint whose Q-network weights the online and target
            networks start from (fine-tuning with other losses: a new optimizer, replay buffer and
            step count, unlike ``--ckpt_path``, which resumes the same run). Its network and
            observation channels must be this model's. Not kept in the checkpoint's
            hyper-parameters (the run's ``config.yaml`` records it).
    """

    def __init__(
        self,
        in_channels: int | None = None,
        net: QNetConfig | None = None,
        observation_channels: list[str] | None = None,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        gamma: float = 0.97,
        double_dqn: bool = True,
        loss_function: Literal["smooth_l1", "l2"] = "smooth_l1",
        reward_scale: float = 100.0,
        max_grad_norm: float | None = 10.0,
        eps_start: float = 1.0,
        eps_end: float = 0.05,
        eps_decay_frames: int = 20_000,
        target_update: Literal["hard", "soft"] = "hard",
        target_update_every: int = 250,
        tau: float = 0.005,
        expert_weight: float = 0.0,
        expert_margin: float = 0.1,
        expert_loss: Literal["margin", "dpv_regression"] = "margin",
        expert_value_weight: float = 0.0,
        expert_set_weight: float = 0.0,
        expert_set_temperature: float = 0.05,
        td_weight: float = 1.0,
        seed: int = 0,
        init_weights: str | None = None,
    ):
        super().__init__()
        if in_channels is None:
            raise InputError(
                "model.in_channels: not set; pass len(FireEnv.observation_channels) "
                "(the fuelrl CLI links it from the data module)"
            )
        if observation_channels is None:
            from fuelrl.envs.observation import OBSERVATION_CHANNELS

            observation_channels = (
                list(OBSERVATION_CHANNELS)
                if in_channels == len(OBSERVATION_CHANNELS)
                else [f"channel{i}" for i in range(in_channels)]
            )
        if len(observation_channels) != in_channels:
            raise InputError(
                f"model.observation_channels: {len(observation_channels)} names for model.in_channels "
                f"{in_channels} channels"
            )
        if target_update not in ("hard", "soft"):
            raise InputError(f"model.target_update: expected 'hard' or 'soft', got {target_update!r}")
        if not 0.0 < tau <= 1.0:
            raise InputError(f"model.tau: expected 0 < tau <= 1, got {tau}")
        if not 0.0 <= eps_end <= eps_start <= 1.0:
            raise InputError(
                f"model.eps_start/eps_end: expected 0 <= end <= start <= 1, got {eps_start}, {eps_end}"
            )
        if expert_weight < 0 or expert_margin < 0 or td_weight < 0 or expert_weight + td_weight <= 0:
            raise InputError(
                "model.expert_weight, model.expert_margin, model.td_weight: expected >= 0 with "
                f"expert_weight + td_weight > 0, got {expert_weight}, {expert_margin}, {td_weight}"
            )
        if expert_set_weight < 0 or not expert_set_temperature > 0:
            raise InputError(
                "model.expert_set_weight, model.expert_set_temperature: expected >= 0 and > 0, got "
                f"{expert_set_weight}, {expert_set_temperature}"
            )
        if expert_loss not in ("margin", "dpv_regression"):
            raise InputError(f"model.expert_loss: expected 'margin' or 'dpv_regression', got {expert_loss!r}")
        if expert_loss == "dpv_regression" and not (net is not None and net.dpv_residual):
            raise InputError(
                "model.expert_loss 'dpv_regression' needs a DPV-residual net: model.net.dpv_residual: true"
            )
        if net is not None and net.dpv_residual and observation_channels is not None:
            from fuelrl.envs.observation import DPV_CHANNEL

            if not observation_channels or observation_channels[-1] != DPV_CHANNEL:
                raise InputError(
                    f"model.net.dpv_residual reads the last observation channel as {DPV_CHANNEL!r}: set "
                    "data.env.dpv_channel: true"
                )
        if target_update_every < 1:
            raise InputError(f"model.target_update_every: expected >= 1, got {target_update_every}")
        net = net or QNetConfig()
        self.save_hyperparameters(ignore=["init_weights"])
        self.qnet = FuelBreakQNet(in_channels, net)
        if init_weights is not None:
            load_initial_weights(self.qnet, init_weights, list(observation_channels))
        self.target_qnet = copy.deepcopy(self.qnet).requires_grad_(False)
        # the actor wraps self.qnet (same parameters); kept out of the module tree so checkpoints
        # hold the network once
        self.__dict__["actor"] = QValueActor(
            module=self.qnet,
            in_keys=["observation", "budget_left"],
            action_space="categorical",
            action_mask_key="action_mask",
        )
        self.egreedy = MaskedEpsilonGreedy(eps_start, seed=seed)
        self.register_buffer("num_updates", torch.zeros((), dtype=torch.long))
        self.last_eval: dict[str, float] = {}
        self.last_eval_episodes: dict[str, EpisodeResult] = {}
        log.info("Q-network: %d parameters", count_parameters(self.qnet))

    # ----------------------------------------------------------------------------------- acting
    @property
    def policy(self) -> TensorDictSequential:
        """The collector's policy: masked greedy action, then epsilon-greedy over legal cells."""
        return TensorDictSequential(self.actor, self.egreedy)

    @property
    def epsilon(self) -> float:
        return float(self.egreedy.eps)

    def update_exploration(self, frames: int, warmup_frames: int = 0) -> float:
        """Set epsilon for ``frames`` env transitions collected so far; returns it."""
        hp = self.hparams
        eps = linear_epsilon(
            frames,
            start=hp.eps_start,
            end=hp.eps_end,
            decay_frames=hp.eps_decay_frames,
            warmup_frames=warmup_frames,
        )
        self.egreedy.set_epsilon(eps)
        return eps

    def reseed_exploration(self, seed: int) -> None:
        self.egreedy.generator.manual_seed(seed)

    def forward(self, observation: torch.Tensor, budget_left: torch.Tensor | None = None) -> torch.Tensor:
        """Q-values ``[*, H*W]`` of the online network."""
        return self.qnet(observation, budget_left)

    # ---------------------------------------------------------------------------------- learning
    def training_step(self, batch: TensorDictBase, batch_idx: int) -> torch.Tensor:
        out = agent_loss(self.qnet, self.target_qnet, batch, self.hparams)
        if self._logs_this_step():
            n = out.batch_size
            for key, value in out.metrics.items():
                self.log(f"train/{key}", value, prog_bar=key in _PROG_BAR, batch_size=n)
            self.log("train/epsilon", self.epsilon, batch_size=n)
            self.log("train/target_updates", self.num_updates.float(), batch_size=n)
            if self.qnet.dpv_gain is not None:
                self.log("train/dpv_gain", self.qnet.dpv_gain.detach(), batch_size=n)
        return out.loss

    def _logs_this_step(self) -> bool:
        """Whether the logger writes this batch's ``train/*`` values: every
        ``trainer.log_every_n_steps`` optimizer steps, as Lightning decides (its step counter,
        ``_batches_that_stepped``, equals ``global_step`` with one optimizer). ``self.log`` costs
        about a millisecond a call on a CPU (Lightning's result collection), which was 20-30% of a
        quickstart update when the nine ``train/*`` values were logged on every batch; the
        progress bar now shows them as of the last logging step."""
        trainer = self._trainer
        if trainer is None:
            return False
        every = trainer.log_every_n_steps
        return bool(every) and ((trainer.global_step + 1) % every == 0 or trainer.should_stop)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        hp = self.hparams
        if hp.weight_decay:
            return torch.optim.AdamW(self.qnet.parameters(), lr=hp.lr, weight_decay=hp.weight_decay)
        return torch.optim.Adam(self.qnet.parameters(), lr=hp.lr)

    def configure_gradient_clipping(self, optimizer, gradient_clip_val=None, gradient_clip_algorithm=None):
        clip = gradient_clip_val if gradient_clip_val is not None else self.hparams.max_grad_norm
        if clip:
            self.clip_gradients(
                optimizer, gradient_clip_val=clip, gradient_clip_algorithm=gradient_clip_algorithm or "norm"
            )

    def optimizer_step(self, *args, **kwargs) -> None:
        super().optimizer_step(*args, **kwargs)
        self.num_updates += 1
        self.update_target()

    @torch.no_grad()
    def update_target(self) -> None:
        """Target update after optimizer step number ``num_updates``."""
        hp = self.hparams
        if hp.target_update == "soft":
            soft_update(self.target_qnet, self.qnet, hp.tau)
        elif int(self.num_updates) % hp.target_update_every == 0:
            hard_update(self.target_qnet, self.qnet)

    # -------------------------------------------------------------------------------- evaluation
    @torch.no_grad()
    def evaluate(self, env, seed: int) -> dict[str, float]:
        """Greedy agent vs random placement on the tiles and fires ``env`` draws after ``set_seed(seed)``.

        Returns mean burned area per tile (ha) for both and, when the env reports it at reset, the
        untreated area. Episodes are kept in ``last_eval_episodes`` for the map images.
        """
        was_training = self.training
        self.eval()
        names = list(self.hparams.observation_channels or ())
        try:
            greedy = run_episodes(env, greedy_action_fn(self.qnet), seed=seed)
            rand = run_episodes(env, random_action_fn(seed), seed=seed)
            dpv = (
                run_episodes(env, channel_greedy_action_fn(names.index(DPV_CHANNEL)), seed=seed)
                if DPV_CHANNEL in names
                else None
            )
        finally:
            self.train(was_training)
        self.last_eval_episodes = {"greedy": greedy, "random": rand}
        out = {"burned_ha": float(greedy.burned_ha.mean()), "burned_ha_random": float(rand.burned_ha.mean())}
        if dpv is not None:  # DPV-greedy on the same tiles, fires and simulation schedule
            out["burned_ha_dpv"] = float(dpv.burned_ha.mean())
        if greedy.burned_ha_untreated is not None:
            out["burned_ha_untreated"] = float(greedy.burned_ha_untreated.mean())
        out["breaks_per_tile"] = float(greedy.steps.float().mean())
        return out

    def _eval_step(self, seed: int, prefix: str) -> dict[str, float]:
        dm = self.trainer.datamodule
        if dm is None or not hasattr(dm, "eval_env"):
            raise RuntimeError("validation/test need the fuelrl ReplayDataModule (it builds the eval env)")
        stage = "test" if prefix == "test" else "validate"
        metrics = self.evaluate(dm.eval_env(stage), int(seed))
        n = dm.eval_tiles
        for key, value in metrics.items():
            bar = key in ("burned_ha", "burned_ha_random")
            self.log(f"{prefix}/{key}", value, prog_bar=bar, batch_size=n, sync_dist=True)
        self.last_eval = metrics
        return metrics

    def validation_step(self, batch, batch_idx: int) -> None:
        self._eval_step(int(batch), "eval")

    def test_step(self, batch, batch_idx: int) -> None:
        self._eval_step(int(batch), "test")
