"""A Follower's updates in Nuke: a ProgressTask in the follower's thread, knobs in the main thread.

Foundry's threading rules: ``nuke.executeInMainThread`` and ``nuke.ProgressTask`` are for worker
threads only (called from the main thread NUKE hangs). An update that arrives on the main thread
(a finished job shown from the cache when a script opens) is applied there directly.
"""
from __future__ import annotations

import threading
from typing import Optional

import nuke

from infusion.host_plugins.common import ResultCache, Update, shown_variant as variant_within

from . import graph
from .knobs import cache_root, offer_presets


def shown_variant(node: nuke.Node, variants: int) -> int:
    """The ``variant shown`` knob within 1..variants (0, the mean, only when there are several)."""
    return variant_within(int(node["show_variant"].value()), variants)


def apply_update(node_name: str, update: Update, interactive: bool = True) -> None:
    """Main thread: the status line (the node's label), the progress bar, the job knob, the preset
    menu, the finished frames merged into the output, the latest preview in the preview Read beside
    the node; a failure also as a dialog when ``interactive`` (not for jobs found again on script load)."""
    node = nuke.toNode(node_name)
    if node is None:
        return  # the node was deleted meanwhile
    if update.job:
        node["job"].setValue(update.job)
    if update.presets:
        offer_presets(node, update.presets)
    node["status"].setValue(update.message)
    node["progress"].setValue(round(100.0 * update.progress, 1))
    if update.state == "done" and update.frames:
        cache = ResultCache(cache_root(node), update.job)
        graph.show(node, cache.output_pattern(shown_variant(node, update.variants), update.variants), update.frames)
    elif update.preview and update.frames and update.state == "running":
        graph.show_preview(node, update.preview, update.frames)
    if interactive and update.state in ("failed", "error"):
        nuke.message(f"Infusion ({node_name}): {update.error}")


class NodeProgress:
    """``on_update`` of a Follower for the node ``node_name``; its ``cancelled`` is the dialog's button.

    From a worker thread an update moves the task and goes to the main thread; on the main thread
    it is applied at once and no task is made. Not ``interactive`` (a job found again when a script
    opens), failures show on the node only, without a dialog. A progress that was :meth:`retire` d (its node follows another job now) reports nothing more.
    """

    def __init__(self, node_name: str, interactive: bool = True):
        self.node_name, self.interactive = node_name, interactive
        self.task: Optional[nuke.ProgressTask] = None
        self.retired = False

    def retire(self) -> None:
        self.retired = True

    def __call__(self, update: Update) -> None:
        if threading.current_thread() is threading.main_thread():
            self._apply(update)
            return
        finished = self.retired or update.ended or update.state in ("detached", "error")
        if self.task is None and not finished:
            self.task = nuke.ProgressTask(f"Infusion: {self.node_name}")
        if self.task is not None:
            self.task.setMessage(update.message)
            self.task.setProgress(int(100 * update.progress))
        if finished:
            self.task = None  # Nuke removes a progress task when it is deleted
        if not self.retired:
            nuke.executeInMainThread(self._apply, args=(update,))

    def _apply(self, update: Update) -> None:
        if not self.retired:
            apply_update(self.node_name, update, self.interactive)

    def cancelled(self) -> bool:
        return self.task is not None and bool(self.task.isCancelled())
