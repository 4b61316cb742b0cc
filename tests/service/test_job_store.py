"""The job store: jobs appear whole, events survive a torn append, replays skip superseded events, lists come
in pages that fit a header, finished jobs are taken out whole."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from infusion.engine.service.job_store import EVENTS, JobStore
from infusion.protocol import wire
from infusion.protocol.messages import (JOBS, MAX_LABEL, MAX_LIST_PAGE, MAX_SUMMARY_MESSAGE, MAX_TEXT, ErrorCode,
                                        ProtocolError, header)
from infusion.protocol.wire import MAX_HEADER_BYTES

RECORD = {"inputs": "value", "shot": {"frames": [1, 2]}, "settings": {"intervals": 2, "preset": "test"}}


def test_jobs_persist_and_a_torn_event_is_cut_off(tmp_path: Path) -> None:
    store = JobStore(tmp_path)
    job, created = store.create("ab" * 12, RECORD, lambda inputs: (inputs / "plate.1.exr").write_bytes(b"x"))
    assert created and store.create("ab" * 12, RECORD, lambda inputs: None) == (job, False)
    store.log(job, "preview", interval=0, frame=1, _files=[])
    store.log(job, "preview", interval=1, frame=1, _files=[])
    store.log(job, "frame", frame=1, variant=1, _file="out/fill.0001.exr")
    store.set_state(job, "cancelled")
    store.log(job, "cancelled")
    with open(job.folder / EVENTS, "ab") as stream:
        stream.write(b"\x85\xa4type")  # a crash in the middle of an append
    (tmp_path / "jobs" / ".half-made").mkdir()

    again = JobStore(tmp_path)
    reloaded = again.get(job.id)
    assert reloaded.state == "cancelled" and reloaded.seq == 4 and (reloaded.folder / "inputs" / "plate.1.exr").exists()
    assert not (tmp_path / "jobs" / ".half-made").exists()
    events, _ = again.replay(job.id, since=0)
    assert [(e["type"], e.get("interval")) for e in events] == [("preview", 1), ("frame", None), ("cancelled", None)]
    again.set_state(reloaded, "queued")  # submitted again: the old cancel is history
    assert [e["type"] for e in again.replay(job.id, since=0)[0]] == ["preview", "frame"]
    assert again.log(reloaded, "done")["seq"] == 5
    with pytest.raises(ProtocolError) as caught:
        again.get("cd" * 12)
    assert caught.value.code == ErrorCode.NOT_FOUND


def test_a_full_page_of_the_largest_summaries_fits_in_a_header(tmp_path: Path) -> None:
    """Each text of a summary is capped, so MAX_LIST_PAGE summaries of 4-byte characters fit under the header cap."""
    store = JobStore(tmp_path)
    widest = "\U0001F600" * MAX_TEXT
    for index in range(MAX_LIST_PAGE + 1):
        job, _ = store.create(f"{index:024x}", {**RECORD, "settings": {"intervals": 2, "preset": widest}}, lambda inputs: None)
        store.set_state(job, "failed", {"code": widest, "message": widest})
    jobs, after, total = store.page(MAX_LIST_PAGE, None)
    assert len(jobs) == MAX_LIST_PAGE and total == MAX_LIST_PAGE + 1 and after is not None
    assert len(jobs[0]["preset"]) == MAX_LABEL and len(jobs[0]["error"]["message"]) == MAX_SUMMARY_MESSAGE
    assert len(wire.pack(header(JOBS, jobs=jobs, next=after, total=total))) < MAX_HEADER_BYTES
    rest, end, _ = store.page(MAX_LIST_PAGE, after)
    assert end is None and [j["job"] for j in jobs + rest] == sorted((f"{i:024x}" for i in range(MAX_LIST_PAGE + 1)),
                                                                     key=lambda i: -store.get(i).created)


def test_taking_finished_jobs_leaves_unfinished_busy_and_recent_ones(tmp_path: Path) -> None:
    store = JobStore(tmp_path)
    jobs = {state: store.create(f"{index:024x}", RECORD, lambda inputs: None)[0]
            for index, state in enumerate(("queued", "running", "done", "failed", "cancelled", "unwinding"))}
    for state, job in jobs.items():
        store.set_state(job, "cancelled" if state == "unwinding" else state)
    taken = store.take_finished(time.time() + 1, busy={jobs["unwinding"].id})
    assert sorted(folder.name for folder in taken) == sorted(f".purged.{jobs[s].id}" for s in ("done", "failed", "cancelled"))
    store.delete(taken)
    assert sorted(j["state"] for j in store.page(10, None)[0]) == ["cancelled", "queued", "running"]
    assert sorted(p.name for p in (tmp_path / "jobs").iterdir()) == sorted(jobs[s].id for s in ("queued", "running", "unwinding"))
    assert store.take_finished(time.time() - 60, busy=set()) == []  # the unwinding one ended just now
