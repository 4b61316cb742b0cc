"""How a job's progress reads: one text for the console, the client commands and the hosts."""
from __future__ import annotations

from typing import Any, Mapping


def progress_text(fields: Mapping[str, Any]) -> str:
    """``interval 3/20: train step 120/2000, 4 min left`` (``reading plate 2/48`` while reading).

    ``fields``: those of a ``progress`` event (phase, interval (0-based), intervals, step, steps, remaining).
    """
    if fields.get("phase") == "read":
        return f"reading plate {fields.get('step')}/{fields.get('steps')}"
    line = (f"interval {int(fields.get('interval') or 0) + 1}/{fields.get('intervals')}: "
            f"{fields.get('phase')} step {fields.get('step')}/{fields.get('steps')}")
    remaining = fields.get("remaining")
    if remaining is not None:
        line += f", {remaining / 60:.0f} min left" if remaining >= 90 else f", {remaining:.0f} s left"
    return line


def preview_text(fields: Mapping[str, Any]) -> str:
    """``preview after interval 3/20``, from the fields of a ``preview`` event."""
    return f"preview after interval {int(fields['interval']) + 1}/{fields['intervals']}"
