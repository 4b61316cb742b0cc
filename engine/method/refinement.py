"""How a finer level's network output becomes x0: a correction of the level below.

At a finer level the prior of a pixel is the level below, upsampled (``coarse``), plus a
residual of detail and grain whose spread ``detail`` is measured on the known pixels. Given
x_t = sqrt(ab) x0 + sqrt(1 - ab) noise, the best linear guess of x0 under that prior is

    coarse + skip(t) (x_t - sqrt(ab) coarse),   skip = sqrt(ab) d^2 / (ab d^2 + 1 - ab),

which is x_t itself at low noise and the coarse fill at high noise (the Wiener filter, as in
the preconditioning of Karras et al., EDM). The network adds a correction scaled by that
guess's own error, out(t) = d sqrt(1 - ab) / sqrt(ab d^2 + 1 - ab). An untrained network thus
already samples the coarse fill plus grain of the right strength, and training has only to shape
that grain into the shot's texture: what a few hundred steps on crops can do.
"""
from __future__ import annotations

import torch
from torch import nn

from .diffusion import Schedule
from .model import CONDITION_CHANNELS, COARSE_CHANNELS

MIN_DETAIL = 0.01  # a flat shot still gets a little grain, never a division by zero


class Refinement(nn.Module):
    """Calls ``network`` like the U-Net, (x_t, condition, t) -> x0, for a conditioned level."""

    def __init__(self, network: nn.Module, schedule: Schedule, detail: float):
        super().__init__()
        self.network = network
        self.detail = max(float(detail), MIN_DETAIL)
        self.register_buffer("alpha_bar", schedule.alpha_bar.float(), persistent=False)

    def forward(self, x_t: torch.Tensor, condition: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        coarse = condition[:, CONDITION_CHANNELS:CONDITION_CHANNELS + COARSE_CHANNELS]
        ab = self.alpha_bar.to(x_t.device)[t].view(-1, 1, 1, 1, 1)
        d2 = self.detail ** 2
        spread = (ab * d2 + 1.0 - ab).sqrt()
        skip = ab.sqrt() * d2 / spread ** 2
        out = self.detail * (1.0 - ab).sqrt() / spread
        return coarse + skip * (x_t - ab.sqrt() * coarse) + out * self.network(x_t, condition, t)


def detail_spread(video: torch.Tensor, hole: torch.Tensor, coarse: torch.Tensor) -> float:
    """The RMS of the known pixels of ``video`` (3,T,H,W) against ``coarse`` (3,T,H,W)."""
    known = ~hole
    if not bool(known.any()):
        return MIN_DETAIL
    return float((video - coarse)[:, known].double().square().mean().sqrt())
