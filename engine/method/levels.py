"""Coarse to fine: Infusion at the working size for structure and motion, then finer levels up
to the shot's own resolution for detail and grain (engine/method/pyramid.py picks the sizes).

Each level is an ``inpaint`` run of its own, an internal model trained on that level's frames
only: the coarsest from noise over the whole chain (the paper), every finer one conditioned on
the level below upsampled and starting from it partly noised (``Settings.level_plan``). The
coarsest level sees the whole region of interest (structure needs context); a finer level only
needs the texture around the hole, so it works on the hole's box grown by a tile on every side
(``finer_window``), which bounds its memory by the hole's size, not the plate's. Each level
keeps its own checkpoint, so a killed run resumes inside the level it was in. The camera's
motion, when the settings follow it, is measured once on the level nearest ``MOTION_WIDTH``
(``motion_width``) and scaled to every level (a pan scales with the level, a zoom does not),
and seen from a finer level's window (the zoom is about the frame's centre, not the window's).
"""
from __future__ import annotations

from dataclasses import replace
from typing import Callable, Optional, Sequence, Tuple

import torch

from .acceleration import Acceleration
from .camera import measure_camera
from .checkpoint import CheckpointStore
from .contrast_match import match_contrast
from .detail_match import MARGIN, match_detail
from .inpaint import InpaintResult, inpaint
from .progress import ProgressCallback, ShotMeasured
from .pyramid import upscale_video
from .settings import Settings

LevelStack = Tuple[torch.Tensor, torch.Tensor]  # video (3,T,h,w) and hole (T,h,w) of one level
MOTION_WIDTH = 256  # pixels


def inpaint_levels(
    stacks: Sequence[LevelStack],
    settings: Settings,
    device: str = "cpu",
    checkpoints: Callable[[int], Optional[CheckpointStore]] = lambda level: None,
    progress: Optional[ProgressCallback] = None,
    acceleration: Optional[Acceleration] = None,
) -> InpaintResult:
    """Fill every level of ``stacks`` (coarsest first, each the same shot at a larger size, the
    hole zeroed) in turn; the result is the last level's, (K, 3, T, h, w), its coarse contrast
    matched to the plate's around the hole when ``settings.match_contrast`` asks
    (engine/method/contrast_match.py), then its detail when ``settings.match_detail`` does
    (engine/method/detail_match.py): the regrain comes last, as in a comp, since raising the
    contrast raises some detail too (on the waves clip, preview, seed 0, detail first scored
    34.26 / 33.62 dB under still boxes / moving blobs with detail 1.23 / 1.42 against the
    truth's; last, 34.47 / 34.26 dB, detail 1.09 / 1.31)."""
    result: Optional[InpaintResult] = None
    width = motion_width(stacks) if stacks else 0
    motion = next((measure_camera(video, hole, settings, progress) for video, hole in stacks
                   if video.shape[-1] == width), None)
    for level, (video, hole) in enumerate(stacks):
        moved = None if motion is None else motion.scaled(video.shape[-1] / width)
        if result is None:
            result = inpaint(video, hole, settings, device, checkpoints(level), progress, acceleration,
                             level=level, levels=len(stacks), motion=moved)
            continue
        rows, cols = finer_window(hole, settings.tile_size)
        coarse = upscale_video(result.variants, tuple(video.shape[-2:]))[..., rows, cols].clone()  # frees the rest
        below_factor = video.shape[-1] / stacks[level - 1][0].shape[-1]
        window = inpaint(video[:, :, rows, cols], hole[:, rows, cols], settings, device, checkpoints(level), progress,
                         acceleration, coarse=coarse, level=level, levels=len(stacks), below_factor=below_factor,
                         motion=None if moved is None else moved.cropped(rows.start, cols.start),
                         corrects_prior=result.corrects_prior, prior_dropped_below=result.prior_dropped)
        del coarse
        variants = video[None].repeat(settings.variants, 1, 1, 1, 1)  # known outside the window: the hole is inside
        variants[..., rows, cols] = window.variants
        result = replace(result, variants=variants)
    if result is None:
        raise ValueError("a coarse-to-fine run needs at least one level")
    rows, cols = finer_window(stacks[-1][1], MARGIN)
    hole = stacks[-1][1][:, rows, cols]
    for asked, match in ((settings.match_contrast > 1.0, lambda fill: match_contrast(fill, hole, settings.match_contrast)),
                         (settings.match_detail > 0.0, lambda fill: match_detail(fill, hole, settings.match_detail))):
        if asked:
            matched = match(result.variants[..., rows, cols])
            result.variants[..., rows, cols] = matched.variants
            if progress is not None:
                progress(ShotMeasured(matched.describe()))
    return result


def motion_width(stacks: Sequence[LevelStack]) -> int:
    """The width of the level the camera is measured on: the largest not wider than
    MOTION_WIDTH (the finest a pan is resolved on, cheaply), else the coarsest."""
    widths = [video.shape[-1] for video, _ in stacks]
    fitting = [width for width in widths if width <= MOTION_WIDTH]
    return max(fitting) if fitting else widths[0]


def finer_window(hole: torch.Tensor, context: int) -> Tuple[slice, slice]:
    """Rows and columns of the box of ``hole`` (T,H,W) over every frame, grown by ``context``
    pixels on each side and kept inside the frame; every pixel outside it is known."""
    rows = torch.nonzero(hole.any(dim=(0, 2))).flatten()
    cols = torch.nonzero(hole.any(dim=(0, 1))).flatten()
    height, width = hole.shape[1:]
    if rows.numel() == 0:
        return slice(0, height), slice(0, width)
    return (slice(max(int(rows[0]) - context, 0), min(int(rows[-1]) + 1 + context, height)),
            slice(max(int(cols[0]) - context, 0), min(int(cols[-1]) + 1 + context, width)))
