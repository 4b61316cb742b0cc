"""One engine per store, and a store left by a killed engine (temporaries, a write pass cut short):
real ``infusion serve`` processes."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import List, Tuple

import msgpack
import pytest

from infusion.engine.service.job_store import EVENTS, STATE, read_log, read_msgpack, write_msgpack
from infusion.protocol.client import EngineClient

from service_support import FIRST, LAST, Engine, make_shot, wait_for
from test_service_attacks import follow, store_job

pytestmark = pytest.mark.timeout(120)


def serve(store: Path) -> subprocess.CompletedProcess:
    """``infusion serve`` on ``store`` as an operator starts it, waited for (it should refuse at once)."""
    return subprocess.run([sys.executable, "-m", "infusion.engine.cli", "serve", "--bind", "tcp://127.0.0.1:*",
                           "--store", str(store), "--device", "cpu"], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, OMP_NUM_THREADS="1"))


def test_a_second_engine_on_a_store_refuses_to_start_and_names_the_first(tmp_path: Path) -> None:
    """Two engines on one store both ran the same job (two ``done``, duplicate seqs): the store is locked."""
    make_shot(tmp_path / "shot")
    store = tmp_path / "store"
    job = store_job(store, tmp_path / "shot", train_steps=10**6)
    with Engine(store) as first:
        client = EngineClient(first.endpoint, timeout=10)
        client.connect()
        wait_for(lambda: client.status(job)["state"] == "running")
        second = serve(store)
        assert client.status(job)["state"] == "running"  # the refused engine touched nothing
        client.close()
        first.kill()
    assert second.returncode == 2 and "Traceback" not in second.stderr, second.stderr
    assert (f"the job store {store} is in use by another engine (process {first.process.pid} holds "
            f"{store}/engine.lock)") in second.stderr
    with Engine(store) as after:  # a killed engine's lock went with it
        with EngineClient(after.endpoint, timeout=10) as client:
            assert client.status(job)["state"] in ("queued", "running")


def test_temporaries_a_killed_engine_left_in_the_store_are_removed_at_start(tmp_path: Path) -> None:
    make_shot(tmp_path / "shot")
    store = tmp_path / "store"
    job = store_job(store, tmp_path / "shot", train_steps=10**6)
    folder = store / "jobs" / job
    left = [folder / "work" / ".checkpoint.pt.a1b2c3d4.tmp", folder / "out" / ".fill.1003.exr.k2j3h4g5.exr",
            folder / "inputs" / ".plate.00001003.exr.x_9y8z7w.part", folder / ".state.msgpack.abcdefgh.tmp"]
    for path in left:
        path.write_bytes(b"half a file")
    (folder / "work" / "notes.tmp").write_bytes(b"not an atomic write's")
    with Engine(store) as engine:
        with EngineClient(engine.endpoint, timeout=10) as client:
            assert client.status(job)["state"] in ("queued", "running")
    assert not [path for path in left if path.exists()] and (folder / "work" / "notes.tmp").exists()


def finished_job(tmp_path: Path) -> Tuple[Path, str, Path, List[dict]]:
    """A job run to done on a real engine: its store, id, folder and logged events."""
    make_shot(tmp_path / "shot")
    store = tmp_path / "store"
    job = store_job(store, tmp_path / "shot")
    with Engine(store) as engine:
        assert follow(engine.endpoint, job)[-1].type == "done"
    folder = store / "jobs" / job
    return store, job, folder, read_log(folder / EVENTS)


def killed_with(folder: Path, events: List[dict]) -> None:
    """The job's store as a kill leaves it: only ``events`` logged and the job still running."""
    (folder / EVENTS).write_bytes(b"".join(msgpack.packb(event) for event in events))
    write_msgpack(folder / STATE, {**read_msgpack(folder / STATE), "state": "running"})


def test_a_write_pass_resumed_after_a_kill_logs_each_frame_once(tmp_path: Path) -> None:
    """The engine died in the write pass, its frames logged but not the job's end (the store as a
    SIGKILL there leaves it); resumed, the pass writes every frame again: each is logged once."""
    store, job, folder, events = finished_job(tmp_path)
    assert events[-1]["type"] == "done"
    killed_with(folder, events[:-1])
    with Engine(store) as engine:
        replayed = follow(engine.endpoint, job)
    frames = [(e.fields["frame"], e.fields["variant"]) for e in replayed if e.type == "frame"]
    assert replayed[-1].type == "done" and len(frames) == len(set(frames)) == LAST - FIRST + 1
    logged = read_log(folder / EVENTS)
    assert [e["seq"] for e in logged] == list(range(1, len(logged) + 1)) and len(logged) == len(events)
    assert len([e for e in logged if e["type"] == "frame"]) == LAST - FIRST + 1


def test_a_preview_whose_write_a_kill_cut_short_is_logged_when_the_job_resumes(tmp_path: Path) -> None:
    """The engine died writing the last interval's preview (checkpointed, so never run again): the
    store has its first preview file, no preview event, no frames. Resumed, the job logs that
    preview (its files on disk) before its frames, once."""
    store, job, folder, events = finished_job(tmp_path)
    last = max(e["interval"] for e in events if e["type"] == "preview")
    killed_with(folder, [e for e in events if e["type"] != "frame" and e["type"] != "done" and e.get("interval") != last])
    written = sorted((folder / "work" / "preview" / f"interval_{last:02d}").iterdir())
    for path in written[1:]:
        path.unlink()  # the kill came after the first file
    for path in (folder / "out").iterdir():
        path.unlink()
    with Engine(store) as engine:
        replayed = follow(engine.endpoint, job)
    previews = [e for e in replayed if e.type == "preview"]
    assert replayed[-1].type == "done" and previews[-1].fields["interval"] == last
    logged = [e for e in read_log(folder / EVENTS) if e["type"] == "preview"]
    assert [e["interval"] for e in logged] == sorted({e["interval"] for e in logged})
    assert logged[-1]["interval"] == last and [f[2] for f in logged[-1]["_files"]] == [
        str(written[0].relative_to(folder))]
