"""The job store: every job's inputs, settings, work dir (checkpoints, previews), outputs and events.

    STORE/engine.lock               held (flock) by the one engine serving the store; its pid inside
    STORE/jobs/<id>/job.msgpack     what to run (written once, before the job exists)
                    state.msgpack   state, error, times (rewritten atomically)
                    events.msgpack  the job's logged events, appended and fsynced one by one
                    inputs/         plate and matte frames: received by value; by reference, what intake
                                    checked (references.msgpack) and, once the job starts, their copies
                    work/           run_shot's work dir: checkpoint.pt, preview/
                    out/            finished frames

What an atomic write killed with the engine left in a job's folder is removed when the store is
loaded (under the store's lock, so no other engine is writing). A job folder appears by one rename of a complete temporary folder, so a crash never leaves half a
job. A job found ``running`` at start was running when the engine died: it is queued again to
resume, unless that makes :data:`MAX_DEATHS` deaths, when it is quarantined (failed, as a job
that kills the engine would otherwise kill every restart). The id is derived from the inputs and settings: the same submit finds the same job. Every
method is thread-safe (one lock); msgpack only, nothing pickled.
"""
from __future__ import annotations

import errno
import fcntl
import os
import sys
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Callable, Collection, Dict, List, Optional, Tuple

import msgpack

from infusion.protocol import messages as m
from infusion.protocol.messages import ErrorCode, ProtocolError

from infusion.protocol.files import fsync_directory, remove_temporaries_under, write_atomically, written_name

UNFINISHED = ("queued", "running")
MAX_DEATHS = 2  # engine deaths during a job's runs that quarantine it
FULL = (errno.ENOSPC, errno.EDQUOT)  # what a full store raises


def full_store(error: BaseException, root: Optional[Path] = None, writing: Optional[str] = None) -> Optional[ProtocolError]:
    """A STORE_FULL error if ``error`` is a full disk or quota, else None. It names the store folder
    ``root`` and what was being written: ``writing`` if given, else for a file in the store its job
    and the file of the job (the one an atomic write was for, never its hidden temporary)."""
    if not (isinstance(error, OSError) and error.errno in FULL):
        return None
    store = "" if root is None else f" {root}"
    what = f" (writing {writing})" if writing else _written(error.filename, root)
    return ProtocolError(ErrorCode.STORE_FULL, f"the job store{store} is full{what}: {os.strerror(error.errno)}")


def _written(filename: Any, root: Optional[Path]) -> str:
    """`` (writing job JOB's out/fill.00001001.exr)`` for a file of a job in the store ``root``
    (a job being created included: its folder is ``.JOB.XXXXXXXX`` until it is whole)."""
    if not filename:
        return ""
    path = Path(os.fsdecode(filename))
    path = path.parent / written_name(path.name)
    if root is not None:
        try:
            inside = path.relative_to(Path(root) / "jobs")
        except ValueError:
            return f" (writing {path})"
        if len(inside.parts) > 1:
            job = inside.parts[0].lstrip(".").split(".")[0]
            return f" (writing job {job}'s {'/'.join(inside.parts[1:])})"
    return f" (writing {path.name})"
RECORD, STATE, EVENTS = "job.msgpack", "state.msgpack", "events.msgpack"
LOCK = "engine.lock"


def lock_store(root: Path) -> BinaryIO:
    """Take ``root``'s lock for as long as the returned file stays open (the engine's life: the
    kernel lets go when the process ends, however it ends) and write this process's id into it.

    Two engines on one store would run the same jobs twice; a second one is a ValueError naming
    the process that holds the store.
    """
    root.mkdir(parents=True, exist_ok=True)
    stream = open(root / LOCK, "a+b")
    try:
        fcntl.flock(stream.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        stream.seek(0)
        holder = stream.read(32).decode("ascii", "replace").strip() or "unknown"
        stream.close()
        raise ValueError(f"the job store {root} is in use by another engine (process {holder} holds "
                         f"{root / LOCK}): stop that engine or give this one another --store") from None
    stream.truncate(0)
    stream.write(f"{os.getpid()}\n".encode())
    stream.flush()
    return stream


def write_msgpack(path: Path, value: Any) -> None:
    """``value`` to ``path`` atomically (temporary file, fsync, rename)."""
    write_atomically(path, msgpack.packb(value, use_bin_type=True))


def read_msgpack(path: Path) -> Any:
    return msgpack.unpackb(path.read_bytes(), raw=False, strict_map_key=False)


def read_log(path: Path) -> List[Dict[str, Any]]:
    """The events of a log; a torn last record (a crash mid-append) is cut off the file."""
    if not path.exists():
        return []
    data = path.read_bytes()
    unpacker = msgpack.Unpacker(raw=False, strict_map_key=False)
    unpacker.feed(data)
    events, good = [], 0
    try:
        for event in unpacker:
            events.append(event)
            good = unpacker.tell()
    except Exception:  # corrupt tail: keep what came before it
        pass
    if good < len(data):
        with open(path, "r+b") as stream:
            stream.truncate(good)
    return events


@dataclass
class Job:
    """A job as the engine knows it: its record (immutable) and what has happened since."""

    id: str
    folder: Path
    record: Dict[str, Any]
    state: str = "queued"
    created: float = 0.0
    updated: float = 0.0
    error: Optional[Dict[str, str]] = None
    device: Optional[str] = None
    events: List[Dict[str, Any]] = field(default_factory=list)
    progress: Optional[Dict[str, Any]] = None
    deaths: int = 0  # times the engine died while this job ran (since it was last submitted)

    @property
    def seq(self) -> int:
        return len(self.events)

    def file(self, kind: str, frame: int, variant: int, interval: Optional[int] = None) -> Optional[Path]:
        """The newest logged output (or preview of ``interval``) of ``frame``/``variant``."""
        for event in reversed(self.events):
            if kind == m.FRAME and event["type"] == m.FRAME and (event["frame"], event["variant"]) == (frame, variant):
                return self.folder / event["_file"]
            if kind == m.PREVIEW and event["type"] == m.PREVIEW and event["interval"] == interval:
                found = [f for fr, v, f in event["_files"] if (fr, v) == (frame, variant)]
                return self.folder / found[0] if found else None
        return None

    def summary(self) -> Dict[str, Any]:
        """The job as ``status`` and ``list`` show it; its texts capped and printable (a record or state
        edited on disk, or written by an older engine, may hold any label)."""
        progress = self.progress or {}
        frames = self.record["shot"]["frames"]
        done_frames = {e["frame"] for e in self.events if e["type"] == m.FRAME}
        fraction = 1.0 if self.state == "done" else progress.get("progress", 0.0)
        label = self.record["settings"].get("preset")
        error = None if self.error is None else {"code": m.printable(self.error.get("code"), m.MAX_LABEL),
                                                 "message": m.printable(self.error.get("message"), m.MAX_SUMMARY_MESSAGE)}
        return {"job": self.id, "state": self.state, "created": self.created, "updated": self.updated,
                "frames": frames, "preset": None if label is None else m.printable(label, m.MAX_LABEL),
                "inputs": self.record["inputs"], "device": self.device if self.state == "running" else None,
                "interval": progress.get("interval"), "intervals": progress.get("intervals") or self.record["settings"]["intervals"],
                "progress": fraction, "frames_done": len(done_frames), "seq": self.seq, "error": error}

    @property
    def order(self) -> Tuple[float, str]:
        """Where the job stands in a list, newest first (ties by id)."""
        return -self.created, self.id


Visible = Callable[[Job], bool]  # which jobs a client may see (with CURVE: its own)


class JobStore:
    """Jobs on disk under ``root``, loaded at start, updated as they run."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.jobs_dir = self.root / "jobs"
        self.jobs_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._create_lock = threading.Lock()
        self._jobs: Dict[str, Job] = {}
        for folder in sorted(self.jobs_dir.iterdir()):
            if folder.name.startswith("."):
                shutil.rmtree(folder, ignore_errors=True)  # a job that was never finished being created
            elif (folder / RECORD).exists() and (folder / STATE).exists():
                self._jobs[folder.name] = self._load(folder)

    def _load(self, folder: Path) -> Job:
        remove_temporaries_under(folder)
        state = read_msgpack(folder / STATE)
        job = Job(folder.name, folder, read_msgpack(folder / RECORD), state["state"], state["created"], state["updated"],
                  state.get("error"), events=read_log(folder / EVENTS), deaths=state.get("deaths", 0))
        if job.state == "running":  # the engine died while it ran
            job.deaths += 1
            if job.deaths < MAX_DEATHS:
                self.set_state(job, "queued")
            else:
                error = {"code": ErrorCode.JOB_FAILED, "message": f"quarantined: the engine died {job.deaths} times "
                         "while running this job; it is not resumed again (submit it again to retry)"}
                self.set_state(job, "failed", error)
                self.log(job, m.FAILED, **error)
        return job

    def find(self, job_id: str) -> Optional[Job]:
        with self._lock:
            return self._jobs.get(job_id)

    def get(self, job_id: str) -> Job:
        job = self.find(job_id)
        if job is None:
            raise ProtocolError(ErrorCode.NOT_FOUND, f"no job {job_id} in this engine's store", "job")
        return job

    def unfinished(self) -> List[Job]:
        with self._lock:
            return sorted((j for j in self._jobs.values() if j.state in UNFINISHED), key=lambda j: j.created)

    def page(self, limit: int, after: Optional[str], visible: Visible = lambda job: True
             ) -> Tuple[List[Dict[str, Any]], Optional[str], int]:
        """Up to ``limit`` summaries of the ``visible`` jobs, newest first, from after the cursor
        ``after`` (None: the newest); the cursor of the next page (None after the last) and how
        many visible jobs the store holds."""
        start: Optional[Tuple[float, str]] = None
        if after is not None:
            created, last = m.cursor_position(after)
            start = (-created, last)
        with self._lock:
            seen = [j for j in self._jobs.values() if visible(j)]
            jobs = sorted((j for j in seen if start is None or j.order > start), key=lambda j: j.order)
            shown = jobs[:limit]
            more = len(jobs) > limit
            return ([j.summary() for j in shown], m.list_cursor(shown[-1].created, shown[-1].id) if more else None,
                    len(seen))

    def summary(self, job_id: str) -> Dict[str, Any]:
        with self._lock:
            return self.get(job_id).summary()

    def create(self, job_id: str, record: Dict[str, Any], fill_inputs: Callable[[Path], None]) -> Tuple[Job, bool]:
        """The job ``job_id``, made from ``record`` if new (``fill_inputs`` writes into its inputs/ folder).

        Returns (job, created).
        """
        with self._create_lock:
            existing = self.find(job_id)
            return (existing, False) if existing is not None else (self._create(job_id, record, fill_inputs), True)

    def _create(self, job_id: str, record: Dict[str, Any], fill_inputs: Callable[[Path], None]) -> Job:
        staging = Path(tempfile.mkdtemp(prefix=f".{job_id}.", dir=self.jobs_dir))
        try:
            for name in ("inputs", "work", "out"):
                (staging / name).mkdir()
            fill_inputs(staging / "inputs")
            now = time.time()
            write_msgpack(staging / RECORD, record)
            write_msgpack(staging / STATE, {"state": "queued", "created": now, "updated": now, "error": None})
            folder = self.jobs_dir / job_id
            os.replace(staging, folder)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        fsync_directory(self.jobs_dir)
        job = Job(job_id, folder, record, "queued", now, now)
        with self._lock:
            self._jobs[job_id] = job
        return job

    def take_finished(self, cutoff: float, busy: Collection[str], visible: Visible = lambda job: True) -> List[Path]:
        """Take out of the store every ``visible`` finished job that ended before ``cutoff`` (unix
        seconds) and is not ``busy`` (a cancelled run still unwinding): each folder renamed hidden (so
        gone at the next start if the engine dies now); those folders, for :meth:`delete`."""
        with self._create_lock, self._lock:
            taken = [job for job in self._jobs.values() if job.state in m.FINISHED_STATES and job.updated < cutoff
                     and job.id not in busy and visible(job)]
            hidden = [self.jobs_dir / f".purged.{job.id}" for job in taken]
            for job, folder in zip(taken, hidden):
                os.replace(job.folder, folder)
                del self._jobs[job.id]
            fsync_directory(self.jobs_dir)
            return hidden

    @staticmethod
    def delete(folders: List[Path]) -> None:
        """Delete the folders :meth:`take_finished` took (slow; no lock held)."""
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)

    def set_state(self, job: Job, state: str, error: Optional[Dict[str, str]] = None, device: Optional[str] = None) -> None:
        with self._lock:
            job.state, job.error, job.device, job.updated = state, error, device, time.time()
            write_msgpack(job.folder / STATE, {"state": state, "created": job.created, "updated": job.updated, "error": error,
                                               "deaths": job.deaths})

    def log(self, job: Job, kind: str, **fields: Any) -> Dict[str, Any]:
        """Append an event (fields starting with ``_`` stay in the store) and return it with its seq."""
        with self._lock:
            event = {"type": kind, "seq": job.seq + 1, **fields}
            with open(job.folder / EVENTS, "ab") as stream:
                stream.write(msgpack.packb(event, use_bin_type=True))
                stream.flush()
                os.fsync(stream.fileno())
            job.events.append(event)
            job.updated = time.time()
            return event

    def end(self, job: Job, state: str, error: Optional[Dict[str, str]], **fields: Any) -> Dict[str, Any]:
        """Set the final ``state`` and log its event (FAILED with ``error``, else DONE with ``fields``).

        If the store is full the ending is kept in memory only (served until the engine stops) and
        the event is returned all the same: followers hear how the job ended.
        """
        kind, values = (m.DONE, fields) if error is None else (m.FAILED, error)
        with self._lock:
            try:
                self.set_state(job, state, error)
                return self.log(job, kind, **values)
            except OSError as problem:
                if full_store(problem) is None:
                    raise
                print(f"job {job.id} ended {state}, kept in memory only: {full_store(problem, self.root)}", file=sys.stderr)
                event = {"type": kind, "seq": job.seq + 1, **values}
                job.events.append(event)
                return event

    def set_progress(self, job: Job, fields: Dict[str, Any]) -> None:
        with self._lock:
            job.progress = fields

    def replay(self, job_id: str, since: int) -> Tuple[List[Dict[str, Any]], Optional[Dict[str, Any]]]:
        """Logged events after ``since`` and the latest progress.

        Of the previews only the latest; of the terminal events only the job's last one if it has
        ended (a cancelled or failed job submitted again runs on: its old end is history).
        """
        with self._lock:
            job = self.get(job_id)
            later = [e for e in job.events if e["seq"] > since]
            previews = [e for e in later if e["type"] == m.PREVIEW]
            ended = job.state not in UNFINISHED
            keep = [e for e in later
                    if (e["type"] != m.PREVIEW or e is previews[-1])
                    and (e["type"] not in m.TERMINAL_EVENTS or (ended and e is job.events[-1]))]
            return keep, (dict(job.progress) if job.progress and job.state in UNFINISHED else None)


def public(event: Dict[str, Any]) -> Dict[str, Any]:
    """An event's fields as sent to clients (store-internal ``_`` fields removed)."""
    return {k: v for k, v in event.items() if not k.startswith("_")}
