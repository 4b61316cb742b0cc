"""Clips with known ground truth for evaluation, in the network encoding.

A clip comes from an EXR sequence (at its own resolution, or scaled so its longest side is a
given size: antialiased bilinear, engine/method/pyramid.py) or from a built-in procedural
texture (engine/measure/procedural.py, made at the given width). Linear RGB is encoded with
OpenColorIO (engine/plates/color.py) as ``infusion run`` does. ``panning_clip`` makes a camera
move of any clip: the clip seen through a window that pans and pushes in.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from ..plates.color import Encoding
from ..plates.exr import read_frame
from .procedural import TEXTURES
from ..method.pyramid import resize, working_shape
from ..plates.sequence import FramePattern, check_frame_range
from ..plates.shot import rgb_channels

PROCEDURAL_ASPECT = 0.625  # height / width of procedural clips (16:10)
PAN_STEP = (0.5, 2.0)  # (dy, dx) pixels a frame of the panning clips' window
PAN_ZOOM = 0.05  # the window narrows by this much of its size over a panning clip
PAN_WINDOW = 0.8  # the window's side, of the clip's


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


def panning_clip(clip: Clip, step: Tuple[float, float] = PAN_STEP, zoom: float = PAN_ZOOM,
                 fraction: float = PAN_WINDOW) -> Clip:
    """``clip`` seen through a moving, zooming crop window: a camera move whose truth is known.

    The window is ``fraction`` of the frame on each side; its travel is centred in the frame, it
    moves ``step`` (dy, dx) pixels a frame and narrows by ``zoom`` of its size over the
    clip (a push in), each frame read bilinearly from the clip's frame (in the encoding, where
    the pixels are stored). Returns ``NAME_pan``.
    """
    frames, height, width = clip.video.shape[:3]
    out_h, out_w = round(fraction * height), round(fraction * width)
    travel = np.abs(np.asarray(step)) * (frames - 1)
    if travel[0] > height - out_h or travel[1] > width - out_w:
        raise ValueError(f"a pan of {step} px a frame over {frames} frames leaves the {width}x{height} clip")
    video = torch.from_numpy(np.ascontiguousarray(clip.video)).permute(0, 3, 1, 2).float()
    ys, xs = torch.arange(out_h, dtype=torch.float32)[:, None], torch.arange(out_w, dtype=torch.float32)[None, :]
    room = (height - out_h, width - out_w)  # the travel is centred in it, from a whole pixel
    start = [(room[axis] - travel[axis]) // 2 + (travel[axis] if step[axis] < 0 else 0) for axis in (0, 1)]
    seen = []
    for t in range(frames):
        scale = 1.0 - zoom * t / max(frames - 1, 1)
        top, left = start[0] + step[0] * t, start[1] + step[1] * t
        cy, cx = top + out_h / 2, left + out_w / 2  # zoom about the window's centre
        row = (cy + (ys + 0.5 - out_h / 2) * scale).expand(out_h, out_w)
        col = (cx + (xs + 0.5 - out_w / 2) * scale).expand(out_h, out_w)
        grid = torch.stack([2 * col / width - 1, 2 * row / height - 1], dim=-1)[None]
        seen.append(F.grid_sample(video[t:t + 1], grid, mode="bilinear", align_corners=False)[0])
    panned = torch.stack(seen).permute(0, 2, 3, 1).numpy()
    return Clip(f"{clip.name}_pan", np.ascontiguousarray(panned))
