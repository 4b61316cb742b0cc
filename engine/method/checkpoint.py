"""Where a run keeps its state between intervals: the method only sees this interface.

A run saves a dict of tensors, numbers, strings, lists and dicts after every interval and, when
started again, loads the last one. How and where that dict is kept (an atomic file that loads with
``weights_only=True``: engine/storage/checkpoint_file.py) is not the method's business.
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Protocol


class CheckpointStore(Protocol):
    """A place for one run's checkpoint."""

    def load(self) -> Optional[Dict[str, Any]]:
        """The last saved state, or None when there is none."""

    def save(self, state: Dict[str, Any]) -> None:
        """Replace the saved state with ``state``, all or nothing."""

    def describe(self) -> str:
        """Where the checkpoint is, for error messages."""
