"""Detail for a hole the shot never reveals, or reveals only in frames whose copy is a poor
guess: the shot's own texture, cloned from beside the hole.

A finer level's centre (engine/method/refinement.py) is the level below, upsampled, sharpened
by the reveal prior where it copied a revealed background. A place hidden in every frame has no
such copy: its centre was the level below alone, as blurred as that level is, and at the
preview budget the network added too little to it (a smooth box over the grass of bbb, a
detail ratio of 0.26). A compositor heals such a hole with a clone brush: the texture of a
nearby patch, chosen to suit each part of the hole. ``donor_detail`` does the same per window:
the detail the level below lacks (the shot minus its copy degraded by the level's factor) is
read from the shot shifted by an offset, chosen among shifts of a few sizes in eight directions
for each ``BLOCK`` of the unrevealed pixels as the one whose donor's smooth colours best match
the level's guess there (``guide``): grass detail where the guess is the grass's green, leaves'
where it is the leaves' dark teal. Neighbouring blocks' choices are cross-faded over a block.
One offset per block for all frames of a window: the cloned texture moves as the plate moves
there (grass sways, water runs), so the detail is alive and coherent in time. Training masks get
their detail in the same way, so the network learns how far to trust it.

Until 2026-12-07 one offset served the whole window, the one whose shot best matched the known
ring around the hole: on bbb under still boxes it laid grass strokes over the dark leaves above
the grass as well.

The cloned detail is toned down to the power of the shot's own detail around each place
(``_gain``, in cells of ``BLOCK``: engine/method/cells.py), never above the donor's. Until
2026-12-07 one gain per frame served all the hole, measured around all of it: the sea clip's box
over the sky and its box over the sea took one strength, and the presets took only 0.6 of the
donor's detail, which left bbb's grass box muddy. Place by place and the whole donor
(``refine_clone`` 1 in preview), at the preview budget (plate resolution, means of seeds 0-2,
PSNR / SSIM / detail / grain against the truth's): bbb under still boxes 17.79 / 0.325 / 0.41 /
0.37 -> 17.67 / 0.291 / 0.74 / 0.67; sea under still boxes 24.55 / 0.713 / 0.68 / 0.60 ->
24.39 / 0.690 / 1.16 / 0.96; drifting noise under still boxes 36.46 / 0.959 / 1.00 / 0.79 ->
36.39 / 0.957 / 1.14 / 0.87; cyclist under still boxes 20.53 / 0.665 / 0.44 -> 20.51 / 0.659 /
0.50. PSNR and SSIM, which reward a blur where the texture cannot be known, pay for the grain.

Since 2026-12-08 the clone also serves places the shot does reveal, before and after, as far
as their prior lacks the detail: the reveal prior weighs its cross-fade of the two frames that
show a place against a smooth fill by how well each predicts the hole's ring
(engine/method/prior.py), and where moving water decorrelates between them it is mostly the
smooth fill. A share s of the copy carries s^2 of its detail's power; the clone is weighted by
the rest, ``lack`` = 1 - s^2 (none below ``LEAST_LACK``), and each cell's gain brings the clone
and the guess's own detail in the same band together to the surroundings' power (a copy
carries some). The donor is read in the same frame, so its detail moves as the texture beside
the hole does, where the cross-fade between two far frames barely moved. A place shown on one
side only (hidden to the clip's end or from its start) whose copy is poor is left smooth:
something may have come into view there; on bbb under moving blobs the clone laid the bunny's
ear edges and speckle over his face in the last frames, where the smooth fill was a blank face.
That also leaves cyclist's pole and sign under the still box (seen on one side of the pan
only) as they were: cloning there raised their detail 0.50 -> 0.73 but cost SSIM 0.660 ->
0.643, below Telea's 0.659. At the preview budget (plate resolution, means of seeds 0-2; PSNR
/ SSIM / dynamics / detail / grain, before -> after): sea under moving blobs 24.36 / 0.718 /
0.41 / 0.74 / 0.51 -> 24.40 / 0.711 / 0.61 / 1.04 / 0.75; bbb under moving blobs 21.90 / 0.803
/ 0.68 / 0.78 / 0.76 -> 21.88 / 0.797 / 0.68 / 0.81 / 0.78; cyclist under moving blobs detail
1.40 -> 1.42; the rest within 0.02 dB.
"""
from __future__ import annotations

import math
from typing import List, Optional, Tuple

import torch
import torch.nn.functional as F

from .cells import cell_means, to_pixels
from .prior import grow
from .pyramid import degrade

BLOCK = 16  # pixels at the level: each such square of unrevealed pixels chooses its own donor
SHIFTS = (2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256)  # pixels: the offsets' lengths
DIRECTIONS = ((0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (1, -1), (-1, 1), (-1, -1))
SURROUND = 8  # pixels beyond those whose detail reads the hole: the surroundings it is matched to
COVERAGE = 0.9  # an offset is a block's choice only when its donor covers this share of the block's pixels
CELL_LEAST = 16.0  # values counted: a cell with fewer takes its neighbours' power (``_gain``)
SAMPLES = 1 << 15  # target pixels, evenly spread, on which each offset is scored
LEAST_LACK = 0.05  # a pixel whose guess lacks less of its detail's power than this gets none cloned

Pixels = Tuple[torch.Tensor, torch.Tensor, torch.Tensor]  # frames, rows and columns of some pixels


def donor_detail(video: torch.Tensor, hidden: torch.Tensor, lack: torch.Tensor, guide: torch.Tensor,
                 factor: float, strength: float = 1.0) -> torch.Tensor:
    """The detail (B,3,T,H,W) cloned onto the pixels whose ``lack`` (B,T,H,W: the share of its
    detail's power the level's guess lacks, 1 where the shot never reveals the place, 0 outside
    the hole) is above ``LEAST_LACK``, weighted by it, of ``video`` (B,3,T,H,W, zero where
    ``hidden``); zero elsewhere and where no offset reaches a known donor. ``guide``
    (B,3,T,H,W): the level's guess of the hole, which each block's donor matches, and whose own
    detail in the same band counts towards the surroundings' power (``_gain``). The detail is
    what a level ``factor`` times smaller lacks; a donor pixel is known with every pixel its
    detail reads (about ``3 factor`` pixels around it). ``strength``: the most of the donor's
    detail taken (``_gain``)."""
    detail = torch.zeros_like(video)
    target = lack > LEAST_LACK
    if factor <= 1.0 or not bool(target.any()):
        return detail
    reach = math.ceil(3.0 * factor) + 1  # the antialiased scale down (factor), then bicubic up (2 factor)
    usable = ~grow(hidden, reach)  # (B,T,H,W): the detail there reads no hidden pixel
    smooth = degrade(video, factor)
    band = torch.where(usable[:, None], video - smooth, torch.zeros((), device=video.device))
    present = guide - degrade(guide, factor)  # the guess's own detail in that band
    surround = grow(target, reach + SURROUND) & usable
    for item in range(video.shape[0]):
        if bool(target[item].any()):
            cloned = _clone(band[item], smooth[item], guide[item], usable[item], target[item]) * lack[item]
            detail[item] = cloned * _gain(cloned, present[item], target[item], band[item], surround[item], strength)
    return detail


def _gain(cloned: torch.Tensor, present: torch.Tensor, target: torch.Tensor, band: torch.Tensor,
          surround: torch.Tensor, strength: float) -> torch.Tensor:
    """Place by place (cells of ``BLOCK``, engine/method/cells.py; (H,W)), what brings the cloned
    detail's power on ``target``, with the guess's own there (``present``: a copy from another
    frame carries some), to the shot's own detail around that place (``surround``, the hole's
    cells taking their neighbours'): a donor busier than its place's surroundings (an edge, a
    figure passing it) is toned down, a quieter one kept; never above ``strength``."""
    def power(values: torch.Tensor, where: torch.Tensor) -> Optional[torch.Tensor]:
        total = (values.square().sum(dim=0) * where.to(values.dtype)).sum(dim=0)
        return cell_means(total, where.sum(dim=0).to(values.dtype) * values.shape[0], BLOCK, CELL_LEAST, 1e-24)

    around, own = power(band, surround), power(cloned, target)
    if around is None or own is None:
        return torch.zeros(target.shape[-2:], dtype=cloned.dtype, device=cloned.device)
    wanted = (around - power(present, target)).clamp_min(0.0)  # measured on ``own``'s pixels: not None
    return to_pixels((wanted / own).sqrt().clamp(max=strength), tuple(target.shape[-2:])).to(cloned.dtype)


def _clone(band: torch.Tensor, smooth: torch.Tensor, guide: torch.Tensor, usable: torch.Tensor,
           target: torch.Tensor) -> torch.Tensor:
    """One window's cloned detail (3,T,H,W): each block's offset (``_choose``), its donor's
    ``band`` read at every target pixel, cross-faded with the neighbouring blocks' over a block.
    Only the target's pixels are read at each offset: memory follows the hole, not the frame."""
    height, width = target.shape[-2:]
    offsets = _offsets(height, width)
    pixels = torch.nonzero(target, as_tuple=True)
    choice = _choose(smooth, guide, usable, pixels, offsets, height, width)
    detail = torch.zeros(band.shape[0], pixels[0].numel(), dtype=band.dtype, device=band.device)
    power = torch.zeros(pixels[0].numel(), dtype=band.dtype, device=band.device)
    blocks_size = math.ceil(height / BLOCK) * BLOCK, math.ceil(width / BLOCK) * BLOCK
    for index in torch.unique(choice[choice >= 0]).tolist():
        chosen = (choice == index).to(band.dtype)[None, None]
        fade = F.interpolate(chosen, size=blocks_size, mode="bilinear", align_corners=False)[0, 0]
        reached = torch.nonzero(fade[pixels[1], pixels[2]] > 0).flatten()  # only the pixels its fade reaches
        near = tuple(axis[reached] for axis in pixels)
        weight = fade[near[1], near[2]] * _read(usable, near, offsets[index]).to(band.dtype)
        detail[:, reached] += weight * _at(band, near, offsets[index])
        power[reached] += weight.square()
    cloned = torch.zeros_like(band)  # two donors' detail is unrelated: their fade keeps its power
    cloned[(slice(None),) + pixels] = torch.where(power > 0, detail / power.clamp_min(1e-24).sqrt(), 0.0)
    return cloned


def _choose(smooth: torch.Tensor, guide: torch.Tensor, usable: torch.Tensor, pixels: Pixels,
            offsets: List[Tuple[int, int]], height: int, width: int) -> torch.Tensor:
    """Each block's offset (an index into ``offsets``; -1 for a block without target pixels):
    among those whose donor covers ``COVERAGE`` of the block's sampled pixels (all offsets when
    none does), the one whose donor's ``smooth`` colours are nearest the ``guide``'s there."""
    stride = max(1, pixels[0].numel() // SAMPLES)
    sample = tuple(index[::stride] for index in pixels)
    columns = math.ceil(width / BLOCK)
    blocks = math.ceil(height / BLOCK) * columns
    block = (sample[1] // BLOCK) * columns + sample[2] // BLOCK
    wanted = guide[(slice(None),) + sample]
    total = torch.bincount(block, minlength=blocks).double()
    costs = torch.full((len(offsets), blocks), math.inf, dtype=torch.float64, device=guide.device)
    covering = torch.zeros(len(offsets), blocks, dtype=torch.bool, device=guide.device)
    for index, offset in enumerate(offsets):
        donor = _read(usable, sample, offset)
        error = (_at(smooth, sample, offset) - wanted).square().sum(dim=0).double()
        covered = torch.bincount(block, weights=donor.double(), minlength=blocks)
        summed = torch.bincount(block, weights=torch.where(donor, error, 0.0), minlength=blocks)
        costs[index] = torch.where(covered > 0, summed / covered.clamp_min(1.0), math.inf)
        covering[index] = covered >= COVERAGE * total
    any_covering = covering.any(dim=0, keepdim=True)
    ranked = torch.where(covering | ~any_covering, costs, math.inf)
    choice = ranked.argmin(dim=0)
    return torch.where((total > 0) & torch.isfinite(ranked.min(dim=0).values), choice, -1).view(-1, columns)


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
