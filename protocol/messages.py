"""The message schema (protocol version 1): message types, stable error codes, field validation.

Every header is a msgpack map with ``v`` (protocol version), ``type`` and ``parts`` (how many
payload frames follow it); requests carry an ``id`` that the reply echoes as ``re``. A request
that breaks the schema raises :class:`ProtocolError`, whose ``code`` is one of :class:`ErrorCode`
and whose message names the field and the problem. Pure Python: nothing beyond the stdlib.
"""
from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from . import shot as shot_schema
from .shot import DEFAULT_PRESET, MATTE_CHANNEL, Choice

PROTOCOL_VERSION = 1

# Limits every engine enforces (the engine may lower them; ``welcome`` says what it uses).
MAX_FRAMES_PER_SHOT = 10_000
MAX_TEXT = 4_096  # characters in any string field (paths included)
JOB_ID = re.compile(r"[0-9a-f]{8,64}")
# ``list`` replies a page of job summaries; every text in a summary is capped, so a full page of
# the largest summaries fits in a header (tests/service/test_job_store.py checks it).
DEFAULT_LIST_PAGE = 100
MAX_LIST_PAGE = 200
MAX_LABEL = 64  # characters of a summary's preset label and error code
MAX_SUMMARY_MESSAGE = 500  # characters of a summary's error message
LIST_CURSOR = re.compile(r"[0-9]+(\.[0-9]+)?(e[+-]?[0-9]+)?/[0-9a-f]{8,64}")  # where a page ends: created/job
MAX_AGE = 100 * 365 * 86400.0  # seconds: the most a purge's ``older_than`` may say


class ErrorCode:
    """Stable error codes; the message beside each code is for people and may change."""

    BAD_MESSAGE = "bad_message"  # not a msgpack map, unreadable frames, wrong frame count
    BAD_VERSION = "bad_version"  # a protocol version this engine does not speak
    UNKNOWN_TYPE = "unknown_type"  # a message type this engine does not know
    BAD_FIELD = "bad_field"  # a field missing, of the wrong type or out of range (``field`` names it)
    MISSING_PAYLOAD = "missing_payload"  # payload frames missing, extra or not matching their descriptors
    TOO_LARGE = "too_large"  # a frame, a message or a count over the engine's limits
    PATH_NOT_ALLOWED = "path_not_allowed"  # a path outside the allowed roots, relative, with '..' or a symlink escape
    NOT_FOUND = "not_found"  # no job with that id, no such frame, no such input file
    BAD_INPUT = "bad_input"  # inputs that arrived whole but cannot be used (unreadable EXR, empty matte)
    JOB_FAILED = "job_failed"  # the job stopped on an error while running
    STORE_FULL = "store_full"  # the engine's job store is out of space (or over its quota)
    NOT_ALLOWED = "not_allowed"  # a CURVE key the engine stopped allowing (removed from its allowed folder)
    INTERNAL = "internal"  # an engine bug; the engine keeps serving
    # Raised by the client only, never sent by an engine:
    UNAVAILABLE = "engine_unavailable"  # no answer within the timeout
    REFUSED = "refused"  # the engine answered with something the client cannot use


class ProtocolError(Exception):
    """A request or reply that breaks the protocol; ``code`` is an :class:`ErrorCode`."""

    def __init__(self, code: str, message: str, field: Optional[str] = None):
        super().__init__(message)
        self.code, self.message, self.field = code, message, field

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


# --- Message types ---------------------------------------------------------------------------

# Client -> engine.
HELLO, PING, SUBMIT, CANCEL, STATUS, LIST, ATTACH, DETACH, FETCH, PURGE = (
    "hello", "ping", "submit", "cancel", "status", "list", "attach", "detach", "fetch", "purge")
# Engine -> client: replies.
WELCOME, PONG, ACCEPTED, JOB, JOBS, DATA, PURGED, ERROR = (
    "welcome", "pong", "accepted", "job", "jobs", "data", "purged", "error")
# Engine -> client: unsolicited.
HEARTBEAT = "heartbeat"
# Engine -> client: job events (carry ``job``; all but ``progress`` carry ``seq``, 1, 2, 3... per job).
PROGRESS, PREVIEW, FRAME, DONE, FAILED, CANCELLED = "progress", "preview", "frame", "done", "failed", "cancelled"

JOB_EVENTS = (PROGRESS, PREVIEW, FRAME, DONE, FAILED, CANCELLED)
TERMINAL_EVENTS = (DONE, FAILED, CANCELLED)
JOB_STATES = ("queued", "running", "done", "failed", "cancelled")
FINISHED_STATES = ("done", "failed", "cancelled")  # what a purge may delete
INPUT_MODES = ("value", "reference")
PAYLOAD_ROLES = ("plate", "matte")


# --- Field checks ----------------------------------------------------------------------------

Check = Callable[[Any, str], Any]


def _fail(field: str, problem: str) -> ProtocolError:
    return ProtocolError(ErrorCode.BAD_FIELD, f"field {field!r} {problem}", field)


def integer(low: Optional[int] = None, high: Optional[int] = None) -> Check:
    def check(value: Any, field: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail(field, f"must be an integer, got {type(value).__name__}")
        if (low is not None and value < low) or (high is not None and value > high):
            raise _fail(field, f"must lie in [{low}, {high}], got {value}")
        return value
    return check


def text(max_length: int = MAX_TEXT, pattern: Optional["re.Pattern[str]"] = None, choices: Tuple[str, ...] = ()) -> Check:
    def check(value: Any, field: str) -> str:
        if not isinstance(value, str):
            raise _fail(field, f"must be a string, got {type(value).__name__}")
        if not value or len(value) > max_length or "\x00" in value:
            raise _fail(field, f"must be a non-empty string of at most {max_length} characters without NUL")
        if choices and value not in choices:
            raise _fail(field, f"must be one of {', '.join(choices)}, got {value!r}")
        if pattern is not None and not pattern.fullmatch(value):
            raise _fail(field, f"is malformed: {value[:80]!r}")
        return value
    return check


def number(low: Optional[float] = None, high: Optional[float] = None) -> Check:
    """An integer or a float, as a float; inf and NaN are refused, limits or not."""
    def check(value: Any, field: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _fail(field, f"must be a number, got {type(value).__name__}")
        if not math.isfinite(value) or (low is not None and value < low) or (high is not None and value > high):
            raise _fail(field, f"must lie in [{low}, {high}] (a finite number), got {value}")
        return float(value)
    return check


def boolean(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise _fail(field, f"must be true or false, got {type(value).__name__}")
    return value


def choice_check(choice: Choice) -> Check:
    """The wire's check of one shot choice (protocol/shot.py): its type and limits, or its few values."""
    if choice.kind is bool:
        return boolean
    if choice.values:
        return text(choices=tuple(choice.values))
    if choice.kind is int:
        return integer(None if choice.low is None else int(choice.low), None if choice.high is None else int(choice.high))
    if choice.kind is float:
        return number(choice.low, choice.high)
    return text()


def choice_map(section: str) -> Check:
    """A map of the shot choices of ``section``; nil values are left out (not set)."""
    def check(value: Any, field: str) -> Dict[str, Any]:
        if not isinstance(value, dict):
            raise _fail(field, f"must be a map, got {type(value).__name__}")
        known = {choice.name: choice for choice in shot_schema.choices(section)}
        unknown = sorted(str(key)[:64] for key in value if key not in known)
        if unknown:
            raise _fail(f"{field}.{unknown[0]}", f"is not one of the shot's {section} (known: {', '.join(known)})")
        return {key: choice_check(known[key])(item, f"{field}.{key}") for key, item in value.items() if item is not None}
    return check


def frame_range(value: Any, field: str) -> Tuple[int, int]:
    if not isinstance(value, list) or len(value) != 2:
        raise _fail(field, "must be a list [first, last]")
    first, last = (integer(-10**9, 10**9)(item, field) for item in value)
    if last < first:
        raise _fail(field, f"ends ({last}) before it starts ({first})")
    if last - first + 1 > MAX_FRAMES_PER_SHOT:
        raise ProtocolError(ErrorCode.TOO_LARGE, f"{last - first + 1} frames requested, at most {MAX_FRAMES_PER_SHOT}", field)
    return first, last


def optional(check: Check, default: Any = None) -> Tuple[Check, bool, Any]:
    return check, False, default


def required(check: Check) -> Tuple[Check, bool, Any]:
    return check, True, None


Schema = Mapping[str, Tuple[Check, bool, Any]]


def validate_fields(values: Any, schema: Schema, where: str = "") -> Dict[str, Any]:
    """The fields of ``values`` checked against ``schema``; unknown fields are an error naming them."""
    if not isinstance(values, dict):
        raise _fail(where or "message", f"must be a map, got {type(values).__name__}")
    unknown = sorted(str(key)[:64] for key in values if key not in schema)
    if unknown:
        raise _fail(where + unknown[0], f"is not part of this message (unknown: {', '.join(unknown)})")
    cleaned: Dict[str, Any] = {}
    for name, (check, is_required, default) in schema.items():
        if name not in values or (values[name] is None and not is_required):
            if is_required:
                raise _fail(where + name, "is required")
            cleaned[name] = default
            continue
        cleaned[name] = check(values[name], where + name)
    return cleaned


def payload_descriptor(value: Any, field: str) -> Dict[str, Any]:
    return validate_fields(value, {"role": required(text(16, choices=PAYLOAD_ROLES)),
                                   "frame": required(integer(-10**9, 10**9))}, field + ".")


def payload_list(value: Any, field: str) -> List[Dict[str, Any]]:
    if not isinstance(value, list):
        raise _fail(field, "must be a list")
    if len(value) > 2 * MAX_FRAMES_PER_SHOT:
        raise ProtocolError(ErrorCode.TOO_LARGE, f"{len(value)} payloads, at most {2 * MAX_FRAMES_PER_SHOT}", field)
    return [payload_descriptor(item, f"{field}[{index}]") for index, item in enumerate(value)]


SHOT: Schema = {
    "frames": required(frame_range),
    "plate": required(text()),  # a frame pattern (plate.####.exr); a full path by reference, a name by value
    "matte": optional(text()),  # a frame pattern of a separate matte sequence, or nil
    "matte_channel": optional(text(64), MATTE_CHANNEL),  # the matte's channel (in the matte, else in the plate)
    "preset": optional(text(64), DEFAULT_PRESET),  # nil or absent: DEFAULT_PRESET, which ``accepted`` states
    "settings": optional(choice_map("settings"), {}),  # overrides of the preset's Settings (protocol/shot.py)
    "options": optional(choice_map("options"), {}),  # plate handling (protocol/shot.py)
}


def shot(value: Any, field: str) -> Dict[str, Any]:
    return validate_fields(value, SHOT, field + ".")


JOB_FIELD = required(text(64, JOB_ID))

REQUESTS: Dict[str, Schema] = {
    HELLO: {"client": optional(text(200), "unnamed")},
    PING: {},
    SUBMIT: {"shot": required(shot), "inputs": required(text(16, choices=INPUT_MODES)),
             "payloads": optional(payload_list, [])},
    CANCEL: {"job": JOB_FIELD},
    STATUS: {"job": JOB_FIELD},
    # A page of summaries, newest first: ``after`` is the previous page's ``next`` (nil: the first page).
    LIST: {"limit": optional(integer(1, MAX_LIST_PAGE), DEFAULT_LIST_PAGE), "after": optional(text(128, LIST_CURSOR))},
    # Delete the finished jobs (FINISHED_STATES) that ended more than ``older_than`` seconds ago.
    PURGE: {"older_than": required(number(0, MAX_AGE))},
    ATTACH: {"job": JOB_FIELD, "since": optional(integer(0, 2**62), 0)},
    DETACH: {"job": JOB_FIELD},
    # variant: 1..K, 0 for the mean of K > 1 variants; interval: a preview of that interval instead of the result.
    FETCH: {"job": JOB_FIELD, "frame": required(integer(-10**9, 10**9)), "variant": optional(integer(0, 1024), 1),
            "interval": optional(integer(0, 10**6))},
}

ENVELOPE = ("v", "type", "id", "parts")


@dataclass(frozen=True)
class Request:
    """A validated request: its type, the client's request id and its fields."""

    type: str
    id: int
    fields: Dict[str, Any]


def request_id(header: Any) -> Optional[int]:
    """The request id of a header if it has a usable one (to address an error reply), else None."""
    if isinstance(header, dict):
        value = header.get("id")
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63:
            return value
    return None


def validate_request(header: Any, parts: int) -> Request:
    """Check a decoded header against the schema of its type; ``parts``: payload frames received."""
    if not isinstance(header, dict):
        raise ProtocolError(ErrorCode.BAD_MESSAGE, f"the header must be a msgpack map, got {type(header).__name__}")
    version = header.get("v")
    if type(version) is not int or version != PROTOCOL_VERSION:
        raise ProtocolError(ErrorCode.BAD_VERSION, f"protocol version {version!r} is not supported; this engine speaks {PROTOCOL_VERSION}", "v")
    kind = header.get("type")
    if kind not in REQUESTS:
        shown = kind[:40] if isinstance(kind, str) else type(kind).__name__
        raise ProtocolError(ErrorCode.UNKNOWN_TYPE, f"unknown message type {shown!r}; known: {', '.join(REQUESTS)}", "type")
    ident = integer(0, 2**63 - 1)(header.get("id"), "id")
    declared = integer(0, 2 * MAX_FRAMES_PER_SHOT)(header.get("parts", 0), "parts")
    if declared != parts:
        raise ProtocolError(ErrorCode.MISSING_PAYLOAD, f"the header announces {declared} payload frames but {parts} arrived", "parts")
    body = {key: value for key, value in header.items() if key not in ENVELOPE}
    fields = validate_fields(body, REQUESTS[kind])
    if kind == SUBMIT:
        check_payload_plan(fields, parts)
    elif parts:
        raise ProtocolError(ErrorCode.MISSING_PAYLOAD, f"a {kind} message carries no payload frames, {parts} arrived", "parts")
    return Request(kind, ident, fields)


def check_payload_plan(fields: Dict[str, Any], parts: int) -> None:
    """By value: one payload per plate frame (and per matte frame), each described once; by reference: none."""
    descriptors = fields["payloads"]
    if fields["inputs"] == "reference":
        if descriptors or parts:
            raise ProtocolError(ErrorCode.MISSING_PAYLOAD, "a submit by reference carries no payloads", "payloads")
        return
    if len(descriptors) != parts:
        raise ProtocolError(ErrorCode.MISSING_PAYLOAD, f"{len(descriptors)} payload descriptors for {parts} payload frames", "payloads")
    first, last = fields["shot"]["frames"]
    roles = ("plate", "matte") if fields["shot"]["matte"] else ("plate",)
    wanted = {(role, frame) for role in roles for frame in range(first, last + 1)}
    seen = [(item["role"], item["frame"]) for item in descriptors]
    if len(set(seen)) != len(seen):
        raise ProtocolError(ErrorCode.MISSING_PAYLOAD, "a payload descriptor appears twice", "payloads")
    if set(seen) != wanted:
        missing = sorted(wanted - set(seen))[:3]
        extra = sorted(set(seen) - wanted)[:3]
        raise ProtocolError(ErrorCode.MISSING_PAYLOAD, f"payloads must cover {', '.join(roles)} frames {first}-{last} once each "
                            f"(missing e.g. {missing}, unexpected e.g. {extra})", "payloads")


def list_cursor(created: float, job: str) -> str:
    """The ``next`` of a ``jobs`` page whose last job is ``job``, created at ``created``."""
    return f"{created!r}/{job}"


def cursor_position(cursor: str) -> Tuple[float, str]:
    """(created, job) of a cursor that :data:`LIST_CURSOR` accepted."""
    created, job = cursor.split("/")
    return float(created), job


def printable(value: Any, limit: int) -> str:
    """``value`` as text safe on a terminal: every control or format character (escape sequences,
    carriage returns, bidirectional overrides) shown as U+FFFD, cut to ``limit`` characters ("..." marks a cut)."""
    shown = "".join("\ufffd" if unicodedata.category(c).startswith("C") else c for c in str(value))
    return shown if len(shown) <= limit else shown[:limit - 3] + "..."


def header(kind: str, parts: int = 0, **fields: Any) -> Dict[str, Any]:
    """A header of type ``kind`` at this protocol version, announcing ``parts`` payload frames."""
    return {"v": PROTOCOL_VERSION, "type": kind, "parts": parts, **fields}


def error_header(error: ProtocolError, request: Optional[int]) -> Dict[str, Any]:
    """The ``error`` reply for ``error``, addressed to request ``request`` (nil when unknown)."""
    return header(ERROR, re=request, code=error.code, message=error.message, field=error.field)
