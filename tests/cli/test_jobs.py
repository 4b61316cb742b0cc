"""``infusion jobs`` on its own: a summary from any engine (an older one sends labels uncapped) prints as
one safe row; ages read as seconds."""
from __future__ import annotations

import argparse

import pytest

from infusion.engine.cli.jobs import age_seconds, row
from infusion.protocol.messages import MAX_LABEL


def test_a_hostile_summary_prints_as_one_row_without_control_characters() -> None:
    forged = "\x1b[2J\x1b[H\r\n" + "f" * 24 + "  done"
    summary = {"job": "ab" * 12, "state": "failed", "progress": 0.5, "frames": [1, 4], "created": 0.0,
               "preset": "x" * 4000 + forged, "error": {"code": "job_failed\x07", "message": forged}}
    shown = row(summary)
    assert shown.startswith("ab" * 12 + "  failed") and "\n" not in shown and "\r" not in shown and "\x1b" not in shown
    assert "x" * (MAX_LABEL - 3) + "..." in shown and "x" * MAX_LABEL not in shown


def test_ages_read_as_seconds_and_a_bad_one_is_named() -> None:
    assert [age_seconds(text) for text in ("30d", "12h", "90m", "45s", "45", "1.5w")] == [
        30 * 86400, 12 * 3600, 90 * 60, 45, 45, 1.5 * 7 * 86400]
    for bad in ("soon", "-1d", "3y", "1e9d"):
        with pytest.raises(argparse.ArgumentTypeError, match=repr(bad)):
            age_seconds(bad)
