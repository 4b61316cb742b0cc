"""Detail for a hole the shot never reveals: the shot's own texture, cloned from beside the hole.

A finer level's centre (engine/method/refinement.py) is the level below, upsampled, sharpened
by the reveal prior where it copied a revealed background. A place hidden in every frame has no
such copy: its centre was the level below alone, as blurred as that level is, and at the
preview budget the network added too little to it (a smooth box over the grass of bbb, a
detail ratio of 0.26). A compositor heals such a hole with a clone brush: the texture of a
nearby patch, its colours fitted to the hole's edge. ``donor_detail`` does the same per window:
the detail the level below lacks (the shot minus its copy degraded by the level's factor) is
read from the shot shifted by one offset, chosen among shifts of a few sizes in eight
directions as the one whose shifted shot best matches the known ring around the unrevealed
pixels; the pixels that shift does not cover take the next best. One offset for all frames of
a window: the cloned texture moves as the plate moves there (grass sways, water runs), so the
detail is alive and coherent in time. Training masks get their detail in the same way, so the
network learns how far to trust it.
"""
from __future__ import annotations

import math
from typing import List, Tuple

import torch

from .prior import grow
from .pyramid import degrade

RING = 3  # pixels: the known ring around the unrevealed pixels that scores an offset
SHIFTS = (2, 4, 8, 16, 32, 64, 128, 256)  # pixels: the offsets' lengths (those inside the frame)
DIRECTIONS = ((0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (1, -1), (-1, 1), (-1, -1))
SURROUND = 8  # pixels beyond those whose detail reads the hole: the surroundings it is matched to
COVERAGE = 0.9  # an offset is first choice only when its donor covers this share of the pixels
COVERAGE_SAMPLES = 1 << 15  # target pixels, evenly spread, on which an offset's coverage is measured


def donor_detail(video: torch.Tensor, hidden: torch.Tensor, target: torch.Tensor, factor: float,
                 strength: float = 1.0) -> torch.Tensor:
    """The detail (B,3,T,H,W) cloned onto ``target`` (B,T,H,W, hidden pixels the shot never
    reveals) of ``video`` (B,3,T,H,W, zero where ``hidden``), zero elsewhere and where no offset
    reaches a known donor. The detail is what a level ``factor`` times smaller lacks; a donor
    pixel is known with every pixel its detail reads (about ``3 factor`` pixels around it).
    ``strength``: the most of the donor's detail taken (``_gain``)."""
    detail = torch.zeros_like(video)
    if factor <= 1.0 or not bool(target.any()):
        return detail
    reach = math.ceil(3.0 * factor) + 1  # the antialiased scale down (factor), then bicubic up (2 factor)
    usable = ~grow(hidden, reach)  # (B,T,H,W): the detail there reads no hidden pixel
    band = torch.where(usable[:, None], video - degrade(video, factor), torch.zeros((), device=video.device))
    ring = grow(target, RING) & ~hidden
    surround = grow(target, reach + SURROUND) & usable
    for item in range(video.shape[0]):
        if bool(target[item].any()):
            cloned = _clone(video[item], band[item], ~hidden[item], usable[item], ring[item], target[item])
            detail[item] = cloned * _gain(cloned, target[item], band[item], surround[item], strength)
    return detail


def _gain(cloned: torch.Tensor, target: torch.Tensor, band: torch.Tensor, surround: torch.Tensor,
          strength: float) -> torch.Tensor:
    """Per frame (1,T,1,1), what brings the cloned detail's power on ``target`` down to the
    shot's own detail around it (``surround``): a donor busier than the hole's surroundings (an
    edge, a figure passing it) is toned down, a quieter one kept; never above ``strength``."""
    def power(values: torch.Tensor, where: torch.Tensor) -> torch.Tensor:
        weight = where[None].to(values.dtype)
        count = weight.sum(dim=(0, 2, 3)) * values.shape[0]
        return (values.square() * weight).sum(dim=(0, 2, 3)) / count.clamp_min(1.0)

    gain = (power(band, surround) / power(cloned, target).clamp_min(1e-12)).sqrt().clamp(max=strength)
    return gain.view(1, -1, 1, 1)


def _clone(video: torch.Tensor, band: torch.Tensor, known: torch.Tensor, usable: torch.Tensor, ring: torch.Tensor,
           target: torch.Tensor) -> torch.Tensor:
    """One window's cloned detail (3,T,H,W): offsets ranked by their ring error, those covering
    ``COVERAGE`` of ``target`` first, each filling the target pixels still empty. Only the
    target's and the ring's pixels are read at each offset: memory follows the hole, not the frame."""
    height, width = target.shape[-2:]
    pixels, rim = torch.nonzero(target, as_tuple=True), torch.nonzero(ring, as_tuple=True)
    rim_colours = video[(slice(None),) + rim]
    stride = max(1, pixels[0].numel() // COVERAGE_SAMPLES)
    sample = tuple(index[::stride] for index in pixels)
    ranked: List[Tuple[bool, float, Tuple[int, int]]] = []
    for offset in _offsets(height, width):
        covered = float(_read(usable, sample, offset).float().mean())
        if covered == 0.0:
            continue
        scored = _read(known, rim, offset)  # ring pixels whose donor is known
        error = float((_at(video, rim, offset)[:, scored] - rim_colours[:, scored]).square().sum(dim=0).mean()) \
            if bool(scored.any()) else float("inf")
        ranked.append((covered < COVERAGE, error, offset))
    detail = torch.zeros_like(band)
    for _, _, offset in sorted(ranked):  # each offset fills what the ones before it left empty
        taken = _read(usable, pixels, offset)
        detail[(slice(None),) + tuple(index[taken] for index in pixels)] = _at(band, pixels, offset)[:, taken]
        pixels = tuple(index[~taken] for index in pixels)
        if pixels[0].numel() == 0:
            break
    return detail


Pixels = Tuple[torch.Tensor, torch.Tensor, torch.Tensor]  # frames, rows and columns of some pixels


def _read(mask: torch.Tensor, pixels: Pixels, offset: Tuple[int, int]) -> torch.Tensor:
    """``mask`` (T,H,W) read ``offset`` (rows, columns) away from each of ``pixels``; False
    where that falls outside the frame."""
    frames, rows, cols = pixels
    height, width = mask.shape[-2:]
    rows, cols = rows + offset[0], cols + offset[1]
    inside = (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
    return inside & mask[frames, rows.clamp(0, height - 1), cols.clamp(0, width - 1)]


def _at(values: torch.Tensor, pixels: Pixels, offset: Tuple[int, int]) -> torch.Tensor:
    """``values`` (C,T,H,W) read ``offset`` away from each of ``pixels`` (C,N), the frame's
    border repeated outside it (``_read`` says where that is)."""
    frames, rows, cols = pixels
    height, width = values.shape[-2:]
    return values[:, frames, (rows + offset[0]).clamp(0, height - 1), (cols + offset[1]).clamp(0, width - 1)]


def _offsets(height: int, width: int) -> List[Tuple[int, int]]:
    """Every (rows, columns) offset of ``SHIFTS`` in ``DIRECTIONS`` that stays inside the frame."""
    return [(dy * length, dx * length) for length in SHIFTS for dy, dx in DIRECTIONS
            if abs(dy * length) < height and abs(dx * length) < width]
