"""Frames on the wire: one msgpack header frame, then the payload frames it announces.

Payloads (EXR file bytes) always travel as their own ZeroMQ frames, never inside msgpack. The
header decoder refuses anything but plain msgpack (no extension types) and anything larger than
``MAX_HEADER_BYTES``; :func:`receive` reads a message frame by frame and stops keeping frames
beyond the caps, so an oversized message costs no more memory than the caps allow.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Union

import msgpack
import zmq

from .messages import ErrorCode, ProtocolError

MAX_HEADER_BYTES = 1 << 20
MAX_PAYLOAD_BYTES = 1 << 30  # one EXR frame
MAX_PAYLOADS = 20_000
MAX_MESSAGE_BYTES = 16 << 30  # everything one message may carry

Payload = Union[bytes, memoryview]


@dataclass
class Message:
    """A received message: ``header`` (decoded, not yet validated), ``payloads``, or the ``error`` that spoiled it."""

    header: Any = None
    payloads: List[Payload] = field(default_factory=list)
    error: Optional[ProtocolError] = None
    user: Optional[str] = None  # CurveZMQ: the sender's public key (Z85), as the ZAP handler admitted it
    source: Optional[int] = None  # the file descriptor of the connection it came on (ZMQ_SRCFD), if known


def _no_extensions(code: int, data: bytes) -> Any:
    raise ValueError(f"msgpack extension type {code} is not allowed")


def pack(header: Dict[str, Any]) -> bytes:
    """The header as msgpack bytes (binary strings as bin, text as str)."""
    data = msgpack.packb(header, use_bin_type=True)
    if len(data) > MAX_HEADER_BYTES:
        raise ProtocolError(ErrorCode.TOO_LARGE, f"header of {len(data)} bytes exceeds {MAX_HEADER_BYTES}")
    return data


def unpack(data: Payload) -> Any:
    """Decode a header frame; anything that is not plain msgpack is a BAD_MESSAGE error."""
    if len(data) > MAX_HEADER_BYTES:
        raise ProtocolError(ErrorCode.TOO_LARGE, f"header of {len(data)} bytes exceeds {MAX_HEADER_BYTES}")
    try:
        return msgpack.unpackb(bytes(data), raw=False, strict_map_key=True, use_list=True, ext_hook=_no_extensions,
                               timestamp=0)
    except Exception as error:  # msgpack raises several types for bad input; all mean the same here
        raise ProtocolError(ErrorCode.BAD_MESSAGE, f"the header is not a valid msgpack message ({type(error).__name__}: {str(error)[:120]})") from None


def encode(header: Dict[str, Any], payloads: Sequence[Payload] = ()) -> List[Payload]:
    """The frames of one message; ``header`` must already announce ``len(payloads)`` in ``parts``."""
    if header.get("parts", 0) != len(payloads):
        raise ValueError(f"header announces {header.get('parts')} payloads, {len(payloads)} given")
    return [pack(header), *payloads]


def decode(frames: Sequence[Payload]) -> Message:
    """Split received frames (envelope already removed) into header and payloads."""
    if not frames:
        return Message(error=ProtocolError(ErrorCode.BAD_MESSAGE, "an empty message"))
    try:
        return Message(unpack(frames[0]), list(frames[1:]))
    except ProtocolError as error:
        return Message(error=error)


def receive(socket: zmq.Socket, envelope: int = 0) -> "tuple[List[bytes], Message]":
    """Read one whole multipart message from ``socket`` (ready to read).

    Returns the first ``envelope`` frames (a ROUTER's peer identity) and the decoded rest, with
    the sender's CURVE key as ``user`` where the socket authenticates and the connection's file
    descriptor as ``source`` (a ROUTER tells two connections on one identity apart by it). Frames
    beyond ``MAX_PAYLOADS`` or ``MAX_MESSAGE_BYTES`` are read and dropped, and the message comes
    back with a TOO_LARGE error instead.
    """
    route: List[bytes] = []
    frames: List[Payload] = []
    total, error, user, source = 0, None, None, None
    more = True
    while more:
        frame = socket.recv(copy=False)
        more = bool(frame.more)
        if len(route) < envelope:
            route.append(frame.bytes)
            continue
        if total == 0 and not frames:
            user, source = _user_id(frame), _source(frame)
        total += len(frame)
        if error is None and (len(frames) > MAX_PAYLOADS or total > MAX_MESSAGE_BYTES):
            error = ProtocolError(ErrorCode.TOO_LARGE, f"message over {MAX_PAYLOADS} payloads or {MAX_MESSAGE_BYTES} bytes")
            frames = []
        if error is None:
            frames.append(frame.buffer if len(frame) > 65536 else frame.bytes)
    message = Message(error=error) if error is not None else decode(frames)
    message.user, message.source = user, source
    return route, message


def _source(frame: zmq.Frame) -> Optional[int]:
    """The file descriptor of the connection ``frame`` came on, or None where libzmq does not say."""
    try:
        return int(frame.get(zmq.SRCFD))
    except (zmq.ZMQError, AttributeError, TypeError, ValueError):
        return None


def _user_id(frame: zmq.Frame) -> Optional[str]:
    """The ZAP User-Id of the connection ``frame`` came on (a CURVE client's public key), or None."""
    try:
        return frame.get("User-Id")
    except zmq.ZMQError:  # no ZAP handler on this socket
        return None


def send(socket: zmq.Socket, header: Dict[str, Any], payloads: Sequence[Payload] = (), route: Sequence[bytes] = ()) -> None:
    """Send one message, preceded by ``route`` (a ROUTER's peer identity)."""
    socket.send_multipart([*route, *encode(header, payloads)], copy=False)
