"""The region of interest: boxes in plate pixel coordinates, crops and the composite (the
scaling between levels is engine/method/pyramid.py's).

Coordinates are absolute pixel coordinates of the EXR (the data window of a frame starts at its
spec's (x, y), not at 0), so plates and mattes with different data windows line up. A crop of a
region reaching past a frame's data window is zero there, as EXR defines it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

from .color import sanitize


@dataclass(frozen=True)
class Box:
    """Pixels x0 <= x < x1, y0 <= y < y1."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return max(self.x1 - self.x0, 0)

    @property
    def height(self) -> int:
        return max(self.y1 - self.y0, 0)

    @property
    def empty(self) -> bool:
        return self.width == 0 or self.height == 0

    @classmethod
    def of_window(cls, origin: Tuple[int, int], shape: Tuple[int, ...]) -> "Box":
        """The box of an array shaped (height, width, ...) whose top-left pixel is at ``origin``."""
        return cls(origin[0], origin[1], origin[0] + shape[1], origin[1] + shape[0])

    def union(self, other: Optional["Box"]) -> "Box":
        if other is None or other.empty:
            return self
        if self.empty:
            return other
        return Box(min(self.x0, other.x0), min(self.y0, other.y0), max(self.x1, other.x1), max(self.y1, other.y1))

    def intersect(self, other: "Box") -> "Box":
        return Box(max(self.x0, other.x0), max(self.y0, other.y0), min(self.x1, other.x1), min(self.y1, other.y1))

    def grow(self, pixels: int) -> "Box":
        return Box(self.x0 - pixels, self.y0 - pixels, self.x1 + pixels, self.y1 + pixels)

    def slices(self, within: "Box") -> Tuple[slice, slice]:
        """Row and column slices of this box inside an array covering ``within``."""
        return (slice(self.y0 - within.y0, self.y1 - within.y0), slice(self.x0 - within.x0, self.x1 - within.x0))


def nonzero_box(mask: np.ndarray, origin: Tuple[int, int]) -> Optional[Box]:
    """The box of the True pixels of a (height, width) mask at ``origin``, or None."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    return Box(origin[0] + int(cols[0]), origin[1] + int(rows[0]), origin[0] + int(cols[-1]) + 1, origin[1] + int(rows[-1]) + 1)


def context_box(matte: Box, margin: float, limits: Box) -> Box:
    """``matte`` grown on every side by ``margin`` times its longest side, kept inside ``limits``."""
    grown = matte.grow(math.ceil(margin * max(matte.width, matte.height)))
    return grown.intersect(limits)


def crop(pixels: np.ndarray, origin: Tuple[int, int], box: Box) -> np.ndarray:
    """The part of ``pixels`` (H, W, ...) at ``origin`` inside ``box``, zero where it has no data."""
    out = np.zeros((box.height, box.width) + pixels.shape[2:], np.float32)
    shared = box.intersect(Box.of_window(origin, pixels.shape))
    if not shared.empty:
        out[shared.slices(box)] = pixels[shared.slices(Box.of_window(origin, pixels.shape))]
    return out








def composite(pixels: np.ndarray, origin: Tuple[int, int], channels: Tuple[int, int, int],
              box: Box, fill: np.ndarray, weight: np.ndarray, white: float) -> None:
    """Blend ``fill`` (h, w, 3, linear) over ``box`` into ``channels`` of ``pixels``, in place.

    ``weight`` (h, w) in [0, 1] is the soft matte: 1 takes the fill, 0 leaves the plate pixel
    untouched (bit for bit, NaN and inf included); in between the plate (NaN and inf made finite
    as for the network) and the fill are mixed.
    """
    window = Box.of_window(origin, pixels.shape)
    shared = box.intersect(window)
    if shared.empty:
        return
    inside, outside = shared.slices(box), shared.slices(window)
    w = weight[inside]
    touched = w > 0
    for index, channel in enumerate(channels):
        plate = pixels[outside + (channel,)]
        blended = sanitize(plate[touched], white) * (1.0 - w[touched]) + fill[inside + (index,)][touched] * w[touched]
        plate[touched] = blended
