"""Simple fills to compare Infusion with: per-frame OpenCV inpainting and two temporal copies.

Every baseline takes the video (frames, height, width, 3) float32 and the hole (frames, height,
width) bool, True = unknown, and returns the video with the hole filled, every other pixel
unchanged. Nothing under the hole is read.

- ``telea`` and ``navier_stokes``: OpenCV's ``cv2.inpaint`` (radius 3) on each frame alone,
  channel by channel, as 16-bit levels spanning the frame's visible values (the optional
  ``eval`` extra; ``available`` tells whether OpenCV is there).
- ``temporal_median``: each hidden pixel takes the median of its visible values over the clip.
- ``nearest_visible``: each hidden pixel takes its value in the nearest frame where it is
  visible (the earlier frame on a tie).

A pixel hidden in every frame has no temporal source; the temporal baselines give it the median
colour of all visible pixels of the clip (a flat fill: they have nothing better).
"""
from __future__ import annotations

from typing import Callable, Dict

import numpy as np

try:
    import cv2
except ImportError:  # the optional eval extra is not installed
    cv2 = None

RADIUS = 3  # pixels of neighbourhood for cv2.inpaint
UINT16_MAX = 65535


def _opencv(video: np.ndarray, hole: np.ndarray, flag: str) -> np.ndarray:
    if cv2 is None:
        raise ValueError("OpenCV baselines need the eval extra: pip install 'infusion-compositors[eval]'")
    out = video.astype(np.float32, copy=True)
    for frame in range(video.shape[0]):
        mask = hole[frame].astype(np.uint8)
        if not mask.any() or mask.all():
            continue
        for channel in range(video.shape[3]):
            plane = video[frame, ..., channel]
            known = plane[~hole[frame]]
            low, span = float(known.min()), max(float(known.max() - known.min()), 1e-12)
            # 16-bit: OpenCV's float Telea extrapolates gradients without bound; integers saturate.
            levels = np.round(np.clip((plane - low) / span, 0.0, 1.0) * UINT16_MAX).astype(np.uint16)
            filled = cv2.inpaint(np.where(hole[frame], 0, levels).astype(np.uint16), mask, RADIUS, getattr(cv2, flag))
            out[frame, ..., channel] = low + filled.astype(np.float32) * (span / UINT16_MAX)
    return np.where(hole[..., None], out, video).astype(np.float32)


def telea(video: np.ndarray, hole: np.ndarray) -> np.ndarray:
    return _opencv(video, hole, "INPAINT_TELEA")


def navier_stokes(video: np.ndarray, hole: np.ndarray) -> np.ndarray:
    return _opencv(video, hole, "INPAINT_NS")


def _never_visible_fill(video: np.ndarray, hole: np.ndarray, filled: np.ndarray) -> np.ndarray:
    """``filled`` with pixels hidden in every frame set to the median visible colour of the clip."""
    never = hole.all(axis=0)
    if never.any():
        filled[:, never] = np.median(video[~hole], axis=0)
    return filled


def temporal_median(video: np.ndarray, hole: np.ndarray) -> np.ndarray:
    hidden = np.where(hole[..., None], np.nan, video.astype(np.float64))
    visible = ~hole.all(axis=0)
    median = np.zeros(video.shape[1:], np.float64)
    median[visible] = np.nanmedian(hidden[:, visible], axis=0)
    filled = np.where(hole[..., None], median[None], video).astype(np.float32)
    return _never_visible_fill(video, hole, filled)


def nearest_visible(video: np.ndarray, hole: np.ndarray) -> np.ndarray:
    frames = video.shape[0]
    rows, cols = np.indices(hole.shape[1:])
    filled = video.astype(np.float32, copy=True)
    for frame in range(frames):
        # Distance from this frame to every frame where each pixel is visible; ties go earlier.
        distance = np.where(~hole, np.abs(np.arange(frames) - frame)[:, None, None], frames + 1)
        copied = video[distance.argmin(axis=0), rows, cols]
        filled[frame] = np.where(hole[frame][..., None], copied, video[frame])
    return _never_visible_fill(video, hole, filled)


Baseline = Callable[[np.ndarray, np.ndarray], np.ndarray]


def available() -> Dict[str, Baseline]:
    """The baselines this environment can run, by name (OpenCV ones only with OpenCV)."""
    methods: Dict[str, Baseline] = {}
    if cv2 is not None:
        methods.update(telea=telea, navier_stokes=navier_stokes)
    methods.update(temporal_median=temporal_median, nearest_visible=nearest_visible)
    return methods
