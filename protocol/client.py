"""``EngineClient``: talk to an Infusion engine from any Python 3.9+ (Nuke, Resolve, a farm task).

    with EngineClient("tcp://127.0.0.1:5557") as engine:
        job = engine.submit("/shots/plate.####.exr", (1001, 1048), matte="/shots/matte.####.exr")["job"]
        for event in engine.events(job):
            if event.type == "frame":
                write_atomically(frame_path("/shots/fill.####.exr", event.fields["frame"]), event.payloads[0])

One DEALER socket, used from one thread. Replies are matched to requests by id; job events that
arrive meanwhile wait in an inbox for :meth:`EngineClient.events`. When the engine falls silent
or restarts, ``events`` opens a fresh connection and attaches again from the last event it saw.
"""
from __future__ import annotations

import itertools
import os
import time
import uuid
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any, Deque, Dict, Iterator, List, Optional, Sequence, Tuple

import zmq
import zmq.auth

from . import messages as m
from .files import frame_path
from .messages import ErrorCode, ProtocolError
from .shot import DEFAULT_PRESET
from .wire import MAX_PAYLOAD_BYTES, Message, Payload, receive, send


class EngineError(ProtocolError):
    """The engine answered with an error, or did not answer (code ``engine_unavailable``)."""


@dataclass(frozen=True)
class CurveKeys:
    """CurveZMQ keys (Z85 bytes): the engine's public key and this client's key pair."""

    server_public: bytes
    client_public: bytes
    client_secret: bytes

    @classmethod
    def load(cls, server_public_file: str, client_secret_file: str) -> "CurveKeys":
        """From ``zmq.auth`` certificate files (``infusion keys`` writes them)."""
        server_public, _ = zmq.auth.load_certificate(server_public_file)
        client_public, client_secret = zmq.auth.load_certificate(client_secret_file)
        if not client_secret:
            raise ValueError(f"{client_secret_file} holds no secret key (use the .key_secret file)")
        return cls(server_public, client_public, client_secret)


@dataclass(frozen=True)
class JobEvent:
    """One event of a job: ``type`` (progress, preview, frame, done, failed, cancelled), its fields.

    ``seq`` numbers the events a job logs (1, 2, ...; None for progress, which is not logged).
    ``payloads``: EXR file bytes, one per frame listed in a preview, the frame of a fetched frame.
    """

    type: str
    job: str
    seq: Optional[int]
    fields: Dict[str, Any]
    payloads: Tuple[bytes, ...] = field(default=())

    @property
    def terminal(self) -> bool:
        return self.type in m.TERMINAL_EVENTS


def _job_event(message: Message) -> JobEvent:
    header = message.header
    fields = {k: v for k, v in header.items() if k not in ("v", "type", "parts", "job", "seq")}
    return JobEvent(header["type"], header["job"], header.get("seq"), fields, tuple(bytes(p) for p in message.payloads))


class EngineClient:
    """A connection to one engine. Not thread-safe: use it from one thread (or one per thread)."""

    def __init__(self, address: str, *, timeout: float = 10.0, curve: Optional[CurveKeys] = None,
                 name: str = "infusion-client", heartbeat: float = 2.0, reconnect_timeout: float = 120.0,
                 context: Optional[zmq.Context] = None):
        self.address, self.timeout, self.curve, self.name = address, timeout, curve, name
        self.heartbeat, self.reconnect_timeout = heartbeat, reconnect_timeout
        self._context = context or zmq.Context.instance()
        self._socket: Optional[zmq.Socket] = None
        self._ids = itertools.count(1)
        self._inbox: Deque[Message] = deque()
        self._last_beat = self._last_ping = 0.0  # the attached job's last heartbeat or event; our last ping
        self.engine: Dict[str, Any] = {}  # the engine's welcome: versions, devices, presets, limits

    # --- connection -------------------------------------------------------------------------

    def connect(self) -> Dict[str, Any]:
        """Open the connection and shake hands; returns the engine's ``welcome`` fields.

        Raises EngineError ``engine_unavailable`` when no engine answers within ``timeout``, and
        ``bad_version`` when the engine speaks another protocol version.
        """
        self.close()
        socket = self._context.socket(zmq.DEALER)
        socket.linger = 0
        socket.setsockopt(zmq.MAXMSGSIZE, MAX_PAYLOAD_BYTES + (1 << 20))
        socket.setsockopt(zmq.HEARTBEAT_IVL, int(self.heartbeat * 1000))
        socket.setsockopt(zmq.HEARTBEAT_TIMEOUT, int(self.heartbeat * 3000))
        socket.setsockopt(zmq.IDENTITY, f"{self.name[:40]}-{uuid.uuid4().hex[:12]}".encode())
        if self.curve is not None:
            socket.curve_serverkey = self.curve.server_public
            socket.curve_publickey = self.curve.client_public
            socket.curve_secretkey = self.curve.client_secret
        socket.connect(self.address)
        self._socket = socket
        self._inbox.clear()
        welcome = self._request(m.HELLO, client=self.name)
        if welcome.get("protocol") != m.PROTOCOL_VERSION:
            raise EngineError(ErrorCode.BAD_VERSION, f"the engine speaks protocol {welcome.get('protocol')!r}, this client {m.PROTOCOL_VERSION}")
        self.engine = welcome
        return welcome

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close(linger=0)
            self._socket = None

    def __enter__(self) -> "EngineClient":
        if self._socket is None:
            self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def reconnect(self) -> Dict[str, Any]:
        """Connect again until an engine answers or ``reconnect_timeout`` passes (an engine restart)."""
        deadline = time.monotonic() + self.reconnect_timeout
        while True:
            try:
                return self.connect()
            except EngineError as error:
                if error.code != ErrorCode.UNAVAILABLE or time.monotonic() >= deadline:
                    raise

    # --- requests ---------------------------------------------------------------------------

    def ping(self) -> float:
        """Round trip to the engine in seconds."""
        start = time.monotonic()
        self._request(m.PING)
        return time.monotonic() - start

    def submit(self, plate: str, frames: Tuple[int, int], *, matte: Optional[str] = None,
               matte_channel: Optional[str] = None, preset: str = DEFAULT_PRESET,
               settings: Optional[Dict[str, Any]] = None, options: Optional[Dict[str, Any]] = None,
               by_reference: bool = False) -> Dict[str, Any]:
        """Submit a shot; returns ``{"job": id, "state": ..., "existing": bool, "preset": the preset used}``.

        By value (default) the EXR files ``plate`` (and ``matte``) name for every frame are read
        here and sent as payload frames; by reference only the patterns travel, and they must be
        absolute paths the engine can read under its allowed roots. ``settings`` and ``options``
        map shot choices (infusion.protocol.shot) to values. The same inputs and settings
        submitted again return the existing job (``existing`` true).
        """
        first, last = int(frames[0]), int(frames[1])
        shot = {"frames": [first, last], "plate": plate, "matte": matte, "matte_channel": matte_channel,
                "preset": preset, "settings": dict(settings or {}), "options": dict(options or {})}
        if by_reference:
            return self._request(m.SUBMIT, shot=shot, inputs="reference")
        descriptors: List[Dict[str, Any]] = []
        blobs: List[bytes] = []
        for role, pattern in (("plate", plate), ("matte", matte)):
            for frame in range(first, last + 1) if pattern else ():
                blobs.append(self._payload(role, frame, frame_path(pattern, frame)))
                descriptors.append({"role": role, "frame": frame})
        shot.update(plate=os.path.basename(plate), matte=os.path.basename(matte) if matte else None)
        wait = self.timeout + sum(len(b) for b in blobs) / 20e6  # room to write the inputs to the store
        return self._request(m.SUBMIT, blobs, timeout=wait, shot=shot, inputs="value", payloads=descriptors)

    def _payload(self, role: str, frame: int, path: str) -> bytes:
        """The bytes of one input frame to send; TOO_LARGE, naming the file, for one over the engine's
        frame limit (sent, it would close the connection and look like an engine that never answers)."""
        limit = int(self.engine.get("limits", {}).get("max_payload_bytes", MAX_PAYLOAD_BYTES))
        with open(path, "rb") as stream:
            size = os.fstat(stream.fileno()).st_size
            if size > limit:
                raise EngineError(ErrorCode.TOO_LARGE, f"{role} frame {frame} ({path}) is {size} bytes, over the "
                                  f"engine's limit of {limit} bytes a frame (its --max-frame-mb)", "payloads")
            return stream.read()

    def status(self, job: str) -> Dict[str, Any]:
        """The job's summary: state, progress, frames done, error."""
        return self._request(m.STATUS, job=job)["job"]

    def jobs_page(self, limit: int = m.DEFAULT_LIST_PAGE, after: Optional[str] = None) -> Dict[str, Any]:
        """One page of job summaries, newest first: ``{"jobs": [...], "next": cursor or None, "total": n}``;
        pass ``next`` as ``after`` for the page that follows (None: this was the last)."""
        reply = self._request(m.LIST, limit=limit, after=after)
        return {"jobs": reply["jobs"], "next": reply.get("next"), "total": reply.get("total", len(reply["jobs"]))}

    def jobs(self, limit: Optional[int] = None) -> List[Dict[str, Any]]:
        """Summaries of the engine's jobs, newest first: every one, or the newest ``limit``, page by page."""
        found: List[Dict[str, Any]] = []
        after: Optional[str] = None
        while limit is None or len(found) < limit:
            wanted = m.MAX_LIST_PAGE if limit is None else min(m.MAX_LIST_PAGE, limit - len(found))
            page = self.jobs_page(wanted, after)
            found.extend(page["jobs"])
            after = page["next"]
            if after is None:
                break
        return found

    def purge(self, older_than: float) -> int:
        """Delete the finished jobs (done, failed, cancelled) that ended more than ``older_than``
        seconds ago, with their files; how many were deleted."""
        return self._request(m.PURGE, older_than=older_than)["purged"]

    def cancel(self, job: str) -> Dict[str, Any]:
        """Stop the job now (kept in the store; submitting it again resumes it); returns its summary."""
        return self._request(m.CANCEL, job=job)["job"]

    def fetch(self, job: str, frame: int, variant: int = 1, interval: Optional[int] = None) -> bytes:
        """The EXR file bytes of a finished frame (variant 1..K, 0: the mean of K > 1), or of its
        preview after ``interval`` (the working-size region of interest)."""
        reply, payloads = self._request_with_payloads(m.FETCH, job=job, frame=frame, variant=variant, interval=interval)
        if len(payloads) != 1:
            raise EngineError(ErrorCode.REFUSED, f"a data reply must carry one payload, it carried {len(payloads)}")
        return bytes(payloads[0])

    def events(self, job: str, since: int = 0, fetch_frames: bool = True) -> Iterator[JobEvent]:
        """Attach to ``job`` and yield its events until done, failed or cancelled.

        First comes every logged event after ``since`` (frames the client missed, the latest
        preview), then the live stream. With ``fetch_frames`` each ``frame`` event arrives with the
        frame's EXR bytes in ``payloads``. Reconnects and attaches again from the last event seen
        when the engine restarts or falls silent for three heartbeats.
        """
        last = since
        self._attach(job, last)
        while True:
            message = self._next_job_message(job)
            if message is None:
                self.reconnect()
                self._attach(job, last)
                continue
            event = _job_event(message)
            if event.seq is not None:
                if event.seq <= last:
                    continue
                last = event.seq
            if fetch_frames and event.type == m.FRAME and not event.payloads:
                event = replace(event, payloads=(self.fetch(job, event.fields["frame"], event.fields.get("variant", 1)),))
            yield event
            if event.terminal:
                self._send(m.DETACH, job=job)
                return

    attach = events

    # --- plumbing ---------------------------------------------------------------------------

    def _attach(self, job: str, since: int) -> Dict[str, Any]:
        summary = self._request(m.ATTACH, job=job, since=since)["job"]
        self._last_beat = self._last_ping = time.monotonic()
        return summary

    def _send(self, kind: str, blobs: Sequence[Payload] = (), **fields: Any) -> int:
        if self._socket is None:
            self.connect()
        ident = next(self._ids)
        send(self._socket, m.header(kind, len(blobs), id=ident, **fields), blobs)
        return ident

    def _receive(self, wait: float) -> Optional[Message]:
        if self._socket is None or not self._socket.poll(max(0, int(wait * 1000))):
            return None
        message = receive(self._socket)[1]
        if message.error is not None or not isinstance(message.header, dict) or not isinstance(message.header.get("type"), str):
            return None  # an unreadable message from the engine: nothing a caller could act on
        return message

    def _request_with_payloads(self, kind: str, blobs: Sequence[Payload] = (), timeout: Optional[float] = None,
                               **fields: Any) -> Tuple[Dict[str, Any], List[Payload]]:
        ident = self._send(kind, blobs, **fields)
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            left = deadline - time.monotonic()
            message = self._receive(left) if left > 0 else None
            if message is None:
                if time.monotonic() < deadline:
                    continue
                hint = " (check the engine's public key and that this client's key is allowed)" if self.curve else ""
                raise EngineError(ErrorCode.UNAVAILABLE, f"no answer from the engine at {self.address} within {self.timeout if timeout is None else round(timeout, 1)} s{hint}")
            header = message.header
            if header.get("re") == ident or (header["type"] == m.ERROR and header.get("re") is None):
                if header["type"] == m.ERROR:
                    raise EngineError(str(header.get("code")), str(header.get("message")), header.get("field"))
                return {k: v for k, v in header.items() if k not in m.ENVELOPE + ("re",)}, message.payloads
            if header["type"] in m.JOB_EVENTS and isinstance(header.get("job"), str):
                self._inbox.append(message)

    def _request(self, kind: str, blobs: Sequence[Payload] = (), timeout: Optional[float] = None, **fields: Any) -> Dict[str, Any]:
        return self._request_with_payloads(kind, blobs, timeout, **fields)[0]

    def _ping_every(self) -> float:
        """Seconds between pings: the engine forgets an attached client silent for three of *its*
        heartbeats (the welcome says how long one is), so ping at least that often."""
        return min(self.heartbeat, float(self.engine.get("heartbeat") or self.heartbeat))

    def _next_job_message(self, job: str) -> Optional[Message]:
        """The next event of ``job``; None when the engine fell silent or restarted (reconnect).

        While attached the engine sends a heartbeat or an event at least every ``heartbeat``
        seconds; three heartbeats without either mean it is gone (or has forgotten this client).
        """
        instance = self.engine.get("instance")
        while True:
            while self._inbox:
                message = self._inbox.popleft()
                if message.header.get("job") == job:
                    self._last_beat = time.monotonic()
                    return message
            now = time.monotonic()
            if now - self._last_ping >= self._ping_every():
                self._send(m.PING)
                self._last_ping = now
            message = self._receive(self._ping_every() / 2)
            if message is None:  # silence is judged only after asking: a slow caller is not a silent engine
                if time.monotonic() - self._last_beat > 3 * self.heartbeat:
                    return None
                continue
            header = message.header
            if header.get("instance", instance) != instance:
                return None  # another engine process answers now: attach again
            if header["type"] == m.HEARTBEAT:
                self._last_beat = time.monotonic()
            elif header["type"] in m.JOB_EVENTS and header.get("job") == job:
                self._last_beat = time.monotonic()
                return message
