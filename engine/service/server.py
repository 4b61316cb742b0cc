"""The engine service: one ROUTER socket, one I/O loop that never waits on training.

The loop reads a request, validates it (protocol/messages.py), answers from memory (hello, ping,
status, list, cancel, attach) or hands slow work (writing submitted inputs, reading frames to
fetch, deleting purged jobs) to a small thread pool, and forwards what the workers publish to the clients attached to
each job. Anything a client sends that is wrong gets an ``error`` reply to that client only.
"""
from __future__ import annotations

import functools
import os
import queue
import signal
import sys
import threading
import time
import traceback
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple

import zmq
from zmq.utils.monitor import recv_monitor_message

from infusion.protocol import messages as m
from infusion.protocol import wire
from infusion.protocol.messages import ErrorCode, ProtocolError, Request
from infusion.protocol.shot import choices

from .intake import plan_submit
from .job_store import Job, JobStore, full_store, lock_store, public
from ..method.presets import PRESETS
from .curve import AllowedKeys, CurveServer, check_bind_policy, secure_socket
from .workers import Workers

Route = bytes


def engine_version() -> str:
    try:
        from importlib.metadata import version
        return version("infusion-compositors")
    except Exception:  # running from a source tree that was never installed
        return "unknown"


@dataclass
class ServiceConfig:
    bind: str
    store: Path
    devices: List[str]
    roots: List[Path] = field(default_factory=list)
    curve: Optional[CurveServer] = None
    insecure: bool = False
    heartbeat: float = 2.0
    max_payload_bytes: int = wire.MAX_PAYLOAD_BYTES


class Outbox:
    """Messages from other threads to the loop: a queue, and a pipe whose read end the loop polls."""

    def __init__(self) -> None:
        self.items: "queue.Queue[Tuple[Optional[Route], Optional[str], Dict[str, Any], List[bytes]]]" = queue.Queue()
        self.read_fd, self.write_fd = os.pipe()
        os.set_blocking(self.read_fd, False)

    def put(self, route: Optional[Route], job: Optional[str], header: Dict[str, Any], payloads: List[bytes]) -> None:
        """A reply to ``route``, or (route None) an event for everyone attached to ``job``."""
        self.items.put((route, job, header, payloads))
        try:
            os.write(self.write_fd, b"!")
        except BlockingIOError:  # the pipe is full of wake-ups already
            pass

    def drain(self) -> List[Tuple[Optional[Route], Optional[str], Dict[str, Any], List[bytes]]]:
        try:
            while os.read(self.read_fd, 4096):
                pass
        except BlockingIOError:
            pass
        drained = []
        while True:
            try:
                drained.append(self.items.get_nowait())
            except queue.Empty:
                return drained


class Attachments:
    """Which clients follow which jobs, and when each was last heard from."""

    def __init__(self) -> None:
        self.followers: Dict[str, Set[Route]] = {}
        self.last_seen: Dict[Route, float] = {}

    def attach(self, route: Route, job: str) -> None:
        self.followers.setdefault(job, set()).add(route)
        self.last_seen[route] = time.monotonic()

    def detach(self, route: Route, job: str) -> None:
        self.followers.get(job, set()).discard(route)
        if not any(route in routes for routes in self.followers.values()):
            self.last_seen.pop(route, None)

    def heard(self, route: Route) -> None:
        if route in self.last_seen:
            self.last_seen[route] = time.monotonic()

    def forget(self, route: Route) -> None:
        """Stop sending anything to ``route`` (a revoked key, or another client on its identity)."""
        self.last_seen.pop(route, None)
        for routes in self.followers.values():
            routes.discard(route)

    def drop_silent(self, limit: float) -> List[Route]:
        """Forget clients silent for more than ``limit`` seconds (their jobs run on); the rest."""
        now = time.monotonic()
        for route in [r for r, seen in self.last_seen.items() if now - seen > limit]:
            del self.last_seen[route]
            for routes in self.followers.values():
                routes.discard(route)
        return list(self.last_seen)


class Service:
    """``infusion serve``: bind, resume unfinished jobs, serve until SIGTERM/SIGINT or ``stop()``."""

    def __init__(self, config: ServiceConfig):
        check_bind_policy(config.bind, config.curve, config.insecure)
        self.config = config
        self.instance = uuid.uuid4().hex[:16]
        self.store_lock = lock_store(Path(config.store))  # before the store is read: one engine per store
        self.store = JobStore(config.store)
        self.outbox = Outbox()
        self.workers = Workers(config.devices, self.store, config.roots, self._publish)
        self.attachments = Attachments()
        self.allowed: Optional[AllowedKeys] = None  # with CURVE: the client keys admitted now
        self.route_keys: Dict[Route, str] = {}  # with CURVE: the key each client route spoke with last
        self.route_sources: Dict[Route, int] = {}  # the connection (file descriptor) each route spoke on last
        self.pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="intake")
        self.stopped = threading.Event()
        self.endpoint = ""
        self.handlers: Dict[str, Callable[[Route, Request, List[wire.Payload]], None]] = {
            m.HELLO: self._hello, m.PING: self._ping, m.SUBMIT: self._submit, m.STATUS: self._status,
            m.LIST: self._list, m.CANCEL: self._cancel, m.ATTACH: self._attach, m.DETACH: self._detach,
            m.FETCH: self._fetch, m.PURGE: self._purge,
        }

    # --- lifecycle --------------------------------------------------------------------------

    def serve(self, on_ready: Callable[[str], None] = lambda endpoint: None) -> None:
        context = zmq.Context()
        socket = context.socket(zmq.ROUTER)
        authenticator, self.allowed = secure_socket(context, socket, self.config.curve) if self.config.curve else (None, None)
        socket.linger = 0
        # Frames over this close the connection; between the caps they get a TOO_LARGE reply.
        socket.setsockopt(zmq.MAXMSGSIZE, max(self.config.max_payload_bytes, 2 * wire.MAX_HEADER_BYTES))
        socket.setsockopt(zmq.SNDHWM, 10_000)
        socket.setsockopt(zmq.HEARTBEAT_IVL, int(self.config.heartbeat * 1000))
        socket.setsockopt(zmq.HEARTBEAT_TIMEOUT, int(self.config.heartbeat * 3000))
        socket.bind(self.config.bind)
        self.endpoint = socket.getsockopt_string(zmq.LAST_ENDPOINT)
        self.socket = socket
        self.monitor = socket.get_monitor_socket(zmq.EVENT_DISCONNECTED)  # which connections closed
        for job in self.store.unfinished():
            self.workers.enqueue(job)
        self.workers.start()
        on_ready(self.endpoint)
        try:
            self._loop()
        finally:
            self.workers.stop()
            self.pool.shutdown(wait=False, cancel_futures=True)
            socket.disable_monitor()
            self.monitor.close(linger=0)
            socket.close(linger=0)
            if authenticator is not None:
                authenticator.stop()
            context.term()

    def stop(self) -> None:
        self.stopped.set()
        self.outbox.put(None, None, {}, [])  # wake the loop

    def install_signal_handlers(self) -> None:
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, lambda *_: self.stop())

    def _loop(self) -> None:
        poller = zmq.Poller()
        poller.register(self.socket, zmq.POLLIN)
        poller.register(self.outbox.read_fd, zmq.POLLIN)
        poller.register(self.monitor, zmq.POLLIN)
        next_beat = time.monotonic()
        while not self.stopped.is_set():
            ready = dict(poller.poll(timeout=int(self.config.heartbeat * 500)))
            self._disconnected()
            for _ in range(100 if self.socket in ready else 0):  # bounded, so the outbox is not starved
                if not self.socket.poll(0):
                    break
                route, message = wire.receive(self.socket, envelope=1)
                self._disconnected()  # a connection that closed before this message came is forgotten first
                self._handle(route, message)
            for route, job, header, payloads in self.outbox.drain():
                self._deliver(route, job, header, payloads)
            if time.monotonic() >= next_beat:
                next_beat = time.monotonic() + self.config.heartbeat
                self._reload_keys()
                beat = m.header(m.HEARTBEAT, instance=self.instance, time=time.time())
                for route in self.attachments.drop_silent(3 * self.config.heartbeat):
                    wire.send(self.socket, beat, route=[route])

    def _forget(self, route: Route) -> None:
        """Send nothing more to ``route`` and forget what its client followed and spoke with."""
        self._revoke(route)
        self.route_sources.pop(route, None)

    def _revoke(self, route: Route) -> None:
        """Send nothing more to ``route`` and forget the key its client spoke with."""
        self.attachments.forget(route)
        self.route_keys.pop(route, None)

    def _disconnected(self) -> None:
        """Forget the clients whose connection closed: a later client on the same identity is
        another one, and must not receive their events even before it sends anything."""
        while self.monitor.poll(0):
            event = recv_monitor_message(self.monitor)
            if event["event"] == zmq.EVENT_DISCONNECTED:
                for route in [r for r, source in self.route_sources.items() if source == event["value"]]:
                    self._forget(route)

    def _reload_keys(self) -> None:
        """Read the allowed keys again if their folder changed; a removed key's clients hear no more."""
        if self.allowed is None or not self.allowed.reload():
            return
        for route, key in list(self.route_keys.items()):
            if key not in self.allowed.keys:
                self._revoke(route)

    # --- dispatch ---------------------------------------------------------------------------

    def _admit(self, peer: Route, key: Optional[str]) -> None:
        """With CURVE: NOT_ALLOWED for a key removed from the allowed folder since it connected; a
        route that speaks with another key than before is another client (an identity reused)
        and inherits nothing the earlier one followed."""
        if self.allowed is None:
            return
        if key is None or key not in self.allowed.keys:
            self._revoke(peer)
            raise ProtocolError(ErrorCode.NOT_ALLOWED, "this client's key is no longer allowed by this engine")
        if self.route_keys.get(peer, key) != key:
            self.attachments.forget(peer)
        self.route_keys[peer] = key

    def _visible(self, peer: Route, job: Job) -> bool:
        """Whether the client on ``peer`` may see ``job``: anyone without CURVE; with it, the key that
        submitted the job and the admin keys (only they, for a job submitted without CURVE)."""
        if self.config.curve is None:
            return True
        key = self.route_keys.get(peer)
        return key in self.config.curve.admins or (key is not None and job.record.get("owner") == key)

    def _job(self, peer: Route, job_id: str) -> Job:
        """The job ``job_id`` if ``peer`` may see it; NOT_FOUND (as for no job at all) otherwise."""
        job = self.store.get(job_id)
        if not self._visible(peer, job):
            raise ProtocolError(ErrorCode.NOT_FOUND, f"no job {job_id} in this engine's store", "job")
        return job

    def _handle(self, route: List[bytes], message: wire.Message) -> None:
        if not route:
            return
        peer = route[0]
        if message.source is not None:
            if self.route_sources.get(peer, message.source) != message.source:
                self._forget(peer)  # another connection on this identity: another client, inheriting nothing
            self.route_sources[peer] = message.source
        try:
            self._admit(peer, message.user)
            self.attachments.heard(peer)
            if message.error is not None:
                raise message.error
            largest = max((len(p) for p in message.payloads), default=0)
            if largest > self.config.max_payload_bytes:
                raise ProtocolError(ErrorCode.TOO_LARGE, f"a payload frame of {largest} bytes exceeds this engine's "
                                    f"limit of {self.config.max_payload_bytes}")
            request = m.validate_request(message.header, len(message.payloads))
            self.handlers[request.type](peer, request, message.payloads)
        except ProtocolError as error:
            self._reply_error(peer, error, m.request_id(message.header))
        except Exception as error:  # a bug must not take the engine down for everyone
            traceback.print_exc(file=sys.stderr)
            self._reply_error(peer, ProtocolError(ErrorCode.INTERNAL, f"internal error: {type(error).__name__}: {error}"),
                              m.request_id(message.header))

    def _reply(self, peer: Route, request: Request, kind: str, payloads: Sequence[wire.Payload] = (), **fields: Any) -> None:
        wire.send(self.socket, m.header(kind, len(payloads), re=request.id, **fields), payloads, route=[peer])

    def _reply_error(self, peer: Route, error: ProtocolError, request: Optional[int]) -> None:
        wire.send(self.socket, m.error_header(error, request), route=[peer])

    def _deliver(self, route: Optional[Route], job: Optional[str], header: Dict[str, Any], payloads: List[bytes]) -> None:
        """Send an outbox item: a reply to one client, or a job event to every client attached."""
        if route is not None:
            wire.send(self.socket, header, payloads, route=[route])
        elif job is not None:
            for peer in list(self.attachments.followers.get(job, ())):
                wire.send(self.socket, header, payloads, route=[peer])

    def _publish(self, job: str, event: Dict[str, Any], payloads: List[bytes]) -> None:
        """Called by workers: queue a job event for the loop to forward."""
        self.outbox.put(None, job, self._event_header(job, event, payloads), payloads)

    @staticmethod
    def _event_header(job: str, event: Dict[str, Any], payloads: Sequence[bytes]) -> Dict[str, Any]:
        fields = public(event)
        kind = fields.pop("type")
        return m.header(kind, len(payloads), job=job, **fields)

    def _in_pool(self, peer: Route, request: Request, work: Callable[[], Tuple[str, Dict[str, Any], List[bytes]]]) -> None:
        """Run ``work`` (returning reply type, fields, payloads) off the loop; its reply goes through the outbox."""
        def run() -> None:
            try:
                kind, fields, payloads = work()
                header = m.header(kind, len(payloads), re=request.id, **fields)
            except ProtocolError as error:
                header, payloads = m.error_header(error, request.id), []
            except Exception as error:  # a full store (inputs by value) is said as such, anything else is a bug
                known = full_store(error, self.store.root)
                if known is None:
                    traceback.print_exc(file=sys.stderr)
                    known = ProtocolError(ErrorCode.INTERNAL, f"internal error: {type(error).__name__}: {error}")
                header, payloads = m.error_header(known, request.id), []
            self.outbox.put(peer, None, header, payloads)
        self.pool.submit(run)

    # --- handlers ---------------------------------------------------------------------------

    def _hello(self, peer: Route, request: Request, payloads: List[wire.Payload]) -> None:
        self._reply(peer, request, m.WELCOME, protocol=m.PROTOCOL_VERSION, engine=engine_version(),
                    instance=self.instance, devices=self.config.devices,
                    presets={name: s.to_dict() for name, s in PRESETS.items()},
                    settings=[c.name for c in choices("settings")], options=[c.name for c in choices("options")],
                    roots=[str(r) for r in self.config.roots], heartbeat=self.config.heartbeat,
                    limits={"max_header_bytes": wire.MAX_HEADER_BYTES, "max_payload_bytes": self.config.max_payload_bytes,
                            "max_frames": m.MAX_FRAMES_PER_SHOT})

    def _ping(self, peer: Route, request: Request, payloads: List[wire.Payload]) -> None:
        self._reply(peer, request, m.PONG, instance=self.instance)

    def _status(self, peer: Route, request: Request, payloads: List[wire.Payload]) -> None:
        self._reply(peer, request, m.JOB, job=self.store.summary(self._job(peer, request.fields["job"]).id))

    def _list(self, peer: Route, request: Request, payloads: List[wire.Payload]) -> None:
        jobs, after, total = self.store.page(request.fields["limit"], request.fields["after"],
                                             functools.partial(self._visible, peer))
        self._reply(peer, request, m.JOBS, jobs=jobs, next=after, total=total)

    def _purge(self, peer: Route, request: Request, payloads: List[wire.Payload]) -> None:
        cutoff = time.time() - request.fields["older_than"]
        visible = functools.partial(self._visible, peer)
        self._in_pool(peer, request, lambda: (m.PURGED, {"purged": self.workers.purge(cutoff, visible)}, []))

    def _cancel(self, peer: Route, request: Request, payloads: List[wire.Payload]) -> None:
        job = self._job(peer, request.fields["job"])
        self.workers.cancel(job)
        self._reply(peer, request, m.JOB, job=self.store.summary(job.id))

    def _submit(self, peer: Route, request: Request, payloads: List[wire.Payload]) -> None:
        owner = self.route_keys.get(peer)

        def intake() -> Tuple[str, Dict[str, Any], List[bytes]]:
            plan = plan_submit(request.fields, payloads, self.config.roots, owner)
            job, created = self.store.create(plan.job_id, plan.record, plan.fill_inputs)
            if created or job.state in ("cancelled", "failed"):
                self.workers.enqueue(job)
            return m.ACCEPTED, {"job": job.id, "state": job.state, "existing": not created,
                                "preset": request.fields["shot"]["preset"]}, []
        self._in_pool(peer, request, intake)

    def _attach(self, peer: Route, request: Request, payloads: List[wire.Payload]) -> None:
        job_id = self._job(peer, request.fields["job"]).id
        events, progress = self.store.replay(job_id, request.fields["since"])
        self._reply(peer, request, m.JOB, job=self.store.summary(job_id))
        self.attachments.attach(peer, job_id)
        job = self.store.get(job_id)
        for event in events:
            attached = [self._preview_bytes(job, event)] if event["type"] == m.PREVIEW else []
            attached = [data for data in attached if data is not None]
            wire.send(self.socket, self._event_header(job_id, event, attached), attached, route=[peer])
        if progress is not None:
            wire.send(self.socket, m.header(m.PROGRESS, job=job_id, **progress), route=[peer])

    @staticmethod
    def _preview_bytes(job: Job, event: Dict[str, Any]) -> Optional[bytes]:
        path = job.file(m.PREVIEW, event["frame"], 1, event["interval"])
        return path.read_bytes() if path is not None and path.exists() else None

    def _detach(self, peer: Route, request: Request, payloads: List[wire.Payload]) -> None:
        self.attachments.detach(peer, request.fields["job"])  # only what this client followed: nothing to check

    def _fetch(self, peer: Route, request: Request, payloads: List[wire.Payload]) -> None:
        fields = request.fields
        job = self._job(peer, fields["job"])
        kind = m.FRAME if fields["interval"] is None else m.PREVIEW
        path = job.file(kind, fields["frame"], fields["variant"], fields["interval"])
        if path is None:
            what = "output" if kind == m.FRAME else f"preview of interval {fields['interval']}"
            raise ProtocolError(ErrorCode.NOT_FOUND, f"job {job.id} has no {what} for frame {fields['frame']} "
                                f"variant {fields['variant']} (yet)", "frame")

        def read() -> Tuple[str, Dict[str, Any], List[bytes]]:
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                raise ProtocolError(ErrorCode.NOT_FOUND, f"job {job.id} was purged", "job") from None
            return m.DATA, {"job": job.id, "frame": fields["frame"], "variant": fields["variant"],
                            "interval": fields["interval"]}, [data]
        self._in_pool(peer, request, read)
