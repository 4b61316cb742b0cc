"""Seeded synthetic mattes for evaluation: moving blobs, still boxes, a thin moving stroke.

Each matte is a bool array (frames, height, width), True = hidden, drawn frame by frame in numpy
from a seeded generator, so the clip itself is the ground truth inside the hole. Shapes stay
inside the frame (they bounce off its edges), so the hidden fraction of every frame stays within
the kind's ``AREA_BOUNDS``. ``infusion bench`` also draws its host-side reference training masks
here.
"""
from __future__ import annotations

from typing import Callable, Dict, Tuple

import numpy as np

# Fraction of each frame hidden, (lowest, highest), per kind.
AREA_BOUNDS: Dict[str, Tuple[float, float]] = {
    "moving_blobs": (0.02, 0.20),
    "still_boxes": (0.04, 0.20),
    "thin_stroke": (0.003, 0.15),  # at least 3 pixels thick, so more on tiny frames
}


def _grid(height: int, width: int) -> Tuple[np.ndarray, np.ndarray]:
    ys, xs = np.mgrid[0:height, 0:width]
    return ys.astype(np.float32), xs.astype(np.float32)


def _bounce(start: np.ndarray, velocity: np.ndarray, frame: int, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Position at ``frame`` of a point moving from ``start`` and reflecting off [low, high]."""
    span = np.maximum(high - low, 1e-6)
    travelled = np.mod(start - low + velocity * frame, 2 * span)
    return low + np.where(travelled > span, 2 * span - travelled, travelled)


def moving_blobs(rng: np.random.Generator, frames: int, height: int, width: int) -> np.ndarray:
    """Two or three ellipses, each 1.5-5% of the frame, drifting about 1-3% of the short side a frame."""
    ys, xs = _grid(height, width)
    count = int(rng.integers(2, 4))
    short = min(height, width)
    matte = np.zeros((frames, height, width), bool)
    for _ in range(count):
        area = rng.uniform(0.015, 0.05) * height * width
        aspect = rng.uniform(0.6, 1.6)
        ry, rx = np.sqrt(area / np.pi * aspect), np.sqrt(area / np.pi / aspect)
        ry, rx = min(ry, 0.45 * height), min(rx, 0.45 * width)
        low, high = np.array([ry, rx]), np.array([height - 1 - ry, width - 1 - rx])
        start = rng.uniform(low, high)
        velocity = rng.uniform(-1.0, 1.0, 2) * rng.uniform(0.01, 0.03) * short
        for frame in range(frames):
            cy, cx = _bounce(start, velocity, frame, low, high)
            matte[frame] |= ((ys - cy) / ry) ** 2 + ((xs - cx) / rx) ** 2 <= 1.0
    return matte


def still_boxes(rng: np.random.Generator, frames: int, height: int, width: int) -> np.ndarray:
    """One or two axis-aligned boxes, each 4-10% of the frame, that never move (a logo, a sign)."""
    matte = np.zeros((height, width), bool)
    for _ in range(int(rng.integers(1, 3))):
        area = rng.uniform(0.04, 0.10) * height * width
        aspect = rng.uniform(0.5, 2.0)
        box_h = int(np.clip(round(np.sqrt(area * aspect)), 2, height - 2))
        box_w = int(np.clip(round(area / box_h), 2, width - 2))
        top, left = int(rng.integers(1, height - box_h)), int(rng.integers(1, width - box_w))
        matte[top:top + box_h, left:left + box_w] = True
    return np.repeat(matte[None], frames, axis=0)


def thin_stroke(rng: np.random.Generator, frames: int, height: int, width: int) -> np.ndarray:
    """A wavy line (a wire, a boom pole) 2% of the short side thick (3 pixels at least), sliding slowly."""
    ys, xs = _grid(height, width)
    short = min(height, width)
    half = max(1.0, 0.01 * short)
    vertical = bool(rng.integers(0, 2))
    along, across, length = (ys, xs, width) if vertical else (xs, ys, height)
    amplitude, cycles, phase = rng.uniform(0.02, 0.08) * short, rng.uniform(0.5, 1.5), rng.uniform(0, 2 * np.pi)
    margin = amplitude + half + 1
    start = rng.uniform(margin, length - 1 - margin)
    speed = rng.uniform(0.3, 0.8) * half * rng.choice([-1.0, 1.0])
    extent = along.max() + 1
    matte = np.zeros((frames, height, width), bool)
    for frame in range(frames):
        centre = _bounce(np.array(start), np.array(speed), frame, np.array(margin), np.array(length - 1 - margin))
        line = centre + amplitude * np.sin(2 * np.pi * cycles * along / extent + phase + 0.2 * frame)
        matte[frame] = np.abs(across - line) <= half
    return matte


KINDS: Dict[str, Callable[[np.random.Generator, int, int, int], np.ndarray]] = {
    "moving_blobs": moving_blobs,
    "still_boxes": still_boxes,
    "thin_stroke": thin_stroke,
}


def synthetic_matte(kind: str, frames: int, height: int, width: int, seed: int = 0) -> np.ndarray:
    """The seeded matte of ``kind`` (one of KINDS), bool (frames, height, width), True = hidden."""
    if kind not in KINDS:
        raise ValueError(f"unknown matte kind {kind!r}; choose one of {', '.join(KINDS)}")
    if min(height, width) < 8:
        raise ValueError(f"synthetic mattes need frames at least 8x8 pixels, got {height}x{width}")
    return KINDS[kind](np.random.default_rng(seed), frames, height, width)
