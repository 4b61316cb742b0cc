"""A measure taken place by place: summed over square cells of a frame, carried into the cells
that have none, cross-faded back to pixels.

The sampling's spread (``refinement.local_spread``) and the strength of the cloned detail
(``texture.donor_detail``) follow the place, not the shot: a box over a smooth sky takes the
sky's, one over a busy sea the sea's. Each sums its measure and the number of values it counted
over cells of a few pixels; a cell with too few (inside a hole) takes the smooth fill
(``prior.membrane_fill``) of its neighbours' logarithms, so the hole's cells take the ring's
around them, a geometric mean that never crosses zero.
"""
from __future__ import annotations

from typing import Optional, Tuple

import torch
import torch.nn.functional as F

from .prior import membrane_fill


def cell_means(total: torch.Tensor, count: torch.Tensor, cell: int, least: float,
               floor: float) -> Optional[torch.Tensor]:
    """Each ``cell`` x ``cell`` cell's mean (float64, ceil(H / cell) x ceil(W / cell)): its sum
    of ``total`` over its sum of ``count`` (both (H,W), summed over whatever else they cover),
    raised to ``floor``; a cell counting fewer than ``least`` values takes the smooth fill of
    its neighbours' logarithms. None when no cell counts enough."""
    sums = F.avg_pool2d(torch.stack([total, count]).double()[None], cell, ceil_mode=True)[0]
    measured = sums[1] * cell * cell >= least
    if not bool(measured.any()):
        return None
    means = torch.where(measured, sums[0] / sums[1].clamp_min(1e-30), torch.ones_like(sums[0]))
    return membrane_fill(means.clamp_min(floor).log()[None, None, None], measured[None, None])[0, 0, 0].exp()


def to_pixels(cells: torch.Tensor, size: Tuple[int, int]) -> torch.Tensor:
    """``cells`` (h,w) cross-faded bilinearly to a (H,W) = ``size`` float32 map."""
    return F.interpolate(cells.float()[None, None], size=size, mode="bilinear", align_corners=False)[0, 0]
