"""Spreading a shot's values over the network's [-1, 1].

The log-like encoding maps scene-linear 0..64 to [-1, 1], so an ordinary plate (linear 0..1)
uses a fraction of that range: the waves of the demo span about 0.3 of it, a standard deviation
near 0.09. Against unit-variance diffusion noise such a signal is buried until the last few dozen
steps, and the sampler ends on the context's average colour. As the paper's images span [-1, 1]
in full, the engine maps the lowest and highest known value of the shot to -1 and +1 (an affine
map, the same for the three channels, undone exactly after sampling).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

MIN_SPAN = 0.05  # a flat plate is not stretched more than 40x: its noise would become texture


@dataclass(frozen=True)
class ValueRange:
    """The affine map from [low, high] (encoded values) to the network's [-1, 1]."""

    low: float
    high: float

    @classmethod
    def of_known(cls, video: torch.Tensor, hole: torch.Tensor) -> "ValueRange":
        """The range of the known pixels of ``video`` (3,T,H,W) outside ``hole`` (T,H,W)."""
        known = video[:, ~hole]
        if known.numel() == 0:
            return cls(-1.0, 1.0)
        low, high = float(known.min()), float(known.max())
        middle, half = (low + high) / 2.0, max(high - low, MIN_SPAN) / 2.0
        return cls(middle - half, middle + half)

    def to_network(self, encoded: torch.Tensor) -> torch.Tensor:
        """Encoded values to the network's range: ``low`` -> -1, ``high`` -> +1."""
        middle, half = (self.low + self.high) / 2.0, (self.high - self.low) / 2.0
        return (encoded - middle) / half

    def from_network(self, values: torch.Tensor) -> torch.Tensor:
        """Back to the encoding, kept inside its [-1, 1] (a widened flat range may reach past it)."""
        middle, half = (self.low + self.high) / 2.0, (self.high - self.low) / 2.0
        return (values * half + middle).clamp(-1.0, 1.0)
