"""Coarse to fine: Infusion at the working size for structure and motion, then finer levels up
to the shot's own resolution for detail and grain (engine/method/pyramid.py picks the sizes).

Each level is an ``inpaint`` run of its own, an internal model trained on that level's frames
only: the coarsest from noise over the whole chain (the paper), every finer one conditioned on
the level below upsampled and starting from it partly noised (``Settings.level_plan``). Each
level keeps its own checkpoint, so a killed run resumes inside the level it was in.
"""
from __future__ import annotations

from typing import Callable, Optional, Sequence, Tuple

import torch

from .acceleration import Acceleration
from .checkpoint import CheckpointStore
from .inpaint import InpaintResult, inpaint
from .progress import ProgressCallback
from .pyramid import upscale_video
from .settings import Settings

LevelStack = Tuple[torch.Tensor, torch.Tensor]  # video (3,T,h,w) and hole (T,h,w) of one level


def inpaint_levels(
    stacks: Sequence[LevelStack],
    settings: Settings,
    device: str = "cpu",
    checkpoints: Callable[[int], Optional[CheckpointStore]] = lambda level: None,
    progress: Optional[ProgressCallback] = None,
    acceleration: Optional[Acceleration] = None,
) -> InpaintResult:
    """Fill every level of ``stacks`` (coarsest first, each the same shot at a larger size, the
    hole zeroed) in turn; the result is the last level's, (K, 3, T, h, w)."""
    result: Optional[InpaintResult] = None
    for level, (video, hole) in enumerate(stacks):
        coarse = None if result is None else upscale_video(result.variants, tuple(video.shape[-2:]))
        result = inpaint(video, hole, settings, device, checkpoints(level), progress, acceleration,
                         coarse=coarse, level=level, levels=len(stacks))
    if result is None:
        raise ValueError("a coarse-to-fine run needs at least one level")
    return result
