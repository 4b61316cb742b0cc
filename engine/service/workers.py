"""One worker thread per device, each with its own queue; a job runs through ``run_shot``.

Workers never touch the socket: they log events in the store (a frame is on disk before its event
is logged) and hand them to ``publish``, which the service loop forwards to attached clients.
Cancelling sets a flag that the run's progress callback checks at every step, so a running job
stops within one training step; a queued job never starts.
"""
from __future__ import annotations

import contextlib
import os
import queue
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Union

from infusion.protocol import messages as m
from infusion.protocol.messages import ErrorCode, ProtocolError

from .intake import copy_references, named_for_user, shot_request
from .job_store import Job, JobStore, Visible, full_store
from ..method.progress import StepProgress
from ..method.settings import Settings
from ..plates.divergence import RunDiverged, check_event
from ..plates.shot import FrameWritten, PlateFrameRead, PreviewWritten, run_shot

Publish = Callable[[str, Dict[str, Any], List[bytes]], None]
PROGRESS_EVERY = 0.25  # seconds between two progress events of a job on the wire


class JobCancelled(Exception):
    """Raised from the progress callback to stop a cancelled job."""


class EngineStopping(Exception):
    """Raised from the progress callback when the engine shuts down; the job resumes at the next start."""


class Workers:
    """The device workers, the queue of each, and which job runs where."""

    def __init__(self, devices: Sequence[str], store: JobStore, roots: Sequence[Path], publish: Publish):
        self.store, self.roots, self.publish = store, list(roots), publish
        self.queues: Dict[str, "queue.Queue[str]"] = {device: queue.Queue() for device in devices}
        self.running: Dict[str, str] = {}  # job id -> device
        self.cancelling: Set[str] = set()
        self.requeue: Set[str] = set()
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._loop, args=(d,), name=f"worker-{d}", daemon=True) for d in devices]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def stop(self, wait: float = 10.0) -> None:
        self.stopping.set()
        for work in self.queues.values():
            work.put("")
        deadline = time.monotonic() + wait
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def enqueue(self, job: Job) -> None:
        """Queue ``job`` on the least busy device (again, if it had been cancelled or had failed);
        NOT_FOUND if it was purged meanwhile (a submit that found it as it was being deleted)."""
        with self.lock:
            if self.store.find(job.id) is not job:
                raise ProtocolError(ErrorCode.NOT_FOUND, f"job {job.id} was purged as it was submitted again: "
                                    "submit it once more", "job")
            if job.state in ("failed", "cancelled"):
                job.deaths = 0  # submitted again: a quarantined job gets its retries back
            if job.state != "queued":
                self.store.set_state(job, "queued")
            if job.id in self.running:  # a cancelled run is still unwinding: run again once it has
                self.requeue.add(job.id)
                return
            device = min(self.queues, key=lambda d: self.queues[d].qsize() + list(self.running.values()).count(d))
            self.queues[device].put(job.id)

    def purge(self, cutoff: float, visible: Visible) -> int:
        """Take the ``visible`` finished jobs that ended before ``cutoff`` (but those still unwinding) out
        of the store, and delete their folders in the background; how many. The reply needs only the
        renames: deleting thousands of jobs' files outlasted a client's timeout, and what a stopped
        engine had not deleted yet is removed at its next start."""
        with self.lock:
            taken = self.store.take_finished(cutoff, set(self.running) | self.requeue, visible)
        if taken:
            threading.Thread(target=self.store.delete, args=(taken,), name="purge", daemon=True).start()
        return len(taken)

    def cancel(self, job: Job) -> None:
        """Stop ``job`` now: it is marked cancelled at once; a running one stops at its next step."""
        with self.lock:
            if job.state not in ("queued", "running"):
                return
            if job.id in self.running:
                self.cancelling.add(job.id)
            self.requeue.discard(job.id)
            self.store.set_state(job, "cancelled")
            event = self.store.log(job, m.CANCELLED)
        self.publish(job.id, event, [])

    def _loop(self, device: str) -> None:
        while not self.stopping.is_set():
            job_id = self.queues[device].get()
            job = self.store.find(job_id) if job_id else None
            with self.lock:
                if job is None or job.state != "queued" or self.stopping.is_set():
                    continue
                self.running[job.id] = device
            try:
                with self.lock:
                    self.store.set_state(job, "running", device=device)
                self._run(job, device)
            except Exception as error:  # the store failed outside the run (a full disk): this worker serves on
                with contextlib.suppress(Exception):  # the failure is told if the store lets it be
                    self._finish(job, "failed", failure(error, self.store.root))
            finally:
                with self.lock:
                    del self.running[job.id]
                    self.cancelling.discard(job.id)
                    if job.id in self.requeue:
                        self.requeue.discard(job.id)
                        self.queues[device].put(job.id)

    def _run(self, job: Job, device: str) -> None:
        started = time.monotonic()
        relay = _Relay(self, job)
        try:
            request = shot_request(job.record, job.folder)
            copy_references(job.folder / "inputs", self.roots, relay.check)
            result = run_shot(request, job.folder / "work", device=device, progress=relay)
        except JobCancelled:
            return
        except EngineStopping:  # a clean stop: resumed at the next start, and not an engine death
            with self.lock:
                if job.id not in self.cancelling:
                    self.store.set_state(job, "queued")
            return
        except Exception as error:
            self._finish(job, "failed", failure(error, self.store.root))
        else:
            variants = len(result.outputs)
            self._finish(job, "done", None, frames=list(job.record["shot"]["frames"]), variants=variants,
                         elapsed=time.monotonic() - started)

    def _finish(self, job: Job, state: str, error: Optional[Dict[str, str]], **fields: Any) -> None:
        if error is not None:  # the user's files, not the job's copies of them
            error = {**error, "message": named_for_user(error["message"], job.record, job.folder)}
        with self.lock:
            if job.id in self.cancelling or self.stopping.is_set():
                return
            event = self.store.end(job, state, error, **fields)
        self.publish(job.id, event, [])


def failure(error: Exception, store: Optional[Path] = None) -> Dict[str, str]:
    """The ``error`` of a job that stopped on ``error``: its code and a message naming the problem
    (a full disk: the job store folder ``store``)."""
    known = full_store(error, store) or (error if isinstance(error, ProtocolError) else None)
    if known is not None:
        return {"code": known.code, "message": known.message}
    if isinstance(error, RunDiverged):
        return {"code": ErrorCode.JOB_FAILED, "message": str(error)}
    if isinstance(error, ValueError):
        return {"code": ErrorCode.BAD_INPUT, "message": str(error)}
    traceback.print_exc(file=sys.stderr)  # a bug or a device failure: the job fails, the engine serves on
    return {"code": ErrorCode.JOB_FAILED, "message": f"{type(error).__name__}: {error}"}


def progress_fields(event: Union[StepProgress, PlateFrameRead], settings: Settings) -> Dict[str, Any]:
    """The fields of a ``progress`` event (protocol/README.md) for a run's step or plate-reading event.

    ``interval`` and ``intervals`` count over every level of a coarse-to-fine run (level 0's
    intervals first), so they name one interval of the run; ``level``/``levels`` say which level.
    """
    if isinstance(event, PlateFrameRead):
        return {"phase": "read", "interval": 0, "intervals": settings.intervals, "step": event.done,
                "steps": event.total, "loss": None, "elapsed": None, "remaining": None, "progress": 0.0,
                "level": 0, "levels": 1}
    known = event.remaining is not None and event.elapsed + event.remaining > 0
    within = event.elapsed / (event.elapsed + event.remaining) if known else event.interval / event.intervals
    fraction = (event.level + min(max(within, 0.0), 1.0)) / event.levels
    return {"phase": event.phase, "interval": settings.run_interval(event.level, event.interval),
            "intervals": settings.run_intervals(event.levels), "step": event.step, "steps": event.steps,
            "loss": event.loss, "elapsed": event.elapsed, "remaining": event.remaining,
            "progress": min(max(fraction, 0.0), 1.0), "level": event.level, "levels": event.levels}


class _Relay:
    """The progress callback of one run: run_shot's events to logged, published job events."""

    def __init__(self, workers: Workers, job: Job):
        self.workers, self.job = workers, job
        self.settings = Settings.from_dict(job.record["settings"])
        self.last_sent, self.last_key = 0.0, None
        self.frames = list(range(job.record["shot"]["frames"][0], job.record["shot"]["frames"][1] + 1))
        self.resumed = False  # whether the run is past its checkpoints (its first step, or its write pass)

    def __call__(self, event: object) -> None:
        workers = self.workers
        if workers.stopping.is_set():
            raise EngineStopping()
        check_event(event)
        if not self.resumed and isinstance(event, (StepProgress, FrameWritten)):
            self.resumed = True
            self._recover_preview(event)
        if isinstance(event, (StepProgress, PlateFrameRead)):
            return self._progress(event)
        with workers.lock:
            if self.job.id in workers.cancelling:
                raise JobCancelled()
            if isinstance(event, PreviewWritten):
                logged, payloads = self._preview(event)
            elif isinstance(event, FrameWritten):
                file = os.path.relpath(event.path, self.job.folder)
                if self.job.file(m.FRAME, event.frame, event.variant or 0) == self.job.folder / file:
                    return  # a resumed write pass wrote it again, the same frame: it is on the log already
                logged, payloads = workers.store.log(
                    self.job, m.FRAME, frame=event.frame, variant=event.variant or 0,
                    variants=self.job.record["settings"]["variants"], path=event.path,
                    bytes=os.path.getsize(event.path), _file=file), []
            else:
                return
        workers.publish(self.job.id, logged, payloads)

    def check(self) -> None:
        """Stop the run if it should stop: EngineStopping when the engine shuts down, JobCancelled
        when the job was cancelled."""
        if self.workers.stopping.is_set():
            raise EngineStopping()
        if self.job.id in self.workers.cancelling:
            raise JobCancelled()

    def _progress(self, event: Union[StepProgress, PlateFrameRead]) -> None:
        self.check()
        fields = progress_fields(event, self.settings)
        self.workers.store.set_progress(self.job, fields)
        key = (fields["phase"], fields["interval"])
        now = time.monotonic()
        if key != self.last_key or now - self.last_sent >= PROGRESS_EVERY or fields["step"] == fields["steps"]:
            self.last_key, self.last_sent = key, now
            self.workers.publish(self.job.id, {"type": m.PROGRESS, **fields}, [])

    def _preview(self, event: PreviewWritten):
        files = [[self.frames[i % len(self.frames)], i // len(self.frames) + 1, os.path.relpath(p, self.job.folder)]
                 for i, p in enumerate(event.paths)]
        return self._log_preview(files, event.level, event.interval, event.levels,
                                 max(1, len(files) // len(self.frames)))

    def _log_preview(self, files: List[List[Any]], level: int, interval: int, levels: int, variants: int):
        """Log the preview of ``interval`` of ``level``, its ``files`` ([frame, variant, path in the job]);
        the event and its payload (the middle frame's first variant, if among the files)."""
        middle = self.frames[len(self.frames) // 2]
        shown = [f for frame, variant, f in files if (frame, variant) == (middle, 1)]
        payloads = [(self.job.folder / shown[0]).read_bytes()] if shown else []
        logged = self.workers.store.log(self.job, m.PREVIEW, interval=self.settings.run_interval(level, interval),
                                        intervals=self.settings.run_intervals(levels), level=level, levels=levels,
                                        frames=[self.frames[0], self.frames[-1]], frame=middle, variants=variants,
                                        _files=files)
        return logged, payloads

    def _recover_preview(self, event: Union[StepProgress, FrameWritten]) -> None:
        """Log the preview of the interval before the run's first step (or before its write pass)
        if the engine died writing it: the interval was checkpointed, so it never runs again, and
        its preview files on disk (each whole; those written before the death) were never logged."""
        preview = self.job.folder / "work" / "preview"
        if isinstance(event, StepProgress):
            level, interval, levels = event.level, event.interval, event.levels
        else:  # every interval ran: the last one's preview, at the finest level a preview was written for
            levels = 1 + max((int(p.name[len("level_"):]) for p in preview.glob("level_*")), default=0)
            level, interval = levels - 1, self.settings.level_plan(levels - 1).intervals
        if interval == 0 and level == 0:
            return
        if interval == 0:
            level, interval = level - 1, self.settings.level_plan(level - 1).intervals
        interval -= 1
        run_interval = self.settings.run_interval(level, interval)
        if any(e["type"] == m.PREVIEW and e["interval"] == run_interval for e in self.job.events):
            return
        folder = preview / (f"level_{level}" if level else "") / f"interval_{interval:02d}"
        variants = self.settings.variants
        files = [[frame, k, os.path.relpath(folder / f"v{k}.{frame:04d}.exr", self.job.folder)]
                 for k in range(1, variants + 1) for frame in self.frames if (folder / f"v{k}.{frame:04d}.exr").exists()]
        if not files:
            return
        with self.workers.lock:
            logged, payloads = self._log_preview(files, level, interval, levels, variants)
        self.workers.publish(self.job.id, logged, payloads)
