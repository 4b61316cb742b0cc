"""The colour directions along which a shot varies: its principal axes in R, G, B.

A plate's detail and its distance from a guess lie mostly along one colour direction (grey for
luminance, or a texture's own tint); noise drawn or kept independently in R, G and B lies along
all three, and shows as coloured speckle where the plate has none (a sky beside a sea, 1:1).
The sampling's spread (engine/method/refinement.py) and the regrain (engine/method/detail_match.py)
work along these axes instead of R, G and B.
"""
from __future__ import annotations

from typing import Tuple

import torch


def second_moments(colours: torch.Tensor) -> torch.Tensor:
    """The (3,3) sums of products of ``colours`` (3, N) (offsets from a guess, detail bands: not
    centred again), in double."""
    colours = colours.double()
    return colours @ colours.T


def principal_axes(moments: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Of (3,3) ``second_moments``: the axes (3,3, orthonormal rows, strongest first) and the
    sum of squares along each (3,)."""
    values, vectors = torch.linalg.eigh(moments.double())
    return vectors.flip(1).T, values.flip(0).clamp_min(0.0)


def along(axes: torch.Tensor, colours: torch.Tensor) -> torch.Tensor:
    """``colours`` (..., 3, T, H, W) in R, G, B -> their components along ``axes`` (3,3, rows)."""
    return torch.einsum("ij,...jthw->...ithw", axes.to(colours.dtype), colours)


def back(axes: torch.Tensor, components: torch.Tensor) -> torch.Tensor:
    """The inverse of ``along`` for orthonormal ``axes``: components -> R, G, B."""
    return torch.einsum("ji,...jthw->...ithw", axes.to(components.dtype), components)
