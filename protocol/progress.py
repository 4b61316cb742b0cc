"""How a job's progress reads: one text for the console, the client commands and the hosts."""
from __future__ import annotations

from typing import Any, Mapping


def progress_text(fields: Mapping[str, Any]) -> str:
    """``interval 3/20: train step 120/2000, 4 min left`` (``reading plate 2/48`` while reading;
    ``level 2/3, interval 12/14: ...`` in a coarse-to-fine run).

    ``fields``: those of a ``progress`` event (phase, interval (0-based, over every level), intervals,
    step, steps, remaining, and level (0-based) and levels when the run has more than one).
    """
    if fields.get("phase") == "read":
        return f"reading plate {fields.get('step')}/{fields.get('steps')}"
    line = (f"{interval_text(fields)}: "
            f"{fields.get('phase')} step {fields.get('step')}/{fields.get('steps')}")
    remaining = fields.get("remaining")
    if remaining is not None:
        line += f", {remaining / 60:.0f} min left" if remaining >= 90 else f", {remaining:.0f} s left"
    return line


def preview_text(fields: Mapping[str, Any]) -> str:
    """``preview after interval 3/20`` (``... level 2/3, interval 12/14``), from a ``preview`` event."""
    return f"preview after {interval_text(fields)}"


def interval_text(fields: Mapping[str, Any]) -> str:
    """``interval 3/20``, or ``level 2/3, interval 12/14`` when the run has several levels."""
    interval = f"interval {int(fields.get('interval') or 0) + 1}/{fields.get('intervals')}"
    levels = int(fields.get("levels") or 1)
    return interval if levels == 1 else f"level {int(fields.get('level') or 0) + 1}/{levels}, {interval}"
