"""The resolutions of a coarse-to-fine run and the scaling between them.

Level 0 is the working size (the longest side ``settings.working_size``, never enlarged); each
finer level is at most ``settings.refine_factor`` times the one below, and the last is the shot's
own resolution. How many finer levels there are follows from the shot: as few as the factor
allows, at most ``settings.refine_levels`` (0: the paper, a single level, scaled up afterwards).

Scaling down never lets a hidden pixel reach a known one: known pixels are averaged with their
own weights only (normalised convolution), and a small pixel is unknown if any pixel it is made
of is.
"""
from __future__ import annotations

import math
from typing import List, Tuple

import torch
import torch.nn.functional as F

from .settings import Settings

Shape = Tuple[int, int]


def working_shape(height: int, width: int, working_size: int) -> Shape:
    """(height, width) scaled so the longest side is ``working_size``; never enlarged."""
    scale = min(1.0, working_size / max(height, width))
    return max(1, round(height * scale)), max(1, round(width * scale))


def level_shapes(height: int, width: int, settings: Settings) -> List[Shape]:
    """(height, width) of every level, coarsest first; the last is (height, width) itself when
    finer levels are on and the working size is smaller than the shot."""
    coarse = working_shape(height, width, settings.working_size)
    ratio = max(height, width) / max(coarse)
    if settings.refine_levels == 0 or ratio <= 1.0:
        return [coarse]
    count = min(settings.refine_levels, max(1, math.ceil(math.log(ratio) / math.log(settings.refine_factor) - 1e-9)))
    shapes = [coarse]
    for level in range(1, count):
        scale = ratio ** (level / count) / ratio  # geometric steps from the working size to the shot's
        shapes.append((max(1, round(height * scale)), max(1, round(width * scale))))
    return shapes + [(height, width)]


def resize(images: torch.Tensor, shape: Shape) -> torch.Tensor:
    """(N, C, H, W) float to (N, C, *shape): antialiased bilinear; the same tensor if no change."""
    if tuple(images.shape[-2:]) == tuple(shape):
        return images
    return F.interpolate(images, size=shape, mode="bilinear", align_corners=False, antialias=True)


def shrink_hole(hole: torch.Tensor, shape: Shape) -> torch.Tensor:
    """(N, H, W) bool to (N, *shape): a small pixel is unknown if any pixel it is made of is."""
    if tuple(hole.shape[-2:]) == tuple(shape):
        return hole
    return resize(hole[:, None].float(), shape)[:, 0] > 0


def scale_known(images: torch.Tensor, hole: torch.Tensor, shape: Shape) -> Tuple[torch.Tensor, torch.Tensor]:
    """(N, C, H, W) images and (N, H, W) hole to ``shape``: known pixels from known pixels only
    (hidden ones weigh nothing), the hole shrunk with ``shrink_hole`` and zero in the images."""
    small_hole = shrink_hole(hole, shape)
    if tuple(images.shape[-2:]) == tuple(shape):
        return torch.where(small_hole[:, None], torch.zeros((), dtype=images.dtype), images), small_hole
    known = (~hole[:, None]).to(images.dtype)
    weight = resize(known, shape)
    scaled = resize(images * known, shape) / weight.clamp_min(1e-6)
    return torch.where(small_hole[:, None], torch.zeros((), dtype=images.dtype), scaled), small_hole


def upscale_video(video: torch.Tensor, shape: Shape) -> torch.Tensor:
    """(..., C, T, h, w) to (..., C, T, *shape), bicubic, frame by frame. Bilinear's kinks at
    every source pixel, after two levels of it, left a fine grid of detail at a period of 4 px in
    smooth fills (the waves clip's detail, in time-averaged Laplacian energy, rose and fell by 3x
    along every row and column)."""
    lead, (channels, frames, height, width) = video.shape[:-4], video.shape[-4:]
    if (height, width) == tuple(shape):
        return video
    flat = video.reshape(-1, channels, frames, height, width).permute(0, 2, 1, 3, 4).reshape(-1, channels, height, width)
    scaled = F.interpolate(flat, size=shape, mode="bicubic", align_corners=False)
    return scaled.reshape(-1, frames, channels, *shape).permute(0, 2, 1, 3, 4).reshape(*lead, channels, frames, *shape)


def degrade(video: torch.Tensor, factor: float) -> torch.Tensor:
    """(B,C,T,H,W) as a level ``factor`` times smaller delivers it: scaled down, then back up."""
    batch, channels, frames, height, width = video.shape
    if factor <= 1.0:
        return video
    small = (max(1, round(height / factor)), max(1, round(width / factor)))
    flat = video.permute(0, 2, 1, 3, 4).reshape(batch * frames, channels, height, width)
    down = resize(flat, small).reshape(batch, frames, channels, *small).permute(0, 2, 1, 3, 4)
    return upscale_video(down, (height, width))
