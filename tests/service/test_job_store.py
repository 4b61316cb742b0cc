"""The job store: jobs appear whole, events survive a torn append, replays skip superseded events."""
from __future__ import annotations

from pathlib import Path

import pytest

from infusion.engine.service.job_store import EVENTS, JobStore
from infusion.protocol.messages import ErrorCode, ProtocolError

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
