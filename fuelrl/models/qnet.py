"""A fully convolutional Q-network: one Q-value per cell, for any tile size.

The network reads the env's observation ``[*, C, H, W]`` (normalised landscape channels, the break
mask, the burn-probability map) and the fraction of budget left ``[*, 1]`` (broadcast to a constant
plane), and returns ``[*, H * W]`` Q-values in the env's flat action order (``row * W + col``).

Architecture (every piece is convolutional, so one set of weights serves 16x16 and 128x128 tiles):

- stem: 3x3 convolution to ``width`` channels;
- ``blocks`` pre-activation residual blocks (GroupNorm -> SiLU -> 3x3 conv, twice) whose dilations
  cycle through ``dilations`` so the receptive field grows to cover the distance a fire travels;
- optional spatial self-attention (multi-head attention across all cells of the tile, residual),
  after the last block, for long-range interactions a stack of convolutions sees only slowly;
- a 1x1 convolution head to one value per cell.

``QNetConfig.small()`` is the low-memory variant used by ``configs/low_mem.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from fuelrl.errors import InputError


@dataclass
class QNetConfig:
    """Widths and depth of :class:`FuelBreakQNet` (a LightningCLI-friendly flat dataclass).

    Attributes:
        width: channels of every residual block.
        blocks: number of residual blocks.
        dilations: dilation of each block's convolutions, cycled over the blocks.
        attention: add one spatial self-attention block after the residual blocks.
        attention_heads: heads of that attention block (``width`` must be divisible by it).
        norm_groups: GroupNorm groups (``width`` must be divisible by it).
        dpv_residual: add ``dpv_gain`` x the last observation channel (``dpv/max``) to the output,
            the output layer initialised at zero (the untrained network is DPV-greedy).
        dpv_gain_init: the starting value of the learned ``dpv_gain``.
    """

    width: int = 64
    blocks: int = 6
    dilations: list[int] = field(default_factory=lambda: [1, 2, 4, 8])
    attention: bool = False
    attention_heads: int = 4
    norm_groups: int = 8
    #: Q = network output + ``dpv_gain`` x the last observation channel (FireEnv's ``dpv/max``), the
    #: output layer starting at zero: the untrained agent is the DPV-greedy heuristic and training
    #: learns a correction to it (``dpv_gain`` is learned, starting at ``dpv_gain_init``)
    dpv_residual: bool = False
    dpv_gain_init: float = 1.0
    #: with ``dpv_residual``: "add" (Q = output + gain x dpv/max) or "gate" (Q = dpv/max x
    #: sigmoid(3 + output): the network can only scale each cell's DPV down, e.g. where new breaks
    #: already cut its fire paths, and starts at 0.95 x DPV everywhere: the same ranking)
    dpv_mode: str = "add"

    @classmethod
    def small(cls) -> QNetConfig:
        """The low-memory variant: 32 channels, 4 blocks, no attention (about 75k parameters)."""
        return cls(width=32, blocks=4, dilations=[1, 2, 4, 8], attention=False, attention_heads=4)

    def validate(self) -> None:
        if self.width < 1 or self.blocks < 0:
            raise InputError(
                f"model.net: width must be >= 1 and blocks >= 0, got {self.width}, {self.blocks}"
            )
        if not self.dilations or any(d < 1 for d in self.dilations):
            raise InputError(f"model.net.dilations: expected positive integers, got {self.dilations}")
        if self.width % self.norm_groups:
            raise InputError(
                f"model.net.norm_groups: width {self.width} is not divisible by {self.norm_groups}"
            )
        if self.dpv_mode not in ("add", "gate"):
            raise InputError(f"model.net.dpv_mode: expected 'add' or 'gate', got {self.dpv_mode!r}")
        if self.attention and self.width % self.attention_heads:
            raise InputError(
                f"model.net.attention_heads: width {self.width} is not divisible by {self.attention_heads}"
            )


#: the gate's starting logit (``dpv_mode: gate``): sigmoid(3) = 0.95
GATE_OFFSET = 3.0


class ResidualBlock(nn.Module):
    """Pre-activation residual block: x + conv(act(norm(conv(act(norm(x))))))."""

    def __init__(self, width: int, dilation: int, norm_groups: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.GroupNorm(norm_groups, width),
            nn.SiLU(),
            nn.Conv2d(width, width, 3, padding=dilation, dilation=dilation),
            nn.GroupNorm(norm_groups, width),
            nn.SiLU(),
            nn.Conv2d(width, width, 3, padding=dilation, dilation=dilation),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class SpatialSelfAttention(nn.Module):
    """Multi-head self-attention across the cells of a tile (residual, pre-norm).

    Costs O((H W)^2) memory per head: fine for 32x32 or 64x64 tiles, leave it off for large tiles on
    small GPUs.
    """

    def __init__(self, width: int, heads: int, norm_groups: int):
        super().__init__()
        self.norm = nn.GroupNorm(norm_groups, width)
        self.attn = nn.MultiheadAttention(width, heads, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        tokens = self.norm(x).flatten(2).transpose(1, 2)  # [N, H*W, C]
        out, _ = self.attn(tokens, tokens, tokens, need_weights=False)
        return x + out.transpose(1, 2).reshape(n, c, h, w)


class FuelBreakQNet(nn.Module):
    """Q-values for placing a break on each cell.

    Args:
        in_channels: channels of the env's ``observation`` (``len(FireEnv.observation_channels)``).
        config: widths and depth (:class:`QNetConfig`).

    ``forward(observation [*, C, H, W], budget_left [*, 1] | None) -> [*, H * W]``.

    Example:
        >>> net = FuelBreakQNet(5, QNetConfig.small())
        >>> net(torch.zeros(2, 5, 16, 24), torch.ones(2, 1)).shape
        torch.Size([2, 384])
    """

    def __init__(self, in_channels: int, config: QNetConfig | None = None):
        super().__init__()
        config = config or QNetConfig()
        config.validate()
        if in_channels < 1:
            raise InputError(f"model.in_channels: expected >= 1 observation channels, got {in_channels}")
        self.in_channels = in_channels
        self.config = config
        width = config.width
        self.stem = nn.Conv2d(in_channels + 1, width, 3, padding=1)  # +1: the budget-left plane
        self.blocks = nn.Sequential(
            *(
                ResidualBlock(width, config.dilations[i % len(config.dilations)], config.norm_groups)
                for i in range(config.blocks)
            )
        )
        self.attention = (
            SpatialSelfAttention(width, config.attention_heads, config.norm_groups)
            if config.attention
            else None
        )
        self.head = nn.Sequential(
            nn.GroupNorm(config.norm_groups, width),
            nn.SiLU(),
            nn.Conv2d(width, width // 2 or 1, 1),
            nn.SiLU(),
            nn.Conv2d(width // 2 or 1, 1, 1),
        )
        if config.dpv_residual:
            last = self.head[-1]
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)
            self.dpv_gain = nn.Parameter(torch.tensor(float(config.dpv_gain_init)))
        else:
            self.dpv_gain = None

    def combine_dpv(self, out: torch.Tensor, dpv: torch.Tensor) -> torch.Tensor:
        """Q from the head's output and the ``dpv/max`` channel (same shape) of a DPV-residual net:
        ``out + dpv_gain x dpv`` ("add") or ``dpv x sigmoid(3 + out)`` ("gate")."""
        if self.config.dpv_mode == "gate":
            return dpv * torch.sigmoid(out + GATE_OFFSET)
        return out + self.dpv_gain * dpv

    def forward(self, observation: torch.Tensor, budget_left: torch.Tensor | None = None) -> torch.Tensor:
        if observation.dim() < 4 or observation.shape[-3] != self.in_channels:
            raise ValueError(
                f"observation: expected [*, {self.in_channels}, H, W], got {tuple(observation.shape)}"
            )
        lead = observation.shape[:-3]
        c, h, w = observation.shape[-3:]
        x = observation.reshape(-1, c, h, w)
        if budget_left is None:
            plane = x.new_ones(x.shape[0], 1, h, w)
        else:
            plane = budget_left.reshape(-1, 1, 1, 1).to(x.dtype).expand(x.shape[0], 1, h, w)
        x = self.stem(torch.cat([x, plane], dim=1))
        x = self.blocks(x)
        if self.attention is not None:
            x = self.attention(x)
        q = self.head(x)
        if self.dpv_gain is not None:  # the heuristic plus a learned correction
            q = self.combine_dpv(q, observation.reshape(-1, c, h, w)[:, -1:].to(q.dtype))
        return q.reshape(*lead, h * w)


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
