"""Which files the engine may read by reference: absolute paths, no ``..``, and every file,
symlinks resolved, inside an allowed root.

A path checked and then opened again later may point elsewhere by then (a symlink swapped in
between), so a referenced file is read only through :func:`open_reference`: it opens the file
once (the last component not followed if it is a symlink) and checks the file it opened, not
the path, before anything is read.
"""
from __future__ import annotations

import errno
import fcntl
import os
import stat
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator, Sequence, Tuple

from infusion.protocol.messages import ErrorCode, ProtocolError

OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0)  # a FIFO swapped in must not block the open


def _refuse(message: str, field: str) -> ProtocolError:
    return ProtocolError(ErrorCode.PATH_NOT_ALLOWED, message, field)


def _inside(resolved: str, roots: Sequence[Path]) -> bool:
    """Whether the symlink-free path ``resolved`` lies inside one of ``roots`` (symlinks resolved)."""
    for root in roots:
        real_root = os.path.realpath(root)
        if os.path.commonpath([resolved, real_root]) == real_root:
            return True
    return False


def check_reference(path: str, roots: Sequence[Path], field: str) -> str:
    """``path`` resolved (symlinks followed) if it lies inside one of ``roots``; else PATH_NOT_ALLOWED."""
    if not roots:
        raise _refuse("this engine reads no files by reference (start it with --allow-root DIR)", field)
    if not os.path.isabs(path):
        raise _refuse(f"{path!r} is not an absolute path", field)
    if ".." in Path(path).parts:
        raise _refuse(f"{path!r} contains '..'", field)
    resolved = os.path.realpath(path)
    if _inside(resolved, roots):
        return resolved
    raise _refuse(f"{path!r} lies outside the allowed roots (symlinks resolved: {resolved!r})", field)


def opened_path(descriptor: int) -> str:
    """The path of the file open as ``descriptor``, as the kernel knows it (symlink-free)."""
    if os.path.isdir("/proc/self/fd"):
        return os.readlink(f"/proc/self/fd/{descriptor}")
    if hasattr(fcntl, "F_GETPATH"):  # macOS
        return fcntl.fcntl(descriptor, fcntl.F_GETPATH, bytes(1024)).split(b"\0", 1)[0].decode()
    raise OSError(f"this system cannot tell which file descriptor {descriptor} opened")


@contextmanager
def open_reference(path: str, roots: Sequence[Path], field: str) -> Iterator[Tuple[BinaryIO, str]]:
    """``path`` open for reading, once, and the path of the file opened: it must be a regular file
    inside ``roots``.

    PATH_NOT_ALLOWED when the path or the file opened lies outside the roots (the path changed
    between its check and the open), or is no regular file; FileNotFoundError when it is missing.
    """
    resolved = check_reference(path, roots, field)
    try:
        descriptor = os.open(resolved, OPEN_FLAGS)
    except OSError as error:
        if error.errno == errno.ELOOP:  # O_NOFOLLOW: a symlink appeared after the check
            raise _refuse(f"{path!r} changed while it was opened ({resolved!r} became a symlink)", field) from None
        raise
    stream = os.fdopen(descriptor, "rb")
    with stream:
        opened = opened_path(descriptor)
        if not _inside(opened, roots):
            raise _refuse(f"{path!r} changed while it was opened: the file opened, {opened!r}, lies outside the "
                          "allowed roots", field)
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise _refuse(f"{path!r} is not a regular file", field)
        os.set_blocking(descriptor, True)
        yield stream, opened
