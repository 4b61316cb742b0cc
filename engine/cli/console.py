"""Progress of a shot on a console: one redrawn bar on a terminal, plain lines otherwise."""
from __future__ import annotations

import sys
from typing import Optional, TextIO

from infusion.protocol.progress import interval_text, progress_text

from ..method.progress import ShotMeasured, StepProgress
from ..method.settings import Settings
from ..plates.shot import FrameWritten, PlateFrameRead, PreviewWritten
from ..service.workers import progress_fields


class ConsoleProgress:
    """A ``progress`` callable for run_shot that prints to ``stream``."""

    def __init__(self, settings: Settings, stream: Optional[TextIO] = None, tty: Optional[bool] = None, width: int = 30):
        """``settings``: the run's, which count the intervals of every level."""
        stream = stream or sys.stderr
        self.settings = settings
        self.stream = stream
        self.tty = stream.isatty() if tty is None else tty
        self.width = width
        self.loss: Optional[float] = None

    def __call__(self, event: object) -> None:
        if isinstance(event, StepProgress):
            self.loss = event.loss if event.loss is not None else self.loss
            if self.tty:
                self._bar(event)
        elif isinstance(event, PreviewWritten):
            fields = {"interval": self.settings.run_interval(event.level, event.interval), "level": event.level,
                      "intervals": self.settings.run_intervals(event.levels), "levels": event.levels}
            self._line(f"{interval_text(fields)} done{self._loss()}")
            self.loss = None  # an interval that does not train (engine/method/settings.py, prior_train) shows none
        elif isinstance(event, PlateFrameRead) and (self.tty or event.done == event.total):
            self._line(progress_text(progress_fields(event, self.settings)), redraw=event.done < event.total)
        elif isinstance(event, FrameWritten):
            self._line(f"wrote {event.path}")
        elif isinstance(event, ShotMeasured):
            self._line(event.description)

    def _loss(self) -> str:
        """", loss L" with the interval's last training loss read, or nothing before one."""
        return "" if self.loss is None else f", loss {self.loss:.4f}"

    def _bar(self, event: StepProgress) -> None:
        fields = progress_fields(event, self.settings)
        filled = int(round(fields["progress"] * self.width))
        text = f"[{'#' * filled}{'.' * (self.width - filled)}] {progress_text(fields)}{self._loss()}"
        self.stream.write("\r" + text + "\x1b[K")
        self.stream.flush()

    def _line(self, text: str, redraw: bool = False) -> None:
        """A line of its own (clearing the bar on a terminal); ``redraw`` keeps it on the same row."""
        if self.tty:
            self.stream.write("\r" + text + "\x1b[K" + ("" if redraw else "\n"))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
