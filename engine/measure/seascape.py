"""The demo's shot: a procedural seascape at a compositor's size, a buoy drifting across it, film grain.

Everything is in scene-linear light, float32, seeded and made in seconds with numpy, so the demo
needs no data: a sky with clouds drifting, a sea of deep-water waves seen in perspective (each
wave moves at its own speed, ``omega = sqrt(g k)``, and fades out before it would alias), sun
glints far above 1.0, a red buoy bobbing as it drifts, its reflection, and per-frame grain that
is stronger in the brights. The buoy's roto matte covers buoy, pole and reflection with a soft
edge, as an artist would draw it.
"""
from __future__ import annotations

from typing import Tuple

import numpy as np

FRAME_RATE = 24.0
GRAVITY = 9.81  # m/s^2: deep-water waves move at omega = sqrt(g k)
REFERENCE_WIDTH = 960.0  # sizes below are in pixels of a 960 px wide frame and scale with the width
HORIZON = 0.34  # of the height
NEAREST_DEPTH = 3.0  # metres from the camera to the water at the bottom row
WAVES = 24
ALIAS_LIMIT = 0.08  # cycles per pixel where a wave starts to fade out (gone at twice that)

ZENITH = np.array([0.12, 0.24, 0.55], np.float32)
HAZE = np.array([0.62, 0.70, 0.80], np.float32)
CLOUD = np.array([0.95, 0.93, 0.90], np.float32)
DEEP_WATER = np.array([0.004, 0.022, 0.035], np.float32)
SUN = np.array([6.0, 5.4, 4.6], np.float32)
BUOY_RED = np.array([0.55, 0.045, 0.03], np.float32)
BUOY_WHITE = np.array([0.85, 0.83, 0.80], np.float32)
POLE = np.array([0.03, 0.03, 0.03], np.float32)
TOPMARK = np.array([0.9, 0.6, 0.02], np.float32)


def _value_noise(rng: np.random.Generator, height: int, width: int, cell: int) -> np.ndarray:
    """Smooth noise: a random grid every ``cell`` pixels, smoothstep-interpolated."""
    grid = rng.standard_normal((height // cell + 3, width // cell + 3)).astype(np.float32)
    rows, cols = np.arange(height, dtype=np.float32) / cell, np.arange(width, dtype=np.float32) / cell
    r0, c0 = rows.astype(int), cols.astype(int)
    fr, fc = rows - r0, cols - c0
    fr, fc = (fr * fr * (3 - 2 * fr))[:, None], (fc * fc * (3 - 2 * fc))[None, :]
    top = grid[r0][:, c0] * (1 - fc) + grid[r0][:, c0 + 1] * fc
    bottom = grid[r0 + 1][:, c0] * (1 - fc) + grid[r0 + 1][:, c0 + 1] * fc
    return top * (1 - fr) + bottom * fr


def _sky(rng: np.random.Generator, frames: int, rows: int, width: int, scale: float) -> np.ndarray:
    """(frames, rows, width, 3): a gradient to the horizon haze, clouds drifting right."""
    drift = 0.8 * scale  # pixels a frame
    span = width + int(np.ceil(drift * frames)) + 2
    octaves = ((160, 1.0), (64, 0.5), (24, 0.25), (8, 0.12))
    cover = sum(weight * _value_noise(rng, rows, span, max(2, round(cell * scale))) for cell, weight in octaves)
    cover = np.clip((cover - 0.2) * 1.2, 0, 1) ** 1.5
    height = np.linspace(0, 1, rows, dtype=np.float32)[:, None, None]
    ground = ZENITH + (HAZE - ZENITH) * height ** 2.5
    sky = np.empty((frames, rows, width, 3), np.float32)
    for t in range(frames):
        start = span - width - 1 - drift * t
        left = int(np.floor(start))
        frac = start - left
        cloud = (cover[:, left:left + width] * (1 - frac) + cover[:, left + 1:left + 1 + width] * frac)[..., None]
        sky[t] = ground * (1 - cloud) + CLOUD * cloud
    return sky


def _sea(rng: np.random.Generator, frames: int, rows: int, width: int) -> np.ndarray:
    """(frames, rows, width, 3): the sky's haze reflected by waves, sun glints, deep water between."""
    distance = np.arange(rows, dtype=np.float32) + 0.5  # rows below the horizon
    depth = rows * NEAREST_DEPTH / distance  # metres to the water seen on each row
    xs = np.arange(width, dtype=np.float32) - width / 2
    ground_x, ground_z = xs[None, :] * depth[:, None] / width, np.repeat(depth[:, None], width, 1)
    metres_per_row, metres_per_column = depth / distance, depth / width
    waves = []
    for _ in range(WAVES):
        wavelength = float(np.exp(rng.uniform(np.log(0.06), np.log(2.0))))
        k = 2 * np.pi / wavelength
        heading = np.pi / 2 + rng.uniform(-1.2, 1.2)  # mostly towards the camera
        kx, kz = k * np.cos(heading), k * np.sin(heading)
        cycles_per_pixel = np.maximum(abs(kx) * metres_per_column, abs(kz) * metres_per_row) / (2 * np.pi)
        fade = np.clip(2.0 - cycles_per_pixel / ALIAS_LIMIT, 0, 1)[:, None].astype(np.float32)
        waves.append((kx, kz, np.sqrt(GRAVITY * k) / FRAME_RATE, 0.012 * wavelength * fade, rng.uniform(0, 2 * np.pi)))
    near = (distance / distance[-1])[:, None]
    haze_reflected = 0.75 * (1 - near) ** 3 + 0.04  # grazing rows reflect more of the sky
    glitter_path = np.exp(-((xs[None, :] / width - 0.18) / 0.22) ** 2)
    sea = np.empty((frames, rows, width, 3), np.float32)
    for t in range(frames):
        slope_x, slope_z = np.zeros_like(ground_x), np.zeros_like(ground_x)
        for kx, kz, omega, amplitude, phase in waves:
            cosine = amplitude * np.cos(kx * ground_x + kz * ground_z - omega * t + phase)
            slope_x += kx * cosine
            slope_z += kz * cosine
        reflected = np.clip(haze_reflected + 1.2 * slope_z, 0, 1)
        glint = np.clip(slope_z - 0.5 * np.abs(slope_x - 0.15 * xs[None, :] / width) - 0.10, 0, None) ** 2
        glint *= 400.0 * glitter_path * (1 - 0.6 * near)
        sea[t] = DEEP_WATER + (HAZE - DEEP_WATER) * reflected[..., None] + SUN * glint[..., None]
    return sea


def seascape(frames: int, height: int, width: int, seed: int = 0) -> np.ndarray:
    """Sky and sea, (frames, height, width, 3) linear RGB, no grain."""
    rng = np.random.default_rng(seed)
    horizon = round(HORIZON * height)
    return np.concatenate([_sky(rng, frames, horizon, width, width / REFERENCE_WIDTH),
                           _sea(rng, frames, height - horizon, width)], axis=1)


def film_grain(plate: np.ndarray, seed: int = 0, strength: float = 0.03) -> np.ndarray:
    """``plate`` with fresh grain every frame: slightly soft, its deviation growing as sqrt(value)."""
    rng = np.random.default_rng(seed)
    grained = plate.copy()
    for frame in grained:
        noise = rng.standard_normal(frame.shape).astype(np.float32)
        noise = 0.5 * noise + 0.125 * (np.roll(noise, 1, 0) + np.roll(noise, -1, 0)
                                       + np.roll(noise, 1, 1) + np.roll(noise, -1, 1))
        frame += strength * noise * np.sqrt(np.maximum(frame, 0) + 0.002)
    return grained


def _ellipse(ys: np.ndarray, xs: np.ndarray, cy: float, cx: float, ry: float, rx: float) -> np.ndarray:
    """Approximate signed distance in pixels to an ellipse (negative inside)."""
    return (np.sqrt(((ys - cy) / ry) ** 2 + ((xs - cx) / rx) ** 2) - 1) * min(ry, rx)


def _box(ys: np.ndarray, xs: np.ndarray, top: float, bottom: float, left: float, right: float) -> np.ndarray:
    """Signed distance in pixels to an axis-aligned box (the inside's is a lower bound)."""
    return np.maximum(np.maximum(top - ys, ys - bottom), np.maximum(left - xs, xs - right))


def _draw_buoy(frame: np.ndarray, cy: float, cx: float, size: float) -> np.ndarray:
    """Paint the buoy into ``frame`` (H, W, 3) around (cy, cx) at the waterline; return its signed distance."""
    ys, xs = np.mgrid[0:frame.shape[0], 0:frame.shape[1]].astype(np.float32)
    radius = 24 * size
    body = np.maximum(_ellipse(ys, xs, cy - 0.35 * radius, cx, radius, radius), ys - cy)  # cut at the waterline
    pole = _box(ys, xs, cy - 3.2 * radius, cy - radius, cx - 2 * size, cx + 2 * size)
    topmark = _ellipse(ys, xs, cy - 3.4 * radius, cx, 6 * size, 6 * size)
    reflection = _ellipse(ys, xs, cy + 0.5 * radius, cx, 0.45 * radius, 1.05 * radius)
    under = reflection < 0
    frame[under] = 0.35 * frame[under] + 0.65 * 0.3 * BUOY_RED
    lit = np.clip(0.55 + 0.45 * ((cx - xs) + (cy - 0.35 * radius - ys)) / (1.4 * radius), 0.2, 1.0)[..., None]
    band = np.abs(ys - (cy - 0.5 * radius)) < 0.18 * radius
    inside = body < 0
    frame[inside] = (lit * np.where(band[..., None], BUOY_WHITE, BUOY_RED))[inside]
    frame[pole < 0] = POLE
    frame[topmark < 0] = (lit * TOPMARK)[topmark < 0]
    return np.minimum.reduce([body, pole, topmark, reflection])


def demo_shot(frames: int = 24, width: int = 960, seed: int = 0) -> Tuple[np.ndarray, np.ndarray]:
    """The demo: (plate (frames, H, W, 3) linear RGB with grain, matte (frames, H, W) in [0, 1]), H = W * 9/16.

    The buoy drifts a third of the frame to the right and bobs; the matte covers it with a
    margin of 4 px (at 960 px wide) and a 2 px soft edge.
    """
    height = round(width * 9 / 16)
    size = width / REFERENCE_WIDTH
    plate = seascape(frames, height, width, seed)
    matte = np.empty((frames, height, width), np.float32)
    for t in range(frames):
        progress = t / max(frames - 1, 1)
        cx = width * (0.30 + 0.32 * progress)
        cy = height * 0.70 + 3 * size * np.sin(t / 2.5)
        distance = _draw_buoy(plate[t], cy, cx, size)
        matte[t] = np.clip((4 * size - distance) / (2 * size), 0, 1)
    return film_grain(plate, seed + 1), matte
