"""Frame-numbered file names and atomic writes: the one home of both, stdlib only, so hosts that
have no image library and the engine use the same code.

``plate.####.exr`` pads the frame to the number of hashes, ``plate.%04d.exr`` to 4 digits and
``plate.%d.exr`` not at all; the token may appear once, in the file name.

An atomic write of ``fill.1003.exr`` goes through ``.fill.1003.exr.XXXXXXXX.tmp`` beside it:
hidden, and ending in neither the frame's extension nor anything a frame pattern matches, so no
sequence reader takes it for a frame. One left by a killed process is removed by
:func:`remove_temporaries` (of given files) or :func:`remove_temporaries_under` (a folder's own files).
"""
from __future__ import annotations

import os
import re
import secrets
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Set, Union

_TOKEN = re.compile(r"#+|%(0\d+)?d")
TEMPORARY_SUFFIX = ".tmp"
# ``.NAME.``, 8 random characters, the suffix; older releases (tempfile's names) ended a frame's
# temporary in its own extension (.exr) and write_atomically's in .part.
_TEMPORARY = re.compile(r"\.(?P<name>.+)\.[a-z0-9_]{8}\.(?:tmp|part|exr)")


def frame_path(pattern: str, frame: int) -> str:
    """The path of ``frame`` in the sequence ``pattern``."""
    folder, name = os.path.split(pattern)
    tokens = list(_TOKEN.finditer(name))
    if len(tokens) != 1:
        raise ValueError(f"pattern {pattern!r} must hold exactly one frame token (#### or %04d), found {len(tokens)}")
    token = tokens[0]
    padding = len(token.group(0)) if token.group(0).startswith("#") else int(token.group(1) or "1")
    return os.path.join(folder, f"{name[:token.start()]}{frame:0{padding}d}{name[token.end():]}")


def _create_temporary(path: Path) -> Path:
    """A new empty ``.NAME.XXXXXXXX.tmp`` beside ``path``, created with the permissions the user's
    umask gives a new file (mkstemp's are 0600, and the rename would keep them)."""
    while True:
        temporary = path.parent / f".{path.name}.{secrets.token_hex(4)}{TEMPORARY_SUFFIX}"
        try:
            os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            return temporary
        except FileExistsError:  # another write's name: draw again
            continue


@contextmanager
def atomic_path(path: Union[str, Path]) -> Iterator[Path]:
    """A temporary path beside ``path`` for the caller to write (``.NAME.XXXXXXXX.tmp``: a writer
    that picks a format by extension must be told the format; the file gets the permissions of a
    new file under the user's umask). When the block ends, the file is
    flushed to disk and renamed over ``path`` (and the rename made durable); on any error ``path``
    keeps its old content and the temporary file is removed; if the process dies first, ``path``
    keeps its old content and the temporary stays until :func:`remove_temporaries` removes it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = _create_temporary(path)
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


def write_atomically(path: Union[str, Path], data: bytes) -> None:
    """Write ``data`` to ``path`` so that a reader sees the old file or the new one, never half of one."""
    with atomic_path(path) as temporary:
        temporary.write_bytes(data)


def written_name(name: str) -> str:
    """The name of the file an atomic write's temporary ``name`` (``.NAME.XXXXXXXX.tmp``) is for;
    any other name as it is."""
    match = _TEMPORARY.fullmatch(name)
    return match.group("name") if match else name


def _remove(found: List[Path]) -> List[Path]:
    removed = []
    for stale in found:
        try:
            stale.unlink()
            removed.append(stale)
        except FileNotFoundError:  # gone meanwhile
            pass
    return removed


def remove_temporaries(paths: Iterable[Union[str, Path]]) -> List[Path]:
    """Remove what atomic writes of the files ``paths`` left when their process was killed; what
    was removed. Only those files' temporaries (each folder listed once): call it before writing
    them again, with no other process writing them."""
    names: Dict[Path, Set[str]] = {}
    for path in map(Path, paths):
        names.setdefault(path.parent, set()).add(path.name)
    found = []
    for folder, wanted in names.items():
        for entry in folder.iterdir() if folder.is_dir() else ():
            match = _TEMPORARY.fullmatch(entry.name)
            if match and match.group("name") in wanted and entry.is_file():
                found.append(entry)
    return _remove(found)


def remove_temporaries_under(folder: Union[str, Path]) -> List[Path]:
    """Remove every atomic write's temporary under ``folder`` (its subfolders included); only for a
    folder no other process writes (the engine's store under its lock, a run's work dir)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return _remove([p for p in folder.rglob(".*") if _TEMPORARY.fullmatch(p.name) and p.is_file()])


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
