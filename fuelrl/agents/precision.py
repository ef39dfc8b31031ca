"""Resolve a Trainer ``precision`` to one the machine can run, with a notice instead of a crash.

Configs name the precision a profile wants on its target GPU (``16-mixed`` for a 4 GB card,
``bf16-mixed`` for an A100/H100); on a machine that cannot run it the trainer uses the nearest one
that works and logs why, so every config also runs on a CPU-only machine:

==============  =========================  ==========================================
requested       CUDA                       CPU
==============  =========================  ==========================================
``32``          ``32``                     ``32``
``16-mixed``    ``16-mixed``               ``32`` (fp16 autocast is a GPU feature)
``bf16-mixed``  ``bf16-mixed`` if the GPU  ``bf16-mixed`` (CPU autocast supports bf16)
                supports bf16, else
                ``16-mixed``
``*-true``      kept                       ``32`` for ``16-true``; ``bf16-true`` kept
==============  =========================  ==========================================
"""

from __future__ import annotations

import logging

import torch

log = logging.getLogger(__name__)

_ALIASES = {
    "32": "32-true",
    "32-true": "32-true",
    "16": "16-mixed",
    "16-mixed": "16-mixed",
    "bf16": "bf16-mixed",
    "bf16-mixed": "bf16-mixed",
    "16-true": "16-true",
    "bf16-true": "bf16-true",
    "64": "64-true",
    "64-true": "64-true",
}


def _uses_cuda(accelerator: str | None) -> bool:
    accelerator = (accelerator or "auto").lower()
    if accelerator in ("cuda", "gpu"):
        return True
    if accelerator == "auto":
        return torch.cuda.is_available()
    return False


def resolve_precision(
    requested: str | int | None, accelerator: str | None = "auto"
) -> tuple[str | None, str | None]:
    """Return ``(precision, notice)``; ``notice`` is None when the request is kept as is."""
    if requested is None:
        return None, None
    name = _ALIASES.get(str(requested))
    if name is None:
        return str(requested), None  # let Lightning report an unknown value
    cuda = _uses_cuda(accelerator) and torch.cuda.is_available()
    resolved = name
    if cuda:
        if name in ("bf16-mixed", "bf16-true") and not torch.cuda.is_bf16_supported():
            resolved = "16-mixed"
    else:
        if name in ("16-mixed", "16-true"):
            resolved = "32-true"
    if resolved == name:
        return str(requested), None
    where = f"CUDA device {torch.cuda.get_device_name()}" if cuda else "CPU"
    notice = f"precision {requested!s} cannot run on this {where}; using {resolved} instead"
    return resolved, notice
