"""Spreading a shot's values over the network's [-1, 1].

The log-like encoding maps scene-linear 0..64 to [-1, 1], so an ordinary plate (linear 0..1)
uses a sliver of that range: the waves of the demo have a standard deviation near 0.1 there.
Against unit-variance diffusion noise such a signal is buried until the last few steps, and the
sampler ends on the context's average colour (a flat fill). The paper's images span [-1, 1] with
a standard deviation of roughly a third to a half, so the engine maps the known pixels the same
way: SIGMAS standard deviations (of the widest channel) beyond the lowest and the highest channel
mean to -1 and +1, never wider than the known values reach. The map is affine, the same for the
three channels, and undone after sampling; the fill stays inside the band (x0 is clipped to
[-1, 1] as in the paper). Until 2026-12-07 the band was centred on the mean of all three channels:
on a strongly coloured shot a channel far from it lay partly outside, and the clip took the hole's
bright greens (the drifting-noise clip: 44% of its known green values outside the band), so the
fill came out with an olive and a teal tint the shot does not have.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

SIGMAS = 3.0  # the band the network's [-1, 1] covers, in standard deviations of the known pixels
MIN_SPAN = 0.05  # a flat plate is not stretched more than 40x: its noise would become texture


@dataclass(frozen=True)
class ValueRange:
    """The affine map from [low, high] (encoded values) to the network's [-1, 1]."""

    low: float
    high: float

    @classmethod
    def of_known(cls, video: torch.Tensor, hole: torch.Tensor) -> "ValueRange":
        """The band of the known pixels of ``video`` (3,T,H,W) outside ``hole`` (T,H,W)."""
        known = video[:, ~hole].double()
        if known.numel() == 0:
            return cls(-1.0, 1.0)
        means, spread = known.mean(dim=1), SIGMAS * float(known.std(dim=1, correction=0).max())
        low = max(float(known.min()), float(means.min()) - spread)
        high = min(float(known.max()), float(means.max()) + spread)
        if high - low < MIN_SPAN:
            middle = (low + high) / 2.0
            low, high = middle - MIN_SPAN / 2.0, middle + MIN_SPAN / 2.0
        return cls(low, high)

    @property
    def middle(self) -> float:
        return (self.low + self.high) / 2.0

    @property
    def half(self) -> float:
        return (self.high - self.low) / 2.0

    def to_network(self, encoded: torch.Tensor) -> torch.Tensor:
        """Encoded values to the network's range: ``low`` -> -1, ``high`` -> +1."""
        return (encoded - self.middle) / self.half

    def from_network(self, values: torch.Tensor) -> torch.Tensor:
        """Back to the encoding, kept inside its [-1, 1] (a widened flat range may reach past it)."""
        return (values * self.half + self.middle).clamp(-1.0, 1.0)
