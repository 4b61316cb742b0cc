"""Clips with known ground truth for evaluation, in the network encoding.

A clip comes from an EXR sequence (at its own resolution, or scaled so its longest side is a
given size: antialiased bilinear, engine/method/pyramid.py) or from a built-in procedural
texture (engine/measure/procedural.py, made at the given width). Linear RGB is encoded with
OpenColorIO (engine/plates/color.py) as ``infusion run`` does.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np
import torch

from ..plates.color import Encoding
from ..plates.exr import read_frame
from .procedural import TEXTURES
from ..method.pyramid import resize, working_shape
from ..plates.sequence import FramePattern, check_frame_range
from ..plates.shot import rgb_channels

PROCEDURAL_ASPECT = 0.625  # height / width of procedural clips (16:10)


@dataclass(frozen=True)
class Clip:
    """name; video (frames, height, width, 3) float32 in the network encoding, [-1, 1]."""

    name: str
    video: np.ndarray


def _to_working_size(encoded: np.ndarray, size: int) -> np.ndarray:
    """(T, H, W, 3) encoded frames scaled so the longest side is ``size`` (never enlarged)."""
    shape = working_shape(encoded.shape[1], encoded.shape[2], size)
    frames = torch.from_numpy(np.ascontiguousarray(encoded)).permute(0, 3, 1, 2)
    return resize(frames, shape).permute(0, 2, 3, 1).clamp(-1.0, 1.0).numpy()


def procedural_clip(name: str, frames: int, size: int, encoding: Encoding, seed: int = 0) -> Clip:
    """The procedural texture ``name`` (waves, flicker, drifting_noise), ``size`` pixels wide."""
    if name not in TEXTURES:
        raise ValueError(f"unknown procedural clip {name!r}; choose from {', '.join(TEXTURES)}")
    linear = TEXTURES[name](frames, max(8, round(size * PROCEDURAL_ASPECT)), size, seed)
    return Clip(name, encoding.encode(linear))


def exr_clip(pattern: str, frames: Tuple[int, int], size: Optional[int], encoding: Encoding) -> Clip:
    """Frames ``frames`` (first, last) of the RGB of the EXR sequence ``pattern``, scaled to
    ``size`` (its longest side), or at its own resolution when ``size`` is None."""
    sequence = FramePattern.parse(pattern)
    first, last = check_frame_range(frames)
    encoded = []
    for frame in range(first, last + 1):
        plate = read_frame(sequence.path(frame))
        rgb = plate.pixels[..., list(rgb_channels(plate.spec, plate.path))]
        encoded.append(encoding.encode(rgb))
    name = sequence.head.rstrip("/._-").rsplit("/", 1)[-1] or "plate"
    video = np.stack(encoded)
    return Clip(name, video if size is None else _to_working_size(video, size))
