"""Spatial frequency bands of images: an a trous decomposition with a 5-tap binomial blur.

The image is blurred ``count - 1`` times (``BANDS`` unless asked), the k-th blur's taps spread 2^k pixels apart; band 0
is what the first blur takes away (the finest detail: grain), band k what the k-th blur takes
from the blur before it, and the last band the image blurred by all of them. The bands sum to
the image. Edges are extended by point reflection, so a gradient stays in the last band.
"""
from __future__ import annotations

from typing import List, Tuple

import torch

BINOMIAL = (1.0 / 16, 4.0 / 16, 6.0 / 16, 4.0 / 16, 1.0 / 16)
SHORT_BINOMIAL = (1.0 / 4, 2.0 / 4, 1.0 / 4)  # its blur takes away the top of the finest band
BANDS = 3


def reach(count: int = BANDS) -> int:
    """Pixels a band of a ``count``-band split reads around a pixel."""
    return sum((len(BINOMIAL) // 2) << level for level in range(count - 1))


REACH = reach()


def split(images: torch.Tensor, count: int = BANDS) -> List[torch.Tensor]:
    """The ``count`` bands of ``images`` (..., H, W), finest first, each shaped like it."""
    height, width = images.shape[-2:]
    previous = images.reshape(-1, 1, height, width)
    bands = []
    for level in range(count - 1):
        blurred = _blur(previous, 1 << level)
        bands.append((previous - blurred).reshape(images.shape))
        previous = blurred
    return bands + [previous.reshape(images.shape)]


def pixel_detail(images: torch.Tensor) -> torch.Tensor:
    """What a 3-tap binomial blur takes from ``images`` (..., H, W): the pixel-to-pixel detail,
    the top half of the finest band (reading one pixel around)."""
    height, width = images.shape[-2:]
    flat = images.reshape(-1, 1, height, width)
    return (flat - _blur(flat, 1, SHORT_BINOMIAL)).reshape(images.shape)


def _blur(flat: torch.Tensor, spacing: int, weights: Tuple[float, ...] = BINOMIAL) -> torch.Tensor:
    """(N,1,H,W) blurred by ``weights`` along both axes, taps ``spacing`` pixels apart: a
    weighted sum of shifted views of the extended image, tap by tap (the same sums as a
    one-channel dilated ``conv2d``, which on the CPU took 4-10x longer on 32-260 px frames)."""
    reach = (len(weights) // 2) * spacing
    for axis in (2, 3):
        extended, size = _extended(flat, axis, reach), flat.shape[axis]
        flat = extended.narrow(axis, 0, size) * weights[0]
        for tap, weight in enumerate(weights[1:], 1):
            flat.add_(extended.narrow(axis, tap * spacing, size), alpha=weight)
    return flat


def _extended(images: torch.Tensor, axis: int, reach: int) -> torch.Tensor:
    """``images`` extended by ``reach`` pixels at both ends of ``axis``: each edge pixel's
    point reflection (2 edge - mirror), or the edge repeated where the axis is too short."""
    size = images.shape[axis]
    first, last = images.narrow(axis, 0, 1), images.narrow(axis, size - 1, 1)
    if size <= reach:
        return torch.cat([first.repeat_interleave(reach, axis), images, last.repeat_interleave(reach, axis)], dim=axis)
    before = 2 * first - images.narrow(axis, 1, reach).flip(axis)
    after = 2 * last - images.narrow(axis, size - 1 - reach, reach).flip(axis)
    return torch.cat([before, images, after], dim=axis)


def _noise_shares() -> Tuple[float, ...]:
    """White noise's power in each band per unit of its own: each band's impulse response, squared and summed."""
    size = 4 * REACH + 1
    impulse = torch.zeros(size, size, dtype=torch.float64)
    impulse[size // 2, size // 2] = 1.0
    return tuple(float(band.square().sum()) for band in split(impulse))


NOISE_SHARES = _noise_shares()
