"""Local rescoring of a Q-network after each placed break (for the agent planner).

After a whole pass, :class:`LocalQ` keeps every layer's activations and GroupNorm statistics;
after a break it recomputes, layer by layer, only the activations the break can reach (a 3 x 3
square after the first layer, growing to (2R + 1)^2 at the output). With the statistics and
``budget_left`` of the last whole pass held fixed, the update is exact (tests/baselines).

Precision: the layers run in the dtype of the network given as ``layers`` (default the Q-network
itself, float32). :func:`low_precision_copy` makes a bfloat16 copy: on a CPU with native bfloat16
(AVX512-BF16 / AMX) or a GPU a whole pass is about 2-4x faster, at about 0.5 % of the Q range
(docs/performance.md); the DPV-residual sum, the input and the Q map stay float32.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def receptive_radius(qnet: Any) -> int:
    """Cells from a cell whose inputs can reach its Q-value: 1 (stem) + 2 x dilation per block."""
    cfg = qnet.config
    return 1 + sum(2 * cfg.dilations[i % len(cfg.dilations)] for i in range(cfg.blocks))


def _is_conv(m: Any, kernel: int) -> bool:
    return (
        isinstance(m, nn.Conv2d)
        and tuple(m.kernel_size) == (kernel, kernel)
        and tuple(m.stride) == (1, 1)
        and m.groups == 1
        and m.padding_mode == "zeros"
        and tuple(m.padding) == (m.dilation[0] * (kernel // 2), m.dilation[1] * (kernel // 2))
        and m.dilation[0] == m.dilation[1]
    )


def supports_local_rescoring(qnet: Any) -> bool:
    """Whether ``qnet`` is the layer sequence :class:`LocalQ` replays: a 3x3 stem, pre-activation
    residual blocks (GroupNorm, SiLU, 3x3 conv, twice), no attention, a GroupNorm/SiLU/1x1 head."""
    try:
        if getattr(qnet, "attention", None) is not None or not _is_conv(qnet.stem, 3):
            return False
        for block in qnet.blocks:
            b = list(block.body)
            kinds = (nn.GroupNorm, nn.SiLU, nn.Conv2d, nn.GroupNorm, nn.SiLU, nn.Conv2d)
            if len(b) != 6 or not all(isinstance(m, k) for m, k in zip(b, kinds, strict=True)):
                return False
            if not (_is_conv(b[2], 3) and _is_conv(b[5], 3)):
                return False
        h = list(qnet.head)
        kinds = (nn.GroupNorm, nn.SiLU, nn.Conv2d, nn.SiLU, nn.Conv2d)
        return (
            len(h) == 5
            and all(isinstance(m, k) for m, k in zip(h, kinds, strict=True))
            and _is_conv(h[2], 1)
            and _is_conv(h[4], 1)
        )
    except (AttributeError, TypeError):
        return False


#: the precisions the layers may run in (``--agent-precision``)
PRECISIONS = {"float32": torch.float32, "bfloat16": torch.bfloat16}


def low_precision_copy(qnet: nn.Module, dtype: torch.dtype) -> nn.Module:
    """A copy of ``qnet`` whose parameters are ``dtype``, to pass to :class:`LocalQ` as ``layers``."""
    import copy

    return copy.deepcopy(qnet).to(dtype).eval()


def _group_norm_affine(gn: nn.GroupNorm, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """GroupNorm of ``x`` [1, C, H, W] as a per-channel ``scale``, ``shift`` [1, C, 1, 1], with its
    statistics taken from ``x`` (what ``gn(x)`` computes; in float32 whatever ``x``'s dtype), to be
    reused on crops of ``x``."""
    n, c = x.shape[:2]
    g = gn.num_groups
    var, mean = torch.var_mean(x.reshape(n, g, -1).float(), dim=-1, unbiased=False)
    inv = torch.rsqrt(var + gn.eps).repeat_interleave(c // g, dim=1)  # [1, C]
    mean = mean.repeat_interleave(c // g, dim=1)
    scale = inv * gn.weight.float() if gn.weight is not None else inv
    shift = (gn.bias.float() if gn.bias is not None else 0.0) - mean * scale
    return scale.to(x.dtype).view(n, c, 1, 1), shift.to(x.dtype).view(n, c, 1, 1)


class LocalQ:
    """Q-values of one window (the whole landscape, or one tile) with exact local updates.

    ``x_in`` [1, C + 1, H, W] is the network's input (observation channels + the budget-left
    plane). The constructor runs the whole network once, keeping every block's activations and each
    GroupNorm's statistics (``norms``, taken from the kept activations when first asked for; pass
    those of another instance to reuse them). :meth:`update` sets cells of one input channel and
    recomputes, layer by layer, only the activations those cells can reach (the ``norms`` held
    fixed), so ``q`` stays equal to a whole pass with those statistics. ``layers``: the network
    whose layers compute (default ``qnet``; :func:`low_precision_copy` for bfloat16).
    """

    def __init__(self, qnet: Any, x_in: torch.Tensor, norms: list | None = None, layers: Any = None):
        self.qnet = qnet
        net = qnet if layers is None else layers
        self.dtype = net.stem.weight.dtype
        self.stem = net.stem
        self.x_in = x_in
        self.h, self.w = x_in.shape[-2:]
        self.bodies = [list(b.body) for b in net.blocks]
        self.head = list(net.head)
        gain = getattr(qnet, "dpv_gain", None)
        self.gain = None if gain is None else gain.detach()
        self._norms: list | None = norms
        k = 0

        def norm(gn: nn.GroupNorm, x: torch.Tensor) -> torch.Tensor:
            nonlocal k
            k += 1
            if norms is None:  # the fused GroupNorm; its statistics are taken later, if asked
                return F.silu(F.group_norm(x, gn.num_groups, gn.weight, gn.bias, gn.eps), inplace=True)
            scale, shift = norms[k - 1]
            return F.silu(torch.addcmul(shift, x, scale), inplace=True)

        # channels-last memory: the whole pass's convolutions about 1.7x faster on a CPU
        self.xs = [self.stem(x_in.to(self.dtype).contiguous(memory_format=torch.channels_last))]
        self.hs = []
        for b in self.bodies:
            x = self.xs[-1]
            hmid = b[2](norm(b[0], x))
            self.hs.append(hmid)
            self.xs.append(x + b[5](norm(b[3], hmid)))
        self.q = self._head(self.xs[-1], self.x_in, norm(self.head[0], self.xs[-1]))

    @property
    def norms(self) -> list:
        """(scale, shift) of each GroupNorm, in order, from the whole pass's activations (taken on
        first use, before any :meth:`refresh` changes them)."""
        if self._norms is None:
            gns = [gn for b in self.bodies for gn in (b[0], b[3])] + [self.head[0]]
            ins = [a for pair in zip(self.xs[:-1], self.hs, strict=True) for a in pair] + [self.xs[-1]]
            self._norms = [_group_norm_affine(gn, x) for gn, x in zip(gns, ins, strict=True)]
        return self._norms

    def _head(self, x: torch.Tensor, x_in: torch.Tensor, act: torch.Tensor) -> torch.Tensor:
        """[H', W'] float32 Q-values from the last block's activations (``act``: its normalised
        SiLU); the DPV-residual sum in float32 whatever the layers' precision."""
        q = self.head[4](F.silu(self.head[2](act)))[0, 0].float()
        if self.gain is not None:  # DPV-residual: Q from the correction and the dpv/max channel
            q = self.qnet.combine_dpv(q, x_in[0, -2])
        return q

    def _expand(self, box: tuple[int, int, int, int], by: int) -> tuple[int, int, int, int]:
        r0, r1, c0, c1 = box
        return max(r0 - by, 0), min(r1 + by, self.h), max(c0 - by, 0), min(c1 + by, self.w)

    def _conv_at(self, conv: nn.Conv2d, src: torch.Tensor, out: tuple, norm: tuple | None) -> torch.Tensor:
        """``conv`` of ``src`` (normalised + SiLU with the frozen ``norm`` first) on the box ``out``,
        zero-padded at the window's edge exactly as the whole pass pads."""
        p = conv.padding[0]
        r0, r1, c0, c1 = out
        a0, a1, b0, b1 = max(r0 - p, 0), min(r1 + p, self.h), max(c0 - p, 0), min(c1 + p, self.w)
        crop = src[:, :, a0:a1, b0:b1].to(self.dtype)
        if norm is not None:
            crop = F.silu(torch.addcmul(norm[1], crop, norm[0]), inplace=True)
        pads = (b0 - (c0 - p), (c1 + p) - b1, a0 - (r0 - p), (r1 + p) - a1)
        if any(pads):
            crop = F.pad(crop, pads)
        return F.conv2d(crop, conv.weight, conv.bias, dilation=conv.dilation)

    def update(self, channel: int, rows: np.ndarray, cols: np.ndarray, value: float = 1.0) -> tuple:
        """Set input ``channel`` to ``value`` at the cells (``rows``, ``cols``) (window coordinates)
        and recompute what they reach. Returns the box (r0, r1, c0, c1) of Q-values that changed."""
        rows, cols = np.asarray(rows), np.asarray(cols)
        self.x_in[0, channel, rows, cols] = value
        return self.refresh((int(rows.min()), int(rows.max()) + 1, int(cols.min()), int(cols.max()) + 1))

    def refresh(self, changed: tuple[int, int, int, int]) -> tuple:
        """Recompute what the input cells in the box ``changed`` (r0, r1, c0, c1) reach, after they
        were written to ``x_in``; returns the box of Q-values that changed. Exact for several boxes
        refreshed one after the other, provided every input was written before the first refresh
        (each layer's cells are recomputed from the layer below, correct outside any later box)."""
        norms = self.norms  # taken before this refresh changes the activations
        box = self._expand(changed, self.stem.padding[0])
        r0, r1, c0, c1 = box
        self.xs[0][:, :, r0:r1, c0:c1] = self._conv_at(self.stem, self.x_in, box, None)
        k = 0
        for i, b in enumerate(self.bodies):
            mid = self._expand(box, b[2].padding[0])
            r0, r1, c0, c1 = mid
            self.hs[i][:, :, r0:r1, c0:c1] = self._conv_at(b[2], self.xs[i], mid, norms[k])
            box = self._expand(mid, b[5].padding[0])
            r0, r1, c0, c1 = box
            self.xs[i + 1][:, :, r0:r1, c0:c1] = self.xs[i][:, :, r0:r1, c0:c1] + self._conv_at(
                b[5], self.hs[i], box, norms[k + 1]
            )
            k += 2
        r0, r1, c0, c1 = box
        x = self.xs[-1][:, :, r0:r1, c0:c1]
        scale, shift = norms[k]
        act = F.silu(torch.addcmul(shift, x, scale), inplace=True)
        self.q[r0:r1, c0:c1] = self._head(x, self.x_in[:, :, r0:r1, c0:c1], act)
        return box


class _one_thread:
    """Run torch on one CPU thread inside the block: the local updates are many small convolutions,
    for which extra threads only add synchronisation (badly so on a shared, loaded machine)."""

    def __init__(self, device: torch.device):
        self.cpu = torch.device(device).type == "cpu"
        self.threads = torch.get_num_threads()

    def __enter__(self) -> None:
        if self.cpu:
            torch.set_num_threads(1)

    def __exit__(self, *exc: Any) -> None:
        if self.cpu:
            torch.set_num_threads(self.threads)
