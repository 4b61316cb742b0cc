"""How much arithmetic a step is, and how fast this device multiplies matrices: the ceiling.

``infusion bench`` divides a step's useful floating-point operations (the network's own, counted
by PyTorch's FlopCounterMode on shapeless meta tensors, so counting is instant and allocates
nothing; the oneDNN twin's wasted half is not useful work) by its time, and sets that against
the rate of a large dense matrix multiply on the same device in the same precision. A step near
that rate cannot get much faster without doing less arithmetic or using lower precision.
"""
from __future__ import annotations

from typing import Tuple

import torch
from torch.utils.flop_counter import FlopCounterMode

from ..method.model import CONDITION_CHANNELS, VIDEO_CHANNELS, UNet3D
from ..method.sampling import chunk_spans
from ..method.settings import Settings
from .timing import timed

MATMUL_SIZE = 4096


def _counted(settings: Settings, batch: int, frames: int, height: int, width: int, backward: bool) -> int:
    with torch.device("meta"):
        model = UNet3D.from_settings(settings)
        x_t = torch.empty(batch, VIDEO_CHANNELS, frames, height, width)
        condition = torch.empty(batch, CONDITION_CHANNELS, frames, height, width)
        steps = torch.zeros(batch, dtype=torch.long)
    with FlopCounterMode(display=False) as counter:
        out = model(x_t, condition, steps)
        if backward:
            out.sum().backward()
    return counter.get_total_flops()


def training_step_flops(settings: Settings, shape: Tuple[int, int, int]) -> int:
    """Forward and backward of one training step (the preset's windows per step, window and crop)
    on a shot ``shape``."""
    return _counted(settings, settings.train_batch, *settings.training_window(*shape), backward=True)


def sampling_step_flops(settings: Settings, shape: Tuple[int, int, int]) -> int:
    """One sampling step: every variant over the whole shot ``shape``, chunk by chunk if the preset chunks."""
    frames, height, width = shape
    spans = chunk_spans(frames, settings.chunk_frames, settings.chunk_overlap)
    return sum(_counted(settings, settings.variants, end - start, height, width, backward=False) for start, end in spans)


def matmul_flops_per_s(device: torch.device, dtype: torch.dtype, repeats: int = 3) -> float:
    """The best of ``repeats`` square dense multiplies of side MATMUL_SIZE on ``device`` in ``dtype``."""
    a = torch.randn(MATMUL_SIZE, MATMUL_SIZE, device=device).to(dtype)
    b = torch.randn(MATMUL_SIZE, MATMUL_SIZE, device=device).to(dtype)
    a @ b  # warm-up: library initialisation and kernel choice
    return 2 * MATMUL_SIZE ** 3 / min(timed(lambda: a @ b, device) for _ in range(repeats))
