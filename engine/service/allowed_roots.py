"""Which files the engine may read by reference: absolute paths, no ``..``, and every file,
symlinks resolved, inside an allowed root."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

from infusion.protocol.messages import ErrorCode, ProtocolError


def _refuse(message: str, field: str) -> ProtocolError:
    return ProtocolError(ErrorCode.PATH_NOT_ALLOWED, message, field)


def check_reference(path: str, roots: Sequence[Path], field: str) -> str:
    """``path`` resolved (symlinks followed) if it lies inside one of ``roots``; else PATH_NOT_ALLOWED."""
    if not roots:
        raise _refuse("this engine reads no files by reference (start it with --allow-root DIR)", field)
    if not os.path.isabs(path):
        raise _refuse(f"{path!r} is not an absolute path", field)
    if ".." in Path(path).parts:
        raise _refuse(f"{path!r} contains '..'", field)
    resolved = os.path.realpath(path)
    for root in roots:
        real_root = os.path.realpath(root)
        if os.path.commonpath([resolved, real_root]) == real_root:
            return resolved
    raise _refuse(f"{path!r} lies outside the allowed roots (symlinks resolved: {resolved!r})", field)
