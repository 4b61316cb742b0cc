"""Frame-numbered file names and atomic writes: the one home of both, stdlib only, so hosts that
have no image library and the engine use the same code.

``plate.####.exr`` pads the frame to the number of hashes, ``plate.%04d.exr`` to 4 digits and
``plate.%d.exr`` not at all; the token may appear once, in the file name.
"""
from __future__ import annotations

import os
import re
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Union

_TOKEN = re.compile(r"#+|%(0\d+)?d")


def frame_path(pattern: str, frame: int) -> str:
    """The path of ``frame`` in the sequence ``pattern``."""
    folder, name = os.path.split(pattern)
    tokens = list(_TOKEN.finditer(name))
    if len(tokens) != 1:
        raise ValueError(f"pattern {pattern!r} must hold exactly one frame token (#### or %04d), found {len(tokens)}")
    token = tokens[0]
    padding = len(token.group(0)) if token.group(0).startswith("#") else int(token.group(1) or "1")
    return os.path.join(folder, f"{name[:token.start()]}{frame:0{padding}d}{name[token.end():]}")


@contextmanager
def atomic_path(path: Union[str, Path], suffix: str = ".tmp") -> Iterator[Path]:
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
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    fsync_directory(path.parent)


def write_atomically(path: Union[str, Path], data: bytes, suffix: str = ".part") -> None:
    """Write ``data`` to ``path`` so that a reader sees the old file or the new one, never half of one."""
    with atomic_path(path, suffix) as temporary:
        temporary.write_bytes(data)


def fsync_directory(folder: Union[str, Path]) -> None:
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
