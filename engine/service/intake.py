"""A validated ``submit`` turned into a job: settings, options, inputs checked, a job id, a record.

The job id is a digest of everything that changes the result: the input files (their bytes by
value; the file opened, its size and modification time by reference), the frame range, the matte
channel, the options and the result-changing settings. Submitting the same again finds the job.

A job reads its inputs only from its own ``inputs/`` folder. By reference, intake opens each
frame once and checks the file opened (allowed_roots.open_reference) and lists what it found in
``inputs/references.msgpack``; when the job starts, its worker copies each frame in through one
more checked open and refuses a file that is not the one listed. A referenced path that changes
later (a symlink swapped while the job runs) is never read, and a submit stays quick.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, BinaryIO, Callable, Dict, List, Optional, Sequence

import msgpack

from infusion.protocol.messages import ErrorCode, ProtocolError, choice_check, choice_map
from infusion.protocol.files import atomic_path, frame_path, write_atomically
from infusion.protocol.shot import choices
from infusion.protocol.wire import Payload

from ..method.presets import PRESETS, preset
from .allowed_roots import open_reference
from .job_store import full_store, read_msgpack, write_msgpack
from ..plates.divergence import check_finite_settings
from ..plates.exr import read_spec
from ..plates.overwrite import check_outputs_apart
from ..plates.sequence import FramePattern
from ..method.settings import Settings
from ..plates.request import ShotRequest

EXR_MAGIC = b"\x76\x2f\x31\x01"
STORED_PATTERN = "{role}.########.exr"
REFERENCES = "references.msgpack"  # in a job's inputs/: its referenced frames as intake checked them


@dataclass
class Plan:
    """What intake decided: the job id, its record, and how to write its inputs (by value)."""

    job_id: str
    record: Dict[str, Any]
    fill_inputs: Callable[[Path], None]


def _bad(field: str, message: str, code: str = ErrorCode.BAD_FIELD) -> ProtocolError:
    return ProtocolError(code, message, field)


def resolve_settings(name: str, overrides: Dict[str, Any]) -> Settings:
    """The preset with the shot's ``overrides`` (checked by the wire); a bad preset or combination, or a
    number that is not finite, names the field."""
    field = "shot.settings" if name in PRESETS else "shot.preset"
    try:
        settings = preset(name, **overrides)
        check_finite_settings(settings)
        return settings
    except ValueError as error:
        raise _bad(field, str(error)) from None


def with_defaults(options: Dict[str, Any]) -> Dict[str, Any]:
    """Every shot option: those the shot sets (checked by the wire), the defaults for the rest."""
    return {choice.name: options.get(choice.name, choice.default) for choice in choices("options")}


def parse_pattern(pattern: str, field: str) -> FramePattern:
    try:
        return FramePattern.parse(pattern)
    except ValueError as error:
        raise _bad(field, str(error)) from None


@dataclass(frozen=True)
class Reference:
    """One referenced frame as checked at intake: the file opened (symlinks resolved), its size and mtime."""

    role: str
    frame: int
    path: str
    opened: str
    size: int
    mtime_ns: int

    @property
    def identity(self) -> List[Any]:
        return [self.role, self.frame, self.opened, self.size, self.mtime_ns]


def stored_path(folder: Path, role: str, frame: int) -> Path:
    """Where a job keeps its copy of an input frame (by value and by reference alike)."""
    return folder / FramePattern.parse(STORED_PATTERN.format(role=role)).path(frame)


def _read_reference(role: str, frame: int, path: str, roots: Sequence[Path],
                    read: Callable[[BinaryIO], None]) -> Reference:
    """Open the referenced ``path`` once (checked as opened), hand it to ``read``; what was opened."""
    try:
        with open_reference(path, roots, f"shot.{role}") as (stream, where):
            found = os.fstat(stream.fileno())
            opened = Reference(role, frame, path, where, found.st_size, found.st_mtime_ns)
            read(stream)
            return opened
    except FileNotFoundError:
        raise _bad(f"shot.{role}", f"{role} frame {frame} is missing: {path}", ErrorCode.NOT_FOUND) from None


def reference_files(shot: Dict[str, Any], roots: Sequence[Path]) -> List[Reference]:
    """Every referenced frame of ``shot``, each opened and checked inside ``roots`` (nothing read)."""
    first, last = shot["frames"]
    found = []
    for role in ("plate", "matte"):
        if not shot[role]:
            continue
        pattern = parse_pattern(shot[role], f"shot.{role}")
        found.extend(_read_reference(role, frame, pattern.path(frame), roots, lambda stream: None)
                     for frame in range(first, last + 1))
    return found


def copy_references(folder: Path, roots: Sequence[Path], between: Callable[[], None]) -> None:
    """Copy into a job's inputs ``folder`` each referenced frame intake listed there (none by value)
    that is not copied yet, read through one checked open; ``between`` runs before each frame (it
    raises to stop). A file that is not the one intake checked (another file, resized, rewritten)
    is BAD_INPUT; one outside ``roots`` now is PATH_NOT_ALLOWED."""
    listed = folder / REFERENCES
    for checked in (Reference(**item) for item in (read_msgpack(listed) if listed.exists() else ())):
        target = stored_path(folder, checked.role, checked.frame)
        if target.exists():  # copied by an earlier run of the job (each copy appears whole)
            continue
        between()
        with atomic_path(target) as temporary:
            with open(temporary, "wb") as copy:
                copied = _read_reference(checked.role, checked.frame, checked.path, roots,
                                         lambda stream: shutil.copyfileobj(stream, copy))
            if copied != checked:
                raise _bad(f"shot.{checked.role}", f"{checked.role} frame {checked.frame} changed after it was "
                           f"submitted: {checked.path} (submitted: {checked.opened}, {checked.size} bytes; now "
                           f"{copied.opened}, {copied.size} bytes): submit the shot again", ErrorCode.BAD_INPUT)


def plan_submit(fields: Dict[str, Any], payloads: Sequence[Payload], roots: Sequence[Path],
                owner: Optional[str] = None) -> Plan:
    """Check a validated submit (messages.validate_request) and plan its job; ``owner``: the CURVE
    key that submitted it (its job, apart from the same shot another key submits), None without CURVE."""
    shot = fields["shot"]
    settings = resolve_settings(shot["preset"], shot["settings"])
    by_value = fields["inputs"] == "value"
    request = {"frames": list(shot["frames"]), "matte_channel": shot["matte_channel"],
               "options": with_defaults(shot["options"])}
    for role in ("plate", "matte"):
        request[role] = STORED_PATTERN.format(role=role) if shot[role] else None
    if by_value:
        for index, (descriptor, data) in enumerate(zip(fields["payloads"], payloads)):
            if bytes(data[:4]) != EXR_MAGIC:
                raise _bad("payloads", f"payload {index} ({descriptor['role']} frame {descriptor['frame']}) is not an EXR file",
                           ErrorCode.BAD_INPUT)
        identity = [[d["role"], d["frame"], hashlib.sha256(data).hexdigest()] for d, data in zip(fields["payloads"], payloads)]
        references: List[Reference] = []
    else:
        references = reference_files(shot, roots)
        identity = [reference.identity for reference in references]
    sources = {"plate": shot["plate"], "matte": shot["matte"]}  # paths by reference, file names by value
    key = {"inputs": fields["inputs"], "request": {**request, **(sources if not by_value else dict.fromkeys(sources))},
           "settings": settings.result_fields(), "files": sorted(identity), **({"owner": owner} if owner else {})}
    job_id = hashlib.sha256(msgpack.packb(key, use_bin_type=True)).hexdigest()[:24]
    record = {"inputs": fields["inputs"], "shot": request, "settings": settings.to_dict(), "sources": sources,
              "owner": owner}

    def fill_inputs(folder: Path) -> None:
        for descriptor, data in zip(fields["payloads"], payloads) if by_value else ():
            role, frame = descriptor["role"], descriptor["frame"]
            try:
                write_atomically(stored_path(folder, role, frame), data)
            except OSError as error:  # a full store: say which of the user's frames found no room
                known = full_store(error, folder.parents[2],  # folder: STORE/jobs/.JOB.XXXXXXXX/inputs
                                   f"{role} frame {frame} ({frame_path(shot[role], frame)}) of the new job {job_id}")
                if known is None:
                    raise
                raise known from None
            check_header(stored_path(folder, role, frame), role, frame, frame_path(shot[role], frame))
        if references:
            write_msgpack(folder / REFERENCES, [asdict(reference) for reference in references])

    return Plan(job_id, record, fill_inputs)


def check_header(stored: Path, role: str, frame: int, name: str) -> None:
    """BAD_INPUT, naming the user's file ``name``, unless the stored copy's EXR header reads and
    declares a frame within the engine's limits (plates/exr.py)."""
    try:
        read_spec(str(stored))
    except ValueError as error:
        raise _bad("payloads", f"{role} frame {frame} ({name}) is not a usable EXR file: "
                   f"{str(error).replace(str(stored), name)}", ErrorCode.BAD_INPUT) from None


def named_for_user(message: str, record: Dict[str, Any], folder: Path) -> str:
    """``message`` with each of the job's input copies (``FOLDER/inputs/plate.00001001.exr``) named
    as the user named that frame (a path by reference, a file name by value)."""
    sources = record.get("sources") or record.get("references") or {}  # "references": records of older engines
    copy = re.compile(re.escape(str(folder / "inputs")) + r"/(plate|matte)\.(-?\d+)\.exr")

    def user_name(found: "re.Match[str]") -> str:
        pattern = sources.get(found.group(1))
        return frame_path(pattern, int(found.group(2))) if pattern else found.group(0)
    return copy.sub(user_name, message)


def shot_request(record: Dict[str, Any], folder: Path) -> ShotRequest:
    """The ShotRequest of a stored job, which reads its inputs from its own ``inputs/`` folder.

    A record held to what a submit is: settings and options within their limits, inputs that are
    the job's copies (PATH_NOT_ALLOWED otherwise, as for a job stored by an engine that read its
    references as it ran), no output that would overwrite an input frame (PATH_NOT_ALLOWED).
    """
    shot = record["shot"]
    for choice in choices("settings"):  # a record edited on disk is held to the limits a submit is
        choice_check(choice)(record["settings"][choice.name], f"shot.settings.{choice.name}")
    choice_map("options")(shot["options"], "shot.options")
    settings = Settings.from_dict(record["settings"])
    check_finite_settings(settings)
    for role in ("plate", "matte"):
        if shot[role] != STORED_PATTERN.format(role=role) and not (role == "matte" and shot[role] is None):
            raise _bad(f"shot.{role}", f"the job's {role} {str(shot[role])[:200]!r} is not its copy in the store "
                       "(a job stored by an older engine, or an edited record): submit the shot again",
                       ErrorCode.PATH_NOT_ALLOWED)
    inputs = folder / "inputs"
    request = ShotRequest(plate=str(inputs / shot["plate"]), frames=tuple(shot["frames"]),
                          out=str(folder / "out" / "fill.####.exr"), settings=settings,
                          matte=str(inputs / shot["matte"]) if shot["matte"] else None,
                          matte_channel=shot["matte_channel"], **shot["options"])
    try:
        check_outputs_apart(request)
    except ValueError as error:
        raise _bad("shot.plate", str(error), ErrorCode.PATH_NOT_ALLOWED) from None
    return request
