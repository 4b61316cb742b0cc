"""**Bake**: a finished result copied out of the per-user cache to a folder others can read.

The cache (``~/infusion_cache`` by default) is local to one artist; a farm render or a colleague
opening the script cannot see it. Baking copies the frames of the variant shown to
``folder/NAME/`` (the cache's file names kept), each written atomically, so a host can point its
reader there and the result travels with the shot.
"""
from __future__ import annotations

import os
import shutil
from typing import Callable, Optional, Tuple

from infusion.protocol.files import atomic_path, frame_path


class BakeError(RuntimeError):
    """A frame to bake is missing, or the destination cannot be written; the message names it."""


def baked_pattern(pattern: str, folder: str, name: str) -> str:
    """Where :func:`bake` puts the frames of ``pattern``: ``folder/name/`` with the same file names."""
    return os.path.join(os.path.abspath(folder), name, os.path.basename(pattern))


def bake(pattern: str, frames: Tuple[int, int], destination: str,
         on_frame: Optional[Callable[[int, int], None]] = None, cancelled: Callable[[], bool] = lambda: False) -> str:
    """Copy every frame of ``pattern`` over ``frames`` to the pattern ``destination``; returns it.

    ``on_frame(done, total)`` after each frame; ``cancelled()`` is polled before each and stops
    the copy (BakeError). A missing source frame is a BakeError, never a gap.
    """
    first, last = frames
    total = last - first + 1
    os.makedirs(os.path.dirname(destination), exist_ok=True)
    for done, frame in enumerate(range(first, last + 1), 1):
        if cancelled():
            raise BakeError("bake cancelled")
        source, target = frame_path(pattern, frame), frame_path(destination, frame)
        if not os.path.isfile(source):
            raise BakeError(f"frame {frame} of the result is missing: {source}")
        try:
            with atomic_path(target) as temporary:
                shutil.copyfile(source, temporary)
        except OSError as error:
            raise BakeError(f"cannot write {target}: {error}") from None
        if on_frame is not None:
            on_frame(done, total)
    return destination
