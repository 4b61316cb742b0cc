"""Submitting, following, cancelling and re-attaching from a host, without blocking its UI.

A :class:`Follower` is a thread with its own ``EngineClient`` (clients are single-thread): it
submits the shot if given one, then follows the job into the cache, calling ``on_update`` from
its own thread. :func:`reattach` is a quick call for the UI thread (it reads the cache and starts
a Follower); :func:`cancel` waits on the engine (up to the connection's timeout when none answers),
so a UI thread calls :func:`cancel_in_background` instead.
"""
from __future__ import annotations

import threading
from typing import Any, Callable, Dict, Optional

from .cache import ResultCache
from .connection import Connection
from .follow import Update, cached_update, follow, never
from .shot import ShotSpec, offered_presets

OnUpdate = Callable[[Update], None]


class Follower(threading.Thread):
    """Submit ``spec`` (or take ``job``) and follow it into ``ResultCache(cache_root, job)``.

    ``on_update`` is called from this thread; ``cancel_requested`` (e.g. a progress dialog's
    cancel button) is polled after each event and cancels the job on the engine. :meth:`stop`
    stops following after the next event and leaves the job running. ``result``: the last update.
    """

    def __init__(self, connection: Connection, cache_root: str, on_update: OnUpdate, *, job: str = "",
                 spec: Optional[ShotSpec] = None, cancel_requested: Callable[[], bool] = never,
                 client_name: str = "infusion-host"):
        if bool(job) == (spec is not None):
            raise ValueError("give a job id or a shot to submit, not both")
        super().__init__(name=f"infusion-follow-{job or 'submit'}", daemon=True)
        self.connection, self.cache_root, self.on_update = connection, cache_root, on_update
        self.job, self.spec, self.cancel_requested, self.client_name = job, spec, cancel_requested, client_name
        self._stop_requested = threading.Event()
        self.result: Optional[Update] = None

    def stop(self) -> None:
        self._stop_requested.set()

    def run(self) -> None:
        try:
            client = self.connection.open(self.client_name)
            try:
                if self.spec is not None:
                    self.on_update(Update("", "submitting", message="sending the shot to the engine", frames=self.spec.frames,
                                          presets=offered_presets(client.engine)))
                    accepted = self.spec.submit(client)
                    self.job = accepted["job"]
                    self.on_update(Update(self.job, accepted["state"], frames=self.spec.frames, variants=self.spec.variants,
                                          message=f"job {self.job} {'found again' if accepted['existing'] else 'submitted'}"))
                self.result = follow(client, ResultCache(self.cache_root, self.job), self.on_update,
                                     self.cancel_requested, self._stop_requested.is_set)
            finally:
                client.close()
        except Exception as error:  # the thread's edge: every failure reaches the host's UI
            self.result = Update(self.job, "error", message=f"error: {error}", error=str(error))
            self.on_update(self.result)


def cancel(connection: Connection, job: str) -> Dict[str, Any]:
    """Cancel ``job`` now; returns its summary. A follower of the job sees ``cancelled`` and ends."""
    client = connection.open("infusion-host-cancel")
    try:
        return client.cancel(job)
    finally:
        client.close()


def cancel_in_background(connection: Connection, job: str, on_done: OnUpdate) -> threading.Thread:
    """:func:`cancel` on a daemon thread, so that the UI thread never waits on the engine; returns
    the started thread. ``on_done`` is called once, from that thread (the host moves the call to
    its UI thread): ``Update(job, state, message=state)`` with the job's state after the cancel, or
    ``Update(job, "error", message="error: ...", error="code: message")`` when it failed."""
    def run() -> None:
        try:
            summary = cancel(connection, job)
        except Exception as error:  # the thread's edge: every failure reaches the host's UI
            on_done(Update(job, "error", message=f"error: {error}", error=str(error)))
            return
        state = str(summary.get("state", ""))
        on_done(Update(job, state, float(summary.get("progress") or 0.0), message=state))

    thread = threading.Thread(target=run, name=f"infusion-cancel-{job}", daemon=True)
    thread.start()
    return thread


def reattach(connection: Connection, cache_root: str, job: str, on_update: OnUpdate,
             cancel_requested: Callable[[], bool] = never) -> Optional[Follower]:
    """Show a finished job from the cache (``on_update`` once, no engine needed, returns None), or
    start following it again from the last event the cache recorded (returns the started Follower)."""
    cache = ResultCache(cache_root, job)
    if cache.complete():
        on_update(cached_update(cache))
        return None
    follower = Follower(connection, cache_root, on_update, job=job, cancel_requested=cancel_requested)
    follower.start()
    return follower
