"""Mattes: where to fill (threshold, dilation) and how strongly to blend (the soft edge).

A matte is a (height, width) float plane at an origin in plate pixel coordinates: one channel of
a separate sequence or of the plate itself. The matte is first dilated by ``dilation`` pixels (a
grey dilation by a disc, like "alpha expansion"); every pixel above ``threshold`` is then filled,
and the blend weight of the fill ramps from 0 at the threshold to 1 where the matte is 1, so a
soft edge blends the fill into the plate without a step.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from .roi import Box, crop, nonzero_box


@dataclass(frozen=True)
class MatteRule:
    """threshold: pixels whose (dilated) matte exceeds it are filled; dilation: pixels."""

    threshold: float
    dilation: int

    def __post_init__(self) -> None:
        if not 0.0 <= self.threshold < 1.0:
            raise ValueError(f"the matte threshold must lie in [0, 1), got {self.threshold}")
        if self.dilation < 0:
            raise ValueError(f"the matte dilation must not be negative, got {self.dilation}")

    def box(self, matte: np.ndarray, origin: Tuple[int, int]) -> Optional[Box]:
        """The box of the pixels this matte fills (dilation included), or None if it fills none."""
        found = nonzero_box(matte > self.threshold, origin)
        return None if found is None else found.grow(self.dilation)

    def weights(self, matte: np.ndarray, origin: Tuple[int, int], box: Box) -> np.ndarray:
        """The blend weight in [0, 1] over ``box`` (float32, shaped (box.height, box.width))."""
        padded = crop(matte, origin, box.grow(self.dilation))
        dilated = dilate(padded, self.dilation)[self.dilation:self.dilation + box.height,
                                                 self.dilation:self.dilation + box.width]
        dilated = np.clip(np.nan_to_num(dilated, nan=0.0, posinf=1.0, neginf=0.0), 0.0, 1.0)
        return ((dilated - self.threshold) / (1.0 - self.threshold)).clip(0.0, 1.0).astype(np.float32)


def dilate(plane: np.ndarray, radius: int) -> np.ndarray:
    """Grey dilation of a (height, width) plane by a disc of ``radius`` pixels (edges padded low)."""
    if radius == 0:
        return plane
    source = torch.from_numpy(np.ascontiguousarray(plane, np.float32))[None, None]
    out = torch.full_like(source, -math.inf)
    padded = F.pad(source, (radius, radius, radius, radius), value=-math.inf)
    height, width = plane.shape
    for dy in range(-radius, radius + 1):
        half = math.isqrt(radius * radius - dy * dy)
        rows = padded[..., radius + dy:radius + dy + height, :]
        row_max = F.max_pool2d(rows, kernel_size=(1, 2 * half + 1), stride=1)
        out = torch.maximum(out, row_max[..., radius - half:radius - half + width])
    return out[0, 0].numpy()
