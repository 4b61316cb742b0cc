"""Foundry's threading rules in the Nuke node: ``nuke.executeInMainThread`` and ``nuke.ProgressTask``
only from worker threads (the fake raises otherwise, as Nuke would hang). A finished job found
again when a script opens is shown from the cache on the main thread, with neither."""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from nuke_support import comp, fake_host, finished_job, nuke
from service_support import FIRST, LAST, shot_on_disk  # noqa: F401 (fixture)

from infusion.host_plugins.common import Update
from infusion.host_plugins.nuke.progress import NodeProgress


def test_the_fake_refuses_main_thread_calls_that_hang_nuke() -> None:
    with pytest.raises(RuntimeError, match="main thread"):
        nuke.executeInMainThread(print)
    with pytest.raises(RuntimeError, match="main thread"):
        nuke.ProgressTask("Infusion")


def test_a_finished_job_opens_from_the_cache_on_the_main_thread(shot: Path, tmp_path: Path) -> None:
    node = comp(shot, "tcp://127.0.0.1:9", tmp_path / "cache")  # no engine there
    cache = finished_job(tmp_path / "cache", "ab" * 6, lambda frame: np.full((4, 4, 4), 0.5, np.float32))
    node["job"].setValue(cache.job)
    tasks = len(fake_host.tasks())
    fake_host.open_script(fake_host.save_script())  # onScriptLoad runs on the main thread
    node = nuke.toNode("Infusion1")
    assert str(node["status"].value()) == "done (cached)"  # applied at once: nothing was queued
    assert nuke._state.main_thread.empty() and len(fake_host.tasks()) == tasks and not fake_host.messages()
    read = nuke.toNode("Infusion1.Result")
    assert read["file"].value() == cache.output_pattern() and (read["first"].value(), read["last"].value()) == (FIRST, LAST)


def test_updates_from_a_worker_thread_make_a_task_and_go_to_the_main_thread(shot: Path, tmp_path: Path) -> None:
    node = comp(shot, "tcp://127.0.0.1:9", tmp_path / "cache")
    progress = NodeProgress(node.fullName())
    worker = threading.Thread(target=progress, args=(Update("cd" * 6, "running", 0.25, "train step 5"),))
    worker.start()
    worker.join()
    assert fake_host.tasks()[-1].messages == ["train step 5"] and str(node["status"].value()) != "train step 5"
    fake_host.pump()
    assert str(node["status"].value()) == "train step 5" and node["progress"].value() == 25.0
