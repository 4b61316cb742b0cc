"""Following a job: its events become cached files and :class:`Update` s for the host's UI.

:func:`follow` runs in whatever thread the host gives it (a ``threading.Thread`` in Nuke and
Resolve) with a client of its own, calls ``on_update`` from that thread after every event (the
host moves the call to its UI thread) and returns the last update when the job has ended.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable, Dict, Optional, Set, Tuple

from infusion.protocol.client import EngineClient, JobEvent
from infusion.protocol.progress import preview_text, progress_text

from .cache import ResultCache

ENDED = ("done", "failed", "cancelled")


@dataclass(frozen=True)
class Update:
    """What a host shows: ``state`` (submitting, queued, running, done, failed, cancelled; detached
    when following stopped before the end; error when the engine could not be reached or answered
    with an error), ``progress`` 0..1, a status ``message``, the frame range and variant count, the
    newest preview pattern in the cache, how many frames arrived (any variant; this follower's, or
    the engine's count), the error (``code: message``), and the engine's presets, the default
    first, on the ``submitting`` update of a Follower that has just reached it (empty otherwise)."""

    job: str
    state: str
    progress: float = 0.0
    message: str = ""
    frames: Optional[Tuple[int, int]] = None
    variants: int = 1
    preview: Optional[str] = None
    frames_done: int = 0
    error: str = ""
    presets: Tuple[str, ...] = ()

    @property
    def ended(self) -> bool:
        return self.state in ENDED


def never() -> bool:
    """The default of ``cancel_requested`` and ``stop_requested``."""
    return False


def summary_update(summary: Dict[str, Any], cache: ResultCache) -> Update:
    """An update from a job summary (``EngineClient.status``) and what the cache holds."""
    state = cache.state()
    error = summary.get("error") or {}
    message = {"done": "done", "cancelled": "cancelled", "queued": "queued"}.get(summary["state"], summary["state"])
    if error:
        message = f"failed: {error.get('code')}: {error.get('message')}"
    return Update(summary["job"], summary["state"], float(summary.get("progress") or 0.0), message,
                  tuple(summary["frames"]), int(state.get("variants", 1)), cache.latest_preview(),
                  int(summary.get("frames_done") or 0), f"{error.get('code')}: {error.get('message')}" if error else "")


def cached_update(cache: ResultCache) -> Update:
    """The update of a job whose result the cache holds whole (:meth:`ResultCache.complete`)."""
    state = cache.state()
    first, last = state["frames"]
    return Update(cache.job, "done", 1.0, "done (cached)", (first, last), int(state["variants"]), cache.latest_preview(),
                  last - first + 1)


def _apply(event: JobEvent, update: Update, cache: ResultCache, client: EngineClient, received: Set[int]) -> Update:
    """Write what ``event`` carries into the cache; the update after it. ``received``: the frames
    that arrived so far (any variant), kept up to date."""
    fields = event.fields
    if event.type == "progress":
        return replace(update, state="running", progress=float(fields.get("progress") or 0.0), message=progress_text(fields))
    if event.type == "preview":
        interval = int(fields["interval"])
        first, last = fields["frames"]
        for frame in range(first, last + 1):
            sent = frame == fields["frame"] and event.payloads
            cache.write_preview(interval, frame, event.payloads[0] if sent else client.fetch(cache.job, frame, 1, interval))
        cache.record(preview_interval=interval)
        return replace(update, state="running", preview=cache.preview_pattern(interval), variants=int(fields["variants"]),
                       message=preview_text(fields))
    if event.type == "frame":
        cache.write_frame(int(fields["frame"]), int(fields["variant"]), int(fields["variants"]), event.payloads[0])
        cache.record(variants=int(fields["variants"]))
        received.add(int(fields["frame"]))
        return replace(update, variants=int(fields["variants"]), frames_done=len(received),
                       message=f"frame {fields['frame']} received")
    if event.type == "done":
        cache.record(variants=int(fields["variants"]), state="done")
        return replace(update, state="done", progress=1.0, variants=int(fields["variants"]), message=f"done in {fields['elapsed']:.0f} s")
    if event.type == "failed":
        cache.record(state="failed")
        error = f"{fields['code']}: {fields['message']}"
        return replace(update, state="failed", error=error, message=f"failed: {error}")
    if event.type == "cancelled":
        cache.record(state="cancelled")
        return replace(update, state="cancelled", message="cancelled")
    return update


def follow(client: EngineClient, cache: ResultCache, on_update: Callable[[Update], None],
           cancel_requested: Callable[[], bool] = never, stop_requested: Callable[[], bool] = never) -> Update:
    """Follow ``cache.job`` until it ends, writing its previews and frames into ``cache``.

    Resumes from the last event the cache recorded. When ``cancel_requested()`` turns true the job
    is cancelled on the engine (following goes on to the ``cancelled`` event); when
    ``stop_requested()`` does, following stops (the job runs on) with a ``detached`` update. Both
    are checked after each event. Engine errors propagate (``EngineError``).
    """
    summary = client.status(cache.job)
    state = cache.record(frames=list(summary["frames"]), state=summary["state"])
    since = int(state.get("seq", 0))
    update = summary_update(summary, cache)
    if summary["state"] in ENDED and since >= summary["seq"]:
        if summary["state"] != "done" or cache.complete():
            on_update(update)
            return update
        since = 0  # the cache lost frames: fetch them all again
    on_update(update)
    cancelling = False
    received: Set[int] = set()
    for event in client.events(cache.job, since=since):
        update = _apply(event, update, cache, client, received)
        if event.seq is not None:
            cache.record(seq=event.seq)
        on_update(update)
        if update.ended:
            return update
        if not cancelling and cancel_requested():
            client.cancel(cache.job)
            cancelling = True
        if stop_requested():
            update = replace(update, state="detached", message="detached (the job runs on)")
            on_update(update)
            return update
    return update
