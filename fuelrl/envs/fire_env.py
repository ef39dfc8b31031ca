"""FireEnv: place fuel breaks on B landscape tiles at once, rewarded by the drop in expected burned area.

A TensorDict-native TorchRL environment written in the style of ``torchrl/envs/custom`` (specs built
once in ``__init__``, ``_reset`` / ``_step`` / ``_set_seed``, a ``torch.Generator`` for randomness).
The landscape tensors live in the env object (once per process, on the simulator's device); each
step writes the chosen cells into a [B, H, W] break mask and, every ``simulate_every`` steps, grows
the episode's fires (fixed, or with ``fresh_fires`` new ones: :mod:`fuelrl.envs.fresh_fires`) with
one batched backend call. See docs/env.md.
"""

from __future__ import annotations

import logging
from dataclasses import fields, replace
from typing import Any

import torch
from tensordict import TensorDict, TensorDictBase
from torchrl.envs import EnvBase

from fuelrl import registry
from fuelrl.envs.config import EnvConfig
from fuelrl.envs.env_state import FireEnvState
from fuelrl.envs.expert import TeacherFires, greedy_labels, lookahead_set, prepare_slots
from fuelrl.envs.fresh_fires import FreshFires, expected_loss
from fuelrl.envs.observation import (
    DYNAMIC_CHANNELS,
    OBSERVATION_CHANNELS,
    channel_layout,
    landscape_channels,
    weather_planes,
)
from fuelrl.envs.plan_layers import TileInputs
from fuelrl.envs.sources import FireSource, TileSource, stack_layer
from fuelrl.envs.weather_layers import TileWeather
from fuelrl.errors import InputError
from fuelrl.simulators.base import ScenarioSet, SimulationOptions, TileBatch
from fuelrl.simulators.trees import dpv

log = logging.getLogger(__name__)


class FireEnv(FireEnvState, EnvBase):
    """Fuel-break placement on a batch of B landscape tiles (``batch_size`` [B]).

    Each episode (per tile): reset draws a tile from the landscape dataset and a fixed set of F fires
    on it (ignitions on burnable cells, weather from the configured distribution). Each step treats
    the cell ``action`` (flat index ``row * W + col``; with ``breaks_per_step`` k > 1 also its k - 1
    nearest available cells) until ``budget_fraction`` of the tile's burnable cells are treated.
    The reward of a step is the drop in expected burned area (mean over the F fires) it caused,
    divided by the tile's burnable area, so an episode's rewards sum exactly to the fraction of the
    burnable area saved: ``(E[burned_ha | no breaks] - E[burned_ha | final breaks]) / burnable_ha``
    (``fresh_fires``: new fires per simulation, in expectation only; :mod:`~fuelrl.envs.fresh_fires`).

    Args:
        config: the options (:class:`EnvConfig`); ``None`` uses the defaults (a generated landscape).

    Keyword Args:
        batch_size: B, overrides ``config.batch_size``.
        seed: seed of the env's generators (default 0, so two envs built alike run alike).
        device: where the output tensordicts live; the backend runs there too when it supports that
            device type (the ``torch`` backend on CUDA), otherwise on the CPU.
        worker_index, num_workers: this env takes the tiles ``i`` with ``i % num_workers ==
            worker_index`` (landscape shards of a ParallelEnv; :func:`fuelrl.envs.make_env` sets them).
        **overrides: any :class:`EnvConfig` field.

    Examples:
        >>> from fuelrl.envs import FireEnv
        >>> env = FireEnv(tile_size=16, fires_per_tile=4, batch_size=2)
        >>> td = env.rollout(100, break_when_any_done=True)  # random actions that follow action_mask
        >>> td["next", "reward"].sum(0)  # fraction of the burnable area saved so far, per tile
    """

    batch_locked = True
    #: the name of each channel of ``observation`` (dimension 1), in order; an instance with
    #: ``dpv_channel`` has one more, ``"dpv/max"``, last
    observation_channels: tuple[str, ...] = OBSERVATION_CHANNELS

    def __init__(
        self,
        config: EnvConfig | None = None,
        *,
        batch_size: int | None = None,
        seed: int | None = None,
        device: str | torch.device | None = None,
        worker_index: int = 0,
        num_workers: int = 1,
        **overrides: Any,
    ):
        cfg = (config if config is not None else EnvConfig()).with_overrides(**overrides)
        if batch_size is not None:
            cfg = replace(cfg, batch_size=int(batch_size))
        cfg.validate()
        device = torch.device(device if device is not None else "cpu")
        super().__init__(device=device, batch_size=torch.Size([cfg.batch_size]))
        self.config = cfg
        self.observation_channels = channel_layout(
            dpv_channel=cfg.dpv_channel, weather_channels=cfg.weather_channels, value_channel=bool(cfg.values)
        )

        backend_cls = registry.get(cfg.backend)
        devices = tuple(getattr(backend_cls, "devices", ("cpu",)))
        self.sim_device = device if device.type in devices else torch.device("cpu")
        if self.sim_device != device:
            log.info("backend %r runs on %s; FireEnv outputs go to %s", cfg.backend, self.sim_device, device)
        self.backend = registry.create(
            cfg.backend,
            device=self.sim_device,
            options=SimulationOptions(
                conventions=cfg.conventions,
                crown_fire=cfg.crown_fire,
                treatment_fuel_model=cfg.treatment_fuel_model,
            ),
        )
        self.source = TileSource(cfg, worker_index=worker_index, num_workers=num_workers)
        self.fire_source = FireSource(cfg)
        self.tile_weather = TileWeather(cfg.wind_grids, cfg.moisture_grids, self.source.dataset.specs)
        if self.tile_weather.active and not type(self.backend).gridded_weather:
            raise InputError(f"EnvConfig.backend {cfg.backend!r} does not take gridded weather (wind_grids)")
        self.tile_inputs = TileInputs(cfg.values, cfg.treatable, cfg.ignition_density, self.source.dataset)
        self.source.keep(self.tile_inputs.usable(self.source.indices))  # tiles with treatable cells

        self.rng = torch.Generator()  # episodes: tiles and fires (CPU: the same draws on any device)
        self._make_specs()
        self._allocate_state()
        self.fresh = FreshFires(cfg, self.sim_device) if cfg.fresh_fires else None  # new fires per simulation
        self.teacher = None  # the teacher's own fires (expert_fires > 0), never observed
        if cfg.expert_fires:
            self.teacher = TeacherFires(cfg, self.backend, cfg.batch_size, self.sim_device)
        self.set_seed(0 if seed is None else int(seed))

    # ------------------------------------------------------------------------------------ seeding
    def _set_seed(self, seed: int | None) -> None:
        seed = int(seed) if seed is not None else 0
        self.rng.manual_seed(seed)
        self.source.restart(self.rng)

    # ------------------------------------------------------------------------------------ reset
    def _reset(self, tensordict: TensorDictBase | None = None, **kwargs: Any) -> TensorDictBase:
        reset = tensordict.get("_reset", None) if tensordict is not None else None
        if reset is None:
            slots = torch.arange(self.config.batch_size, device=self.sim_device)
        else:
            slots = reset.reshape(self.config.batch_size).to(self.sim_device).nonzero().squeeze(-1)
        if len(slots):
            self._new_episodes(slots)
        out = self._output(reward=None)
        if reset is not None and len(slots) < self.config.batch_size:
            # EnvBase.reset merges a partial reset as `where(~_reset, input, output, pad=0)`: an entry
            # missing from the input (a ParallelEnv worker gets only the reset and done entries) would
            # read 0 on the tiles not reset (ActionMask: an empty mask). Their state lives here: give it.
            for key in out.keys():
                if key not in tensordict.keys():
                    tensordict.set(key, out.get(key).clone())
        return out

    def _new_episodes(self, slots: torch.Tensor) -> None:
        """Draw tiles and fires for ``slots`` (int64 [n]) and simulate them without breaks."""
        cfg = self.config
        drawn, ids = self.source.draw(len(slots))
        new = TileBatch.stack(drawn, device=self.sim_device)
        for f in fields(TileBatch):
            if f.name != "cell_size_m" and getattr(new, f.name) is not None:
                getattr(self._tiles, f.name)[slots] = getattr(new, f.name)
        burnable = stack_layer(drawn, "burnable").to(self.sim_device)
        self._burnable[slots] = burnable
        self._tile_ids[slots] = torch.as_tensor(ids, dtype=torch.int64, device=self.sim_device)
        if self.tile_weather.active:  # the windows of each landscape's gridded weather
            of = [self.source.dataset.tiles[i].source for i in ids]
            for name, grid in self.tile_weather.tensors(drawn, of, self.sim_device).items():
                getattr(self._tiles, name)[slots] = grid

        values, treatable, ignition_weight = self.tile_inputs.draw(drawn, ids, self.rng)
        if self.fresh is not None:
            self.fresh.start(slots, treatable, ignition_weight)
        fires = self.fire_source.draw(burnable.cpu(), self.rng, ignition_weight).to(self.sim_device)
        for f in fields(ScenarioSet):
            getattr(self._scenarios, f.name)[slots] = getattr(fires, f.name)
        protected = torch.zeros_like(burnable).flatten(1)
        if cfg.protect_ignitions:
            protected.scatter_(1, fires.ignition_cell, True)
        if treatable is not None:  # untreatable cells never enter the action mask
            protected |= ~treatable.to(self.sim_device).flatten(1)
        self._protected[slots] = protected.view_as(burnable)
        if values is not None:
            self._values[slots] = values.to(self.sim_device)
            self._value_total[slots] = values.to(self.sim_device, torch.float64).flatten(1).sum(1)

        n_burnable = burnable.flatten(1).sum(1)
        if treatable is not None:  # the budget: a fraction of the treatable burnable cells
            n_burnable = (burnable & treatable.to(self.sim_device)).flatten(1).sum(1)
        n_open = (burnable.flatten(1) & ~protected).sum(1)
        budget = torch.clamp(torch.round(n_burnable.double() * cfg.budget_fraction).long(), min=1)
        budget = torch.minimum(budget, n_open)
        if int(budget.min()) < 1:
            raise InputError(
                f"a tile of {self.source.describe(int(ids[int(budget.argmin())]))} has no cell that can "
                "take a break (all burnable cells are ignitions or untreatable); lower fires_per_tile, "
                "raise min_burnable_fraction or widen EnvConfig.treatable"
            )
        self._budget_cells[slots] = budget
        self._burnable_ha[slots] = burnable.flatten(1).sum(1).double() * new.cell_area_ha
        self._breaks[slots] = False
        self._placed[slots] = 0
        self._steps[slots] = 0
        self._started[slots] = True

        self._landscape_obs[slots] = landscape_channels(
            burnable=burnable,
            valid=new.valid,
            fuel_model=new.fuel_model,
            elevation_m=stack_layer(drawn, "elevation_m").to(self.sim_device),
            slope_fraction=new.slope_fraction,
            aspect_deg=new.aspect_deg,
            canopy_cover_fraction=new.canopy_cover_fraction,
            canopy_height_m=new.canopy_height_m,
            canopy_base_height_m=new.canopy_base_height_m,
            canopy_bulk_density_kg_m3=new.canopy_bulk_density_kg_m3,
        ).to(self.device)

        if cfg.weather_channels:
            self._weather_obs[slots] = weather_planes(fires, tuple(burnable.shape[-2:])).to(self.device)
        self._prepare(slots)
        burned_ha = self._simulate(slots)
        self._burned_ha_no_breaks[slots] = burned_ha
        if self.teacher is not None:
            self.teacher.draw(slots, self._tiles, burnable, fires, self.rng, ignition_weight)
        if cfg.expert != "none":
            self._label(slots)
        if cfg.expert_lookahead:
            self._lookahead(slots)

    def _prepare(self, slots: torch.Tensor) -> None:
        """Let the backend precompute, once per episode, what the breaks do not change for the new
        tiles ``slots`` (sorted; the other tiles keep theirs)."""
        self._prepared = prepare_slots(self.backend, self._prepared, self._tiles, self._scenarios, slots)

    def _grow(self, slots: torch.Tensor, breaks: torch.Tensor | None = None):
        """Grow the fires of ``slots`` with their current breaks, or with ``breaks`` [n, H, W]
        (one backend call)."""
        whole = len(slots) == self.config.batch_size
        prepared = self._prepared if whole else self._prepared.index(slots)
        if breaks is None:
            breaks = self._breaks if whole else self._breaks[slots]
        return prepared, breaks, self.backend.simulate_prepared(prepared, breaks)

    def _dpv_of(self, prepared, breaks: torch.Tensor, result) -> tuple[torch.Tensor, torch.Tensor]:
        """The DPV of grown fires (:func:`fuelrl.simulators.trees.dpv`, reading the backend's
        prepared spread fields when there are any) as (the ``dpv/max`` map [n, H, W], the max [n])."""
        return self._normalised(dpv(prepared, breaks, result.arrival_min.to(self.sim_device)))

    def _simulate(self, slots: torch.Tensor) -> torch.Tensor:
        """Grow the fires of ``slots`` with their current breaks; store the burn probability, the
        expected burned area and (with the DPV channel) the DPV map; return the expected burned
        area (float64 [n], ha)."""
        prepared, breaks, result = self._grow(slots)
        expected = expected_loss(result, None, self.sim_device)
        if self._values is not None:  # expected value burned (the objective with values)
            self._value_burned[slots] = expected_loss(result, self._values[slots], self.sim_device)
        self._burn_probability[slots] = result.burn_probability().to(self.sim_device, torch.float32)
        if self._dpv is not None:
            self._dpv[slots], self._dpv_top[slots] = self._dpv_of(prepared, breaks, result)
        self._burned_ha[slots] = expected
        return expected

    def _label(self, slots: torch.Tensor, fresh: torch.Tensor | None = None) -> None:
        """The expert entries of ``slots`` from the DPV of their fires with the current breaks
        (``fresh`` [B] bool: slots whose stored DPV map was just computed with these breaks):
        ``expert_action``, its legal argmax, and ``expert_dpv``, the map on the scale of the
        observation's (stale) ``dpv/max`` channel: fresh DPV / the max of the stored map (the
        teacher's own fires: / the max of their own map)."""
        if fresh is None:
            fresh = torch.zeros(self.config.batch_size, dtype=torch.bool, device=self.sim_device)
            if self._dpv is not None:
                fresh[slots] = True
        score = torch.zeros((len(slots), *self.tile_shape), device=self.sim_device)
        top = torch.zeros(len(slots), dtype=torch.float64, device=self.sim_device)
        reuse = fresh[slots] & (self.teacher is None)  # the teacher's own fires: always grown
        if bool(reuse.any()):
            score[reuse] = self._dpv[slots[reuse]]
            top[reuse] = self._dpv_top[slots[reuse]]
        todo = slots[~reuse]
        if len(todo) and self.teacher is not None:
            score[~reuse], top[~reuse] = self._normalised(self.teacher.dpv_ha(todo, self._breaks[todo]))
        elif len(todo):
            prepared, breaks, result = self._grow(todo)
            score[~reuse], top[~reuse] = self._dpv_of(prepared, breaks, result)
        self._expert_action[slots] = greedy_labels(score, self.available()[slots])
        # the teacher's own fires: their map / its max (the observed fires' max could be near 0)
        stale_top = self._dpv_top[slots] if self._dpv is not None and self.teacher is None else top
        ratio = torch.where(stale_top > 0, top / stale_top.clamp_min(1e-12), 0.0).float().view(-1, 1, 1)
        self._expert_dpv[slots] = (score * ratio).flatten(1)

    def _lookahead(self, slots: torch.Tensor) -> None:
        """``expert_set`` of ``slots`` (just simulated and labelled): the teacher's own next
        interval from here (:func:`~fuelrl.envs.expert.lookahead_set`, starting from the fresh map
        ``_label`` stored), grown on the fires its labels use."""
        count = torch.clamp(self._budget_cells[slots] - self._placed[slots], max=self.config.simulate_every)

        def regrow(breaks: torch.Tensor) -> torch.Tensor:
            if self.teacher is not None:
                return self.teacher.dpv_ha(slots, breaks)
            prepared, breaks, result = self._grow(slots, breaks)
            return dpv(prepared, breaks, result.arrival_min.to(self.sim_device))

        score = self._expert_dpv[slots].view(-1, *self.tile_shape)
        available, breaks = self.available()[slots], self._breaks[slots]
        self._expert_set[slots] = lookahead_set(score, available, breaks, count, regrow)

    # ------------------------------------------------------------------------------------ step
    def _step(self, tensordict: TensorDictBase) -> TensorDictBase:
        cfg = self.config
        b, n = cfg.batch_size, self.num_cells
        action = tensordict.get("action").reshape(b).to(self.sim_device, torch.int64)
        if not bool(self._started.all()):
            raise RuntimeError("FireEnv.step called before reset()")
        # "_step" (rollout(break_when_all_done=True)): only these tiles take a step; the others
        # keep their state and get reward 0
        partial = tensordict.get("_step", None)
        active = (
            torch.ones(b, dtype=torch.bool, device=self.sim_device)
            if partial is None
            else partial.reshape(b).to(self.sim_device, torch.bool)
        )
        finished = (self._placed >= self._budget_cells) & active
        if bool(finished.any()):
            raise RuntimeError(
                f"FireEnv.step on finished episodes (tiles {finished.nonzero().flatten().tolist()}): "
                "reset them first (collectors and rollout() do)"
            )
        action = torch.where(active, action, 0)
        if bool(((action < 0) | (action >= n)).any()):
            raise ValueError(f"FireEnv action must be a flat cell index in [0, {n}); got {action.tolist()}")
        available = self.available()
        ok = available.gather(1, action[:, None]).squeeze(1) | ~active
        if not bool(ok.all()):
            bad = (~ok).nonzero().flatten().tolist()
            raise ValueError(
                f"FireEnv action {[int(action[i]) for i in bad]} on tiles {bad} is not a cell that can take "
                "a break (burnable, untreated, not an ignition): follow 'action_mask' (mask the policy, or "
                "put torchrl.envs.transforms.ActionMask on the env)"
            )

        count = torch.clamp(self._budget_cells - self._placed, max=cfg.breaks_per_step) * active
        self._place(action, count, available)
        self._placed += count
        self._steps += active.long()

        done = self._placed >= self._budget_cells
        simulate = active & (done | (self._steps % cfg.simulate_every == 0))
        reward = torch.zeros(b, dtype=torch.float64, device=self.sim_device)
        if bool(simulate.any()):
            slots = simulate.nonzero().squeeze(-1)
            # the drop in expected loss (burned area, or value burned: the share of the value saved);
            # fresh_fires: measured on the new fires, with the breaks of the previous simulation first
            loss = self._burned_ha if self._values is None else self._value_burned
            before = loss[slots].clone() if self.fresh is None else self.fresh.renew(self, slots)
            self._simulate(slots)
            total = self._burnable_ha if self._values is None else self._value_total.clamp_min(1e-12)
            reward[slots] = (before - loss[slots]) / total[slots]
        if cfg.expert != "none":
            live = active & ~done
            self._expert_action[done] = -1
            self._expert_dpv[done] = 0.0
            if bool(live.any()):
                self._label(live.nonzero().squeeze(-1), fresh=simulate & (self._dpv is not None))
            if cfg.expert_lookahead:  # only the states right after a simulation carry a set
                self._expert_set[active] = False
                if bool((live & simulate).any()):
                    self._lookahead((live & simulate).nonzero().squeeze(-1))
        return self._output(reward=reward)

    # ------------------------------------------------------------------------------------ output
    def _output(self, reward: torch.Tensor | None) -> TensorDictBase:
        b = self.config.batch_size
        dev = self.device
        layers = [self._breaks.float(), self._burn_probability]
        if self._dpv is not None:
            layers.append(self._dpv)
        if self._values is not None:  # "value/max", last
            top = self._values.flatten(1).amax(1).clamp_min(1e-12).view(-1, 1, 1)
            layers.append(self._values / top)
        dynamic = torch.stack(layers, dim=1).to(dev)
        budget_left = (self._budget_cells - self._placed).double() / self._budget_cells.clamp_min(1).double()
        done = (self._placed >= self._budget_cells).view(b, 1).to(dev)
        if self._weather_obs.shape[1]:  # weather planes go between the dynamic layers and dpv/max
            n_dyn = len(DYNAMIC_CHANNELS)
            dynamic = torch.cat([dynamic[:, :n_dyn], self._weather_obs, dynamic[:, n_dyn:]], dim=1)
        out = {
            "observation": torch.cat([self._landscape_obs, dynamic], dim=1),
            "budget_left": budget_left.float().view(b, 1).to(dev),
            "action_mask": self.available().to(dev),
            "burned_ha": self._burned_ha.float().view(b, 1).to(dev),
            "done": done,
            "terminated": done.clone(),
            "truncated": torch.zeros_like(done),
        }
        if self.config.expert != "none":
            out["expert_action"] = self._expert_action.to(dev)
            out["expert_dpv"] = self._expert_dpv.to(dev)
        if self.config.expert_lookahead:
            out["expert_set"] = self._expert_set.to(dev)
        if reward is not None:
            out["reward"] = reward.float().view(b, 1).to(dev)
        # keep the action spec's mask in step with the state, so env.rand_action() (and any
        # consumer of env.action_spec) only draws cells that can take a break
        self.action_spec.update_mask(out["action_mask"])
        return TensorDict(out, batch_size=self.batch_size, device=dev)
