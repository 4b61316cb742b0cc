"""Progress events of a run and the clock that estimates the time left."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Optional, Union

import torch


@dataclass(frozen=True)
class StepProgress:
    """Emitted while training ("train") or sampling ("sample") interval ``interval`` (0-based) of
    level ``level`` (0-based, 0 the coarsest) of ``levels``."""

    phase: str
    interval: int
    intervals: int
    step: int
    steps: int
    loss: Optional[float]
    elapsed: float
    remaining: Optional[float]
    level: int = 0
    levels: int = 1


@dataclass(frozen=True)
class ShotMeasured:
    """What a run found out about the shot and chose from it, in words, once each: the camera's
    motion (``settings.camera`` "auto"), how the coarsest level uses the reveal prior."""

    description: str


@dataclass(frozen=True)
class IntervalFinished:
    """Emitted after each interval of each level, once its checkpoint is on disk.

    preview: the current estimate of the finished video at that level's resolution,
    (K, 3, T, H, W) in the caller's encoding, known pixels put back.
    """

    interval: int
    intervals: int
    preview: torch.Tensor
    elapsed: float
    level: int = 0
    levels: int = 1


Event = Union[StepProgress, IntervalFinished]
ProgressCallback = Callable[[Event], None]


class ProgressClock:
    """Time per training step and per sampling step, measured as they happen, and the time left."""

    def __init__(self, train_steps_total: int, sample_steps_total: int):
        self.started = time.monotonic()
        self.train_left, self.sample_left = train_steps_total, sample_steps_total
        self.train_time = self.sample_time = 0.0
        self.train_done = self.sample_done = 0
        self.last = self.started

    def _lap(self) -> float:
        now = time.monotonic()
        lap, self.last = now - self.last, now
        return lap

    def mark(self) -> None:
        """Start timing from now (call before a phase begins)."""
        self.last = time.monotonic()

    def tick(self, phase: str) -> None:
        lap = self._lap()
        if phase == "train":
            self.train_time, self.train_done, self.train_left = self.train_time + lap, self.train_done + 1, self.train_left - 1
        else:
            self.sample_time, self.sample_done, self.sample_left = self.sample_time + lap, self.sample_done + 1, self.sample_left - 1

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def remaining(self) -> Optional[float]:
        per_train = self.train_time / self.train_done if self.train_done else None
        per_sample = self.sample_time / self.sample_done if self.sample_done else per_train
        if per_train is None and per_sample is None:
            return None
        return max(self.train_left, 0) * (per_train or per_sample) + max(self.sample_left, 0) * per_sample
