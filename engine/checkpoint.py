"""Atomic checkpoints that load with ``weights_only=True`` (tensors, numbers, strings, lists, dicts).

A checkpoint is written to a temporary file in the same folder, flushed to disk, then renamed
over the old one, so a crash at any moment leaves either the previous checkpoint or the new one.
"""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, Iterator, Optional

import torch


def save_checkpoint(path: Path, payload: Dict[str, Any]) -> None:
    """Write ``payload`` to ``path`` atomically (temporary file, fsync, rename, fsync of the folder)."""
    with atomic_path(path) as temporary:
        torch.save(payload, temporary)


@contextmanager
def atomic_path(path: Path, suffix: str = ".tmp") -> Iterator[Path]:
    """A temporary path beside ``path`` for the caller to write. When the block ends, the file is
    flushed to disk and renamed over ``path`` (and the rename made durable); on any error, or if
    the process dies first, ``path`` keeps its old content and the temporary file is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(handle)
    try:
        yield Path(temporary)
        with open(temporary, "rb") as stream:
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    fsync_directory(path.parent)


def fsync_directory(folder: Path) -> None:
    """Make a rename inside ``folder`` durable (a no-op where folders cannot be opened)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def load_checkpoint(path: Path) -> Optional[Dict[str, Any]]:
    """The checkpoint at ``path`` (weights only, on the CPU), or None if there is none."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # a corrupt file must name itself, not crash obscurely
        raise ValueError(f"checkpoint {path} cannot be read ({error}); delete it to start over") from error
