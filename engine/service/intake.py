"""A validated ``submit`` turned into a job: settings, options, inputs checked, a job id, a record.

The job id is a digest of everything that changes the result: the input files (their bytes by
value; resolved path, size and modification time by reference), the frame range, the matte
channel, the options and the result-changing settings. Submitting the same again finds the job.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Sequence, Tuple

import msgpack

from infusion.protocol.messages import ErrorCode, ProtocolError, choice_check, choice_map
from infusion.protocol.files import write_atomically
from infusion.protocol.shot import choices
from infusion.protocol.wire import Payload

from ..method.presets import PRESETS, preset
from .allowed_roots import check_reference
from ..plates.divergence import check_finite_settings
from ..plates.overwrite import check_outputs_apart
from ..plates.sequence import FramePattern
from ..method.settings import Settings
from ..plates.request import ShotRequest

EXR_MAGIC = b"\x76\x2f\x31\x01"
STORED_PATTERN = "{role}.########.exr"


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


def reference_files(shot: Dict[str, Any], roots: Sequence[Path]) -> List[Tuple[str, str, int, int]]:
    """(role, resolved path, size, mtime_ns) of every referenced frame, each checked under ``roots``."""
    first, last = shot["frames"]
    found = []
    for role in ("plate", "matte"):
        if not shot[role]:
            continue
        pattern = parse_pattern(shot[role], f"shot.{role}")
        for frame in range(first, last + 1):
            resolved = check_reference(pattern.path(frame), roots, f"shot.{role}")
            if not os.path.isfile(resolved):
                raise _bad(f"shot.{role}", f"{role} frame {frame} is missing: {pattern.path(frame)}", ErrorCode.NOT_FOUND)
            stat = os.stat(resolved)
            found.append((role, resolved, stat.st_size, stat.st_mtime_ns))
    return found


def plan_submit(fields: Dict[str, Any], payloads: Sequence[Payload], roots: Sequence[Path]) -> Plan:
    """Check a validated submit (messages.validate_request) and plan its job."""
    shot = fields["shot"]
    settings = resolve_settings(shot["preset"], shot["settings"])
    by_value = fields["inputs"] == "value"
    request = {"frames": list(shot["frames"]), "matte_channel": shot["matte_channel"],
               "options": with_defaults(shot["options"])}
    identity: List[Any]
    if by_value:
        for index, (descriptor, data) in enumerate(zip(fields["payloads"], payloads)):
            if bytes(data[:4]) != EXR_MAGIC:
                raise _bad("payloads", f"payload {index} ({descriptor['role']} frame {descriptor['frame']}) is not an EXR file",
                           ErrorCode.BAD_INPUT)
        identity = [[d["role"], d["frame"], hashlib.sha256(data).hexdigest()] for d, data in zip(fields["payloads"], payloads)]
        for role in ("plate", "matte"):
            request[role] = STORED_PATTERN.format(role=role) if shot[role] else None
    else:
        identity = [list(item) for item in reference_files(shot, roots)]
        request.update(plate=shot["plate"], matte=shot["matte"])
    key = {"inputs": fields["inputs"], "request": {**request, "plate": None, "matte": None} if by_value else request,
           "settings": settings.result_fields(), "files": sorted(identity)}
    job_id = hashlib.sha256(msgpack.packb(key, use_bin_type=True)).hexdigest()[:24]
    record = {"inputs": fields["inputs"], "shot": request, "settings": settings.to_dict()}

    def fill_inputs(folder: Path) -> None:
        for descriptor, data in zip(fields["payloads"], payloads) if by_value else ():
            path = folder / FramePattern.parse(STORED_PATTERN.format(role=descriptor["role"])).path(descriptor["frame"])
            write_atomically(path, data)

    return Plan(job_id, record, fill_inputs)


def shot_request(record: Dict[str, Any], folder: Path, roots: Sequence[Path]) -> ShotRequest:
    """The ShotRequest of a stored job; references are checked under ``roots`` again (they may have changed),
    and an output that would overwrite an input frame is PATH_NOT_ALLOWED."""
    shot = record["shot"]
    for choice in choices("settings"):  # a record edited on disk is held to the limits a submit is
        choice_check(choice)(record["settings"][choice.name], f"shot.settings.{choice.name}")
    choice_map("options")(shot["options"], "shot.options")
    settings = Settings.from_dict(record["settings"])
    check_finite_settings(settings)
    if record["inputs"] == "reference":
        reference_files(shot, roots)
        plate, matte = shot["plate"], shot["matte"]
    else:
        plate = str(folder / "inputs" / shot["plate"])
        matte = str(folder / "inputs" / shot["matte"]) if shot["matte"] else None
    request = ShotRequest(plate=plate, frames=tuple(shot["frames"]), out=str(folder / "out" / "fill.####.exr"),
                          settings=settings, matte=matte, matte_channel=shot["matte_channel"], **shot["options"])
    try:
        check_outputs_apart(request)
    except ValueError as error:
        raise _bad("shot.plate", str(error), ErrorCode.PATH_NOT_ALLOWED) from None
    return request
