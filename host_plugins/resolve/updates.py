"""A Follower's updates, handed from its thread to Fusion's UI thread.

Fusion's UI objects belong to the thread running the dispatcher's loop, so a Follower's thread
never touches them: it puts each :class:`Update` in an :class:`UpdateQueue`, and the panel's timer
(on the UI thread) takes them out.
"""
from __future__ import annotations

import queue
from typing import List

from infusion.host_plugins.common import Update

BAR_WIDTH = 24


class UpdateQueue:
    """``on_update`` of one Follower; :meth:`take` empties it from the UI thread."""

    def __init__(self) -> None:
        self._queue: "queue.Queue[Update]" = queue.Queue()

    def __call__(self, update: Update) -> None:
        self._queue.put(update)

    def take(self) -> List[Update]:
        """The updates that arrived since the last call, oldest first."""
        taken = []
        while True:
            try:
                taken.append(self._queue.get_nowait())
            except queue.Empty:
                return taken


def progress_bar(fraction: float) -> str:
    """``██████░░░░░░ 50%``: the progress bar the panel shows in a label."""
    fraction = min(max(fraction, 0.0), 1.0)
    filled = round(BAR_WIDTH * fraction)
    return f"{'█' * filled}{'░' * (BAR_WIDTH - filled)} {100 * fraction:.0f}%"
