"""A run that diverged stops with an error instead of writing NaN frames; settings must be finite.

``check_event`` is meant for a run's progress callback (engine/service/workers.py, ``infusion
run``): a non-finite training loss or a non-finite fill in an interval's preview raises
:class:`RunDiverged`, which stops the run before its frames are written.
"""
from __future__ import annotations

import math

import numpy as np

from ..method.progress import StepProgress
from ..method.settings import Settings
from .shot import PreviewWritten


class RunDiverged(ValueError):
    """The training or the fill went non-finite (inf or NaN); a ValueError, as bad input is."""


def check_event(event: object) -> None:
    """Raise RunDiverged if ``event`` carries a non-finite loss or fill."""
    if isinstance(event, StepProgress) and event.loss is not None and not math.isfinite(event.loss):
        raise RunDiverged(f"training diverged: the loss is {event.loss} at level {event.level}, interval "
                          f"{event.interval}, step {event.step}; no frame was written (is the learning rate too high?)")
    if isinstance(event, PreviewWritten) and not np.isfinite(event.images).all():
        raise RunDiverged(f"the fill of level {event.level}, interval {event.interval} is not finite (inf or NaN); "
                          "no frame was written (is the learning rate too high?)")


def check_finite_settings(settings: Settings) -> None:
    """A ValueError naming every number of ``settings`` that is inf or NaN."""
    bad = [f"{name} {value}" for name, value in settings.to_dict().items()
           if isinstance(value, float) and not math.isfinite(value)]
    if bad:
        raise ValueError(f"settings must be finite numbers: {', '.join(bad)}")
