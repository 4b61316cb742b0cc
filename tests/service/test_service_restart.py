"""SIGKILL the engine in the middle of a job, start it again: the job resumes and ends as if never killed."""
from __future__ import annotations

import threading
from pathlib import Path
from typing import List

import numpy as np
import pytest

from infusion.protocol.client import EngineClient, JobEvent

from service_support import FIRST, LAST, Engine, make_shot, read_exr

pytestmark = pytest.mark.timeout(150)


def pixels(events: List[JobEvent], folder: Path) -> dict:
    folder.mkdir()
    found = {}
    for event in (e for e in events if e.type == "frame"):
        path = folder / f"{event.fields['frame']}.exr"
        path.write_bytes(event.payloads[0])
        found[event.fields["frame"]] = read_exr(path)
    return found


def test_sigkill_mid_job_then_restart_resumes_bit_identical(tmp_path: Path) -> None:
    shot = tmp_path / "shot"
    make_shot(shot)
    plate, matte = str(shot / "plate.####.exr"), str(shot / "matte.####.exr")
    settings = {"train_steps": 30, "seed": 3}
    engine = Engine(tmp_path / "store", "--allow-root", str(shot))
    endpoint = engine.endpoint
    restarted: List[Engine] = []
    try:
        client = EngineClient(endpoint, timeout=10, heartbeat=0.5, reconnect_timeout=60)
        client.connect()
        job = client.submit(plate, (FIRST, LAST), matte=matte, preset="test", settings=settings)["job"]
        events: List[JobEvent] = []
        for event in client.events(job):  # one iterator across the crash: it reconnects by itself
            events.append(event)
            if event.type == "preview" and event.fields["interval"] == 0 and not restarted:
                engine.kill()  # interval 0 is checkpointed; interval 1 is training
                restarter = threading.Thread(target=lambda: restarted.append(Engine(tmp_path / "store", "--allow-root", str(shot), bind=endpoint)))
                restarter.start()
        assert restarted and events[-1].type == "done"
        after = events[[e.type for e in events].index("preview") + 1:]
        assert all(not (e.type == "preview" and e.fields["interval"] == 0) for e in after)  # resumed, not restarted
        assert client.status(job)["state"] == "done"

        uninterrupted = client.submit(plate, (FIRST, LAST), matte=matte, preset="test", settings=settings, by_reference=True)
        assert uninterrupted["job"] != job
        reference = list(client.events(uninterrupted["job"]))
        resumed, expected = pixels(events, tmp_path / "resumed"), pixels(reference, tmp_path / "reference")
        assert sorted(resumed) == sorted(expected) == list(range(FIRST, LAST + 1))
        assert all(np.array_equal(resumed[f], expected[f]) for f in resumed)
        client.close()
    finally:
        engine.kill()
        for running in restarted:
            running.stop()
