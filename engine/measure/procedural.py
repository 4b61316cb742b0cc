"""Built-in procedural dynamic textures in scene-linear light (the demo's shot: seascape.py).

Arrays are float32 shaped (frames, height, width, 3), seeded and cheap to make, so the evaluation
runs with no data at all.
"""
from __future__ import annotations

from typing import Callable, Dict, Tuple

import numpy as np

from .seascape import film_grain, seascape


def _grid(frames: int, height: int, width: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = np.arange(frames, dtype=np.float32)[:, None, None]
    y = np.linspace(0.0, 1.0, height, dtype=np.float32)[None, :, None]
    x = np.linspace(0.0, width / height, width, dtype=np.float32)[None, None, :]
    return t, y, x


def _tint(field: np.ndarray, dark: Tuple[float, float, float], bright: Tuple[float, float, float]) -> np.ndarray:
    """Map a field in [0, 1] to linear RGB between two colours."""
    low, high = np.asarray(dark, np.float32), np.asarray(bright, np.float32)
    return (low + field[..., None] * (high - low)).astype(np.float32)


def waves(frames: int, height: int, width: int, seed: int = 0) -> np.ndarray:
    """Water: a sum of travelling sinusoids in random directions, with bright crests."""
    rng = np.random.default_rng(seed)
    t, y, x = _grid(frames, height, width)
    field = np.zeros((frames, height, width), np.float32)
    for _ in range(6):
        angle = rng.uniform(0, 2 * np.pi)
        frequency = rng.uniform(6.0, 18.0)
        speed = rng.uniform(0.15, 0.45)
        phase = rng.uniform(0, 2 * np.pi)
        field += np.sin(frequency * (np.cos(angle) * x + np.sin(angle) * y) * 2 * np.pi / 3 - speed * t + phase)
    field = (field / 6.0 + 1.0) / 2.0
    return _tint(field ** 2.2, (0.01, 0.04, 0.08), (0.35, 0.6, 0.75))


def flicker(frames: int, height: int, width: int, seed: int = 0) -> np.ndarray:
    """Fire-like flicker: rising blobs of light whose brightness flickers over time."""
    rng = np.random.default_rng(seed)
    t, y, x = _grid(frames, height, width)
    field = np.zeros((frames, height, width), np.float32)
    for _ in range(8):
        cx, fy, fx = rng.uniform(0, width / height), rng.uniform(3, 8), rng.uniform(3, 8)
        rate, rise = rng.uniform(0.3, 0.9), rng.uniform(0.05, 0.15)
        glow = np.exp(-((x - cx) ** 2) * fx) * (0.5 + 0.5 * np.sin(fy * (y + rise * t) * np.pi))
        field += glow * (0.6 + 0.4 * np.sin(rate * t + rng.uniform(0, 2 * np.pi)))
    field = np.clip(field / field.max(), 0.0, 1.0) * (0.4 + 0.6 * y)
    return _tint(field, (0.02, 0.005, 0.0), (2.0, 0.8, 0.15))


def drifting_noise(frames: int, height: int, width: int, seed: int = 0) -> np.ndarray:
    """Foliage-like smooth noise drifting sideways, each octave at its own speed."""
    rng = np.random.default_rng(seed)
    field = np.zeros((frames, height, width), np.float32)
    for octave, speed in ((8, 0.6), (16, 1.1), (32, 1.7)):
        cells = rng.standard_normal((octave + 2, 2 * octave + 2)).astype(np.float32)
        rows = np.linspace(0, octave, height)
        for frame in range(frames):
            cols = (np.linspace(0, octave, width) + speed * frame / 8.0) % (2 * octave)
            field[frame] += _bilinear(cells, rows, cols) / octave ** 0.5
    field = (field - field.min()) / (field.max() - field.min() + 1e-6)
    return _tint(field, (0.01, 0.03, 0.005), (0.25, 0.5, 0.1))


def _bilinear(cells: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    r0, c0 = np.floor(rows).astype(int), np.floor(cols).astype(int)
    fr, fc = (rows - r0)[:, None], (cols - c0)[None, :]
    c1 = (c0 + 1) % cells.shape[1]
    top = cells[r0][:, c0] * (1 - fc) + cells[r0][:, c1] * fc
    bottom = cells[r0 + 1][:, c0] * (1 - fc) + cells[r0 + 1][:, c1] * fc
    return top * (1 - fr) + bottom * fr


def sea(frames: int, height: int, width: int, seed: int = 0) -> np.ndarray:
    """The demo's sky and sea (seascape.py) with its film grain and no buoy: deep water between
    sun glints far above 1.0, the hardest of these for a fill made in a log encoding."""
    return film_grain(seascape(frames, height, width, seed), seed + 1)


TEXTURES: Dict[str, Callable[..., np.ndarray]] = {
    "waves": waves,
    "flicker": flicker,
    "drifting_noise": drifting_noise,
    "sea": sea,
}

