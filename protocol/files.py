"""Frame-numbered file names and atomic writes, for hosts that have no image library.

``plate.####.exr`` pads the frame to the number of hashes, ``plate.%04d.exr`` to 4 digits and
``plate.%d.exr`` not at all; the token may appear once, in the file name.
"""
from __future__ import annotations

import os
import re
import tempfile

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


def write_atomically(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a reader sees the old file or the new one, never half of one."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".part", dir=folder)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
