"""An exponential moving average of a network's weights, the copy that samples.

A network trained for a few hundred steps at a high learning rate carries the noise of its last
steps in its weights; their average over the recent steps is a smoother, better denoiser (as in
DDPM and EDM, which sample with EMA weights). Early on the average follows the weights closely
(the decay ramps up as (1 + n) / (10 + n)), so a short run is not dragged back to its start.
"""
from __future__ import annotations

import copy
from typing import Dict

import torch
from torch import nn


class WeightAverage:
    """The running average of ``source``'s parameters, in a copy of it (``module``)."""

    def __init__(self, source: nn.Module, decay: float):
        self.decay = decay
        self.updates = 0
        self.module = copy.deepcopy(source).requires_grad_(False)
        self._pairs = list(zip(self.module.parameters(), source.parameters()))

    @torch.no_grad()
    def update(self) -> None:
        """Move the average toward the source's current weights (after an optimizer step)."""
        decay = min(self.decay, (1.0 + self.updates) / (10.0 + self.updates))
        for average, weight in self._pairs:
            average.lerp_(weight, 1.0 - decay)
        self.updates += 1

    def state_dict(self) -> Dict[str, object]:
        return {"module": self.module.state_dict(), "updates": self.updates}

    def load_state_dict(self, state: Dict[str, object]) -> None:
        self.module.load_state_dict(state["module"])
        self.updates = int(state["updates"])
