"""Quality measures of a fill inside the hole, against the truth, needing no pretrained network.

Every function takes videos shaped (frames, height, width, 3) as float arrays in [0, 1] (the
evaluation passes display-referred values, see engine/measure/evaluation.py) and the hole as a bool
array (frames, height, width). Pixels outside the hole are expected equal in fill and truth.

- ``psnr``: over the hole pixels, peak 1; inf for a perfect fill.
- ``ssim``: the SSIM map of each frame (Gaussian window 11, sigma 1.5, per channel) averaged over
  the hole pixels.
- ``dynamics_ratio``: energy of frame-to-frame differences of the fill over that of the truth, on
  the pixels hidden in both frames: a frozen fill scores ~0, a flickering one far above 1.
- ``detail_ratio``: energy of the spatial Laplacian of the fill over that of the truth, on the
  hole's interior (pixels whose stencil reads no pixel outside the hole, so the hole's edge
  counts in ``seam_ratio`` and not here): a blurred fill scores below 1.
- ``grain_ratio``: power of the finest spatial band (each frame minus its Gaussian blur of sigma
  1 px: grain, noise, the sharpest detail) of the fill over that of the truth, per channel, on
  the hole's interior (the blur reads nothing outside the hole), averaged over the channels:
  1 = matched; a fill scaled up from a smaller size or smoothed scores far below 1, added noise
  above.
- ``seam_ratio``: energy of the spatial Laplacian of the fill over that of the truth on the
  hole's edge (the pixels either side of it, one wide): 1 = the edge is as busy as the shot's
  own texture there; a visible seam (a step in colour or in texture) scores above 1.
- ``texture_distance``: sliced Wasserstein distance between the distributions of 5x5-pixel by
  3-frame patches centred in the hole, fill against truth: ~0 for the same texture even when
  shifted, larger for blur or noise (PSNR rewards blur, this does not).
- ``diversity``: mean RMS difference inside the hole between pairs of variants; 0 if identical.
"""
from __future__ import annotations

import itertools
import math
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ..method.prior import grow

PATCH = (3, 5, 5)  # frames, height, width of the texture patches
PATCH_SAMPLES = 4096
GRAIN_SIGMA, GRAIN_WINDOW = 1.0, 7  # the finest band: what a Gaussian of 1 px takes away
PROJECTIONS = 128


def psnr(fill: np.ndarray, truth: np.ndarray, hole: np.ndarray) -> float:
    mse = float(np.mean((fill[hole] - truth[hole]).astype(np.float64) ** 2))
    return math.inf if mse == 0.0 else 10.0 * math.log10(1.0 / mse)


def _gaussian_blur(images: torch.Tensor, sigma: float = 1.5, size: int = 11) -> torch.Tensor:
    """Separable Gaussian blur of (N, C, H, W), edges replicated."""
    x = torch.arange(size, dtype=torch.float64) - size // 2
    kernel = torch.exp(-x * x / (2 * sigma * sigma))
    kernel = (kernel / kernel.sum()).to(images.dtype)
    channels = images.shape[1]
    padded = F.pad(images, (size // 2,) * 4, mode="replicate")
    rows = F.conv2d(padded, kernel.view(1, 1, 1, size).repeat(channels, 1, 1, 1), groups=channels)
    return F.conv2d(rows, kernel.view(1, 1, size, 1).repeat(channels, 1, 1, 1), groups=channels)


def ssim(fill: np.ndarray, truth: np.ndarray, hole: np.ndarray) -> float:
    a = torch.from_numpy(np.ascontiguousarray(fill, np.float64)).permute(0, 3, 1, 2)
    b = torch.from_numpy(np.ascontiguousarray(truth, np.float64)).permute(0, 3, 1, 2)
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    mu_a, mu_b = _gaussian_blur(a), _gaussian_blur(b)
    var_a = _gaussian_blur(a * a) - mu_a ** 2
    var_b = _gaussian_blur(b * b) - mu_b ** 2
    cov = _gaussian_blur(a * b) - mu_a * mu_b
    index = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2))
    per_pixel = index.mean(dim=1).numpy()
    return float(per_pixel[hole].mean())


def _ratio(numerator: float, denominator: float) -> float:
    if denominator == 0.0:
        return math.nan if numerator == 0.0 else math.inf
    return numerator / denominator


def dynamics_ratio(fill: np.ndarray, truth: np.ndarray, hole: np.ndarray) -> float:
    both = hole[1:] & hole[:-1]
    if not both.any():
        return math.nan

    def energy(video: np.ndarray) -> float:
        return float(np.sum((video[1:] - video[:-1]).astype(np.float64)[both] ** 2))

    return _ratio(energy(fill), energy(truth))


def _laplacian(video: np.ndarray) -> np.ndarray:
    padded = np.pad(video.astype(np.float64), ((0, 0), (1, 1), (1, 1), (0, 0)), mode="edge")
    return (padded[:, :-2, 1:-1] + padded[:, 2:, 1:-1] + padded[:, 1:-1, :-2] + padded[:, 1:-1, 2:]
            - 4 * padded[:, 1:-1, 1:-1])


def _grown(mask: np.ndarray, radius: int) -> np.ndarray:
    """``mask`` (T,H,W) grown by a square of ``radius`` (prior.grow, on arrays)."""
    return grow(torch.from_numpy(np.ascontiguousarray(mask))[None], radius)[0].numpy()


def _interior(hole: np.ndarray, radius: int) -> np.ndarray:
    """The pixels of ``hole`` (T,H,W) whose square of ``radius`` lies in the hole or outside the frame."""
    return hole & ~_grown(~hole, radius)


def _edge(hole: np.ndarray) -> np.ndarray:
    """The pixels within one of the hole's edge, either side (T,H,W)."""
    return _grown(hole, 1) & ~_interior(hole, 1)


def _laplacian_ratio(fill: np.ndarray, truth: np.ndarray, where: np.ndarray) -> float:
    return _ratio(float(np.sum(_laplacian(fill)[where] ** 2)), float(np.sum(_laplacian(truth)[where] ** 2)))


def detail_ratio(fill: np.ndarray, truth: np.ndarray, hole: np.ndarray) -> float:
    return _laplacian_ratio(fill, truth, _interior(hole, 1))


def seam_ratio(fill: np.ndarray, truth: np.ndarray, hole: np.ndarray) -> float:
    return _laplacian_ratio(fill, truth, _edge(hole))


def grain_ratio(fill: np.ndarray, truth: np.ndarray, hole: np.ndarray) -> float:
    interior = _interior(hole, GRAIN_WINDOW // 2)

    def band_power(video: np.ndarray) -> np.ndarray:
        frames = torch.from_numpy(np.ascontiguousarray(video, np.float64)).permute(0, 3, 1, 2)
        band = (frames - _gaussian_blur(frames, sigma=GRAIN_SIGMA, size=GRAIN_WINDOW)).permute(0, 2, 3, 1).numpy()
        return np.sum(band[interior] ** 2, axis=0)

    ratios = [_ratio(float(f), float(t)) for f, t in zip(band_power(fill), band_power(truth))]
    defined = [r for r in ratios if not math.isnan(r)]
    return float(np.mean(defined)) if defined else math.nan


def _patches(video: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Flattened PATCH-sized patches of ``video`` around (t, y, x) ``centres``, edges replicated."""
    pt, ph, pw = (size // 2 for size in PATCH)
    padded = np.pad(video, ((pt, pt), (ph, ph), (pw, pw), (0, 0)), mode="edge")
    offsets = np.stack(np.meshgrid(*(np.arange(size) for size in PATCH), indexing="ij"), axis=-1).reshape(-1, 3)
    index = centres[:, None, :] + offsets[None]
    return padded[index[..., 0], index[..., 1], index[..., 2]].reshape(len(centres), -1)


def texture_distance(fill: np.ndarray, truth: np.ndarray, hole: np.ndarray, seed: int = 0) -> float:
    """Sliced 2-Wasserstein distance between fill and truth patch distributions in the hole."""
    rng = np.random.default_rng(seed)
    centres = np.argwhere(hole)
    if len(centres) > PATCH_SAMPLES:
        centres = centres[rng.choice(len(centres), PATCH_SAMPLES, replace=False)]
    a, b = _patches(fill.astype(np.float64), centres), _patches(truth.astype(np.float64), centres)
    directions = rng.standard_normal((a.shape[1], PROJECTIONS))
    directions /= np.linalg.norm(directions, axis=0, keepdims=True)
    projected_a, projected_b = np.sort(a @ directions, axis=0), np.sort(b @ directions, axis=0)
    return float(np.sqrt(np.mean((projected_a - projected_b) ** 2)))


def diversity(variants: Sequence[np.ndarray], hole: np.ndarray) -> float:
    """Mean over pairs of variants of the RMS difference inside the hole (nan for one variant)."""
    pairs = list(itertools.combinations(range(len(variants)), 2))
    if not pairs:
        return math.nan
    rms = [float(np.sqrt(np.mean((variants[i][hole] - variants[j][hole]).astype(np.float64) ** 2))) for i, j in pairs]
    return float(np.mean(rms))


METRICS = {
    "psnr": psnr,
    "ssim": ssim,
    "dynamics_ratio": dynamics_ratio,
    "detail_ratio": detail_ratio,
    "grain_ratio": grain_ratio,
    "seam_ratio": seam_ratio,
    "texture_distance": texture_distance,
}
