"""Issue 16: ``infusion serve`` under attack, each break on a real engine process."""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, List

import msgpack
import numpy as np
import OpenImageIO as oiio
import pytest
import zmq

from infusion.engine.method.presets import preset
from infusion.engine.service.intake import plan_submit, with_defaults
from infusion.engine.service.job_store import JobStore
from infusion.protocol import messages as m
from infusion.protocol import wire
from infusion.protocol.client import EngineClient, EngineError, JobEvent
from infusion.protocol.messages import DEFAULT_LIST_PAGE, MAX_LABEL, validate_request, header

from service_support import FIRST, LAST, SIZE, Engine, make_shot, read_exr, wait_for, write_exr

pytestmark = pytest.mark.timeout(120)


def store_job(store: Path, shot: Path, **settings: Any) -> str:
    """A queued by-value job of ``shot`` written straight into ``store``, its record's settings
    changed by ``settings`` (as a record edited on disk, or one from an engine that checked less)."""
    descriptors = [{"role": role, "frame": f} for role in ("plate", "matte") for f in range(FIRST, LAST + 1)]
    blobs = [(shot / f"{d['role']}.{d['frame']:04d}.exr").read_bytes() for d in descriptors]
    submit = header("submit", len(blobs), id=1, inputs="value", payloads=descriptors,
                    shot={"frames": [FIRST, LAST], "plate": "plate.####.exr", "matte": "matte.####.exr",
                          "preset": "test", "settings": {"refine_levels": 0}})
    request = validate_request(submit, len(blobs))
    plan = plan_submit(request.fields, blobs, [])
    plan.record["settings"].update(settings)
    JobStore(store).create(plan.job_id, plan.record, plan.fill_inputs)
    return plan.job_id


def follow(endpoint: str, job: str) -> List[JobEvent]:
    client = EngineClient(endpoint, timeout=10)
    client.connect()
    try:
        return list(client.events(job))
    finally:
        client.close()


def test_diverged_training_fails_the_job_instead_of_writing_nan(tmp_path: Path) -> None:
    make_shot(tmp_path / "shot")
    job = store_job(tmp_path / "store", tmp_path / "shot", learning_rate=1e30, train_steps=5)
    with Engine(tmp_path / "store") as engine:
        events = follow(engine.endpoint, job)
    assert events[-1].type == "failed", [e.type for e in events]
    assert events[-1].fields["code"] == "job_failed" and "diverged" in events[-1].fields["message"]
    assert not [e for e in events if e.type == "frame"]
    assert not list((tmp_path / "store" / "jobs" / job / "out").iterdir())


def test_non_finite_settings_are_refused(tmp_path: Path) -> None:
    make_shot(tmp_path / "shot")
    job = store_job(tmp_path / "store", tmp_path / "shot", learning_rate=float("inf"))
    with Engine(tmp_path / "store") as engine:
        events = follow(engine.endpoint, job)
        client = EngineClient(engine.endpoint, timeout=10)
        client.connect()
        with pytest.raises(Exception, match="finite"):
            client.submit(str(tmp_path / "shot" / "plate.####.exr"), (FIRST, LAST),
                          matte=str(tmp_path / "shot" / "matte.####.exr"), options={"margin": float("inf")})
        client.close()
    assert events[-1].type == "failed" and "learning_rate inf" in events[-1].fields["message"]


def test_a_job_whose_output_is_its_plate_fails_and_leaves_the_plate(tmp_path: Path) -> None:
    """A store edited on disk: the job's input copies are links to its own output frames."""
    make_shot(tmp_path / "shot")
    job, store = "0123456789abcdef01234567", tmp_path / "store"
    out = store / "jobs" / job / "out"
    record = {"inputs": "value", "settings": preset("test").to_dict(),
              "shot": {"frames": [FIRST, LAST], "plate": "plate.########.exr", "matte": "matte.########.exr",
                       "matte_channel": "A", "options": with_defaults({})}}

    def plates_in_out(inputs: Path) -> None:
        for frame in range(FIRST, LAST + 1):
            shutil.copy(tmp_path / "shot" / f"plate.{frame:04d}.exr", inputs.parent / "out" / f"fill.{frame:04d}.exr")
            (inputs / f"plate.{frame:08d}.exr").symlink_to(Path("..") / "out" / f"fill.{frame:04d}.exr")
            shutil.copy(tmp_path / "shot" / f"matte.{frame:04d}.exr", inputs / f"matte.{frame:08d}.exr")

    JobStore(store).create(job, record, plates_in_out)
    before = (out / f"fill.{FIRST:04d}.exr").read_bytes()
    with Engine(store) as engine:
        events = follow(engine.endpoint, job)
    assert events[-1].type == "failed" and events[-1].fields["code"] == "path_not_allowed"
    message = events[-1].fields["message"]
    assert f"the output frame {out}/fill.{FIRST:04d}.exr would overwrite the plate frame {FIRST}" in message
    assert (out / f"fill.{FIRST:04d}.exr").read_bytes() == before


def test_a_job_stored_reading_its_references_as_it_ran_is_refused(tmp_path: Path) -> None:
    """A reference job stored by an older engine (its record names the referenced files, not copies)."""
    make_shot(tmp_path / "shot")
    job, store = "0123456789abcdef01234567", tmp_path / "store"
    record = {"inputs": "reference", "settings": preset("test").to_dict(),
              "shot": {"frames": [FIRST, LAST], "plate": str(tmp_path / "shot" / "plate.####.exr"),
                       "matte": str(tmp_path / "shot" / "matte.####.exr"), "matte_channel": "A",
                       "options": with_defaults({})}}
    JobStore(store).create(job, record, lambda inputs: None)
    with Engine(store, "--allow-root", str(tmp_path)) as engine:
        events = follow(engine.endpoint, job)
    assert events[-1].type == "failed" and events[-1].fields["code"] == "path_not_allowed"
    assert f"the job's plate '{tmp_path}/shot/plate.####.exr' is not its copy in the store" in events[-1].fields["message"]


def linked_plate_and_secret(tmp_path: Path) -> Path:
    """The allowed root ``root``: a shot, and ``linked/`` whose plate frames are symlinks to the shot's;
    ``secret/`` outside it: frames of 7.0 everywhere. Returns the root."""
    root, secret = tmp_path / "root", tmp_path / "secret"
    make_shot(root / "shot")
    (root / "linked").mkdir()
    secret.mkdir()
    for frame in range(FIRST, LAST + 1):
        (root / "linked" / f"plate.{frame:04d}.exr").symlink_to(root / "shot" / f"plate.{frame:04d}.exr")
        write_exr(secret / f"plate.{frame:04d}.exr", np.full((SIZE, SIZE, 3), 7.0, np.float32), ["R", "G", "B"])
    return root


def swap_to_secret(root: Path) -> None:
    """Each of linked/'s plate symlinks replaced, atomically, by one to the secret outside the root."""
    for frame in range(FIRST, LAST + 1):
        swapped = root / "linked" / f"swap.{frame:04d}.exr"
        swapped.symlink_to(root.parent / "secret" / f"plate.{frame:04d}.exr")
        os.replace(swapped, root / "linked" / f"plate.{frame:04d}.exr")


def submit_linked(client: EngineClient, root: Path, **settings: Any) -> str:
    return client.submit(str(root / "linked" / "plate.####.exr"), (FIRST, LAST), matte=str(root / "shot" / "matte.####.exr"),
                         preset="test", settings={"refine_levels": 0, **settings}, by_reference=True)["job"]


def test_a_reference_swapped_to_a_file_outside_the_roots_while_the_job_runs_is_never_read(tmp_path: Path) -> None:
    """Issue 16, break 4: the plate's frames are symlinks inside the root when submitted; while the
    job trains they are swapped to a secret outside the root. The job reads only its copies, each
    made through one checked open: the fill holds the plate's pixels, none of the secret."""
    root = linked_plate_and_secret(tmp_path)
    with Engine(tmp_path / "store", "--allow-root", str(root)) as engine:
        client = EngineClient(engine.endpoint, timeout=10)
        client.connect()
        job = submit_linked(client, root, train_steps=60)
        events = client.events(job)
        seen = [next(e for e in events if e.type == "progress" and e.fields["phase"] == "train")]
        swap_to_secret(root)
        seen.extend(events)
        client.close()
    assert seen[-1].type == "done", seen[-1].fields
    for event in (e for e in seen if e.type == "frame"):
        written = tmp_path / f"fill.{event.fields['frame']}.exr"
        written.write_bytes(event.payloads[0])
        pixels = read_exr(written)
        outside = read_exr(root / "shot" / f"matte.{event.fields['frame']:04d}.exr")[..., 0] == 0
        assert np.array_equal(pixels[outside], read_exr(root / "shot" / f"plate.{event.fields['frame']:04d}.exr")[outside])
        assert not np.isclose(pixels, 7.0).any()
    copies = sorted(p.name for p in (tmp_path / "store" / "jobs" / job / "inputs").glob("*.exr"))
    assert copies == [f"{role}.{frame:08d}.exr" for role in ("matte", "plate") for frame in range(FIRST, LAST + 1)]


def test_a_reference_swapped_outside_the_roots_before_the_job_copies_it_fails_the_job(tmp_path: Path) -> None:
    """The swap lands after the submit's check and before the job starts (it waits behind another):
    the copy's checked open finds the file outside the root and the job fails naming it."""
    root = linked_plate_and_secret(tmp_path)
    store = tmp_path / "store"
    blocker = store_job(store, root / "shot", train_steps=10**6)
    with Engine(store, "--allow-root", str(root)) as engine:
        client = EngineClient(engine.endpoint, timeout=10)
        client.connect()
        wait_for(lambda: client.status(blocker)["state"] == "running")
        job = submit_linked(client, root)
        swap_to_secret(root)
        client.cancel(blocker)
        ended = list(client.events(job))[-1]
        client.close()
    assert ended.type == "failed" and ended.fields["code"] == "path_not_allowed", ended.fields
    assert f"'{root}/linked/plate.{FIRST:04d}.exr' lies outside the allowed roots" in ended.fields["message"]
    assert not list((store / "jobs" / job / "inputs").glob("*.exr"))


def test_a_frame_declaring_a_huge_data_window_is_refused_before_its_pixels(tmp_path: Path) -> None:
    make_shot(tmp_path / "shot")
    huge = tmp_path / "shot" / f"plate.{FIRST:04d}.exr"  # 16000x16000 of zeros: 1.6 MB, 3 GB as floats
    spec = oiio.ImageSpec(16000, 16000, 3, "half")
    spec.channelnames = ("R", "G", "B")
    spec.attribute("compression", "zip")
    output = oiio.ImageOutput.create(str(huge))
    assert output.open(str(huge), spec)
    for y in range(0, 16000, 1000):
        assert output.write_scanlines(y, y + 1000, 0, np.zeros((1000, 16000, 3), np.float32))
    output.close()
    assert huge.stat().st_size < 4_000_000
    with Engine(tmp_path / "store") as engine:
        client = EngineClient(engine.endpoint, timeout=30)
        client.connect()
        with pytest.raises(EngineError) as refused:  # intake reads each frame's header
            client.submit(str(huge).replace(f"{FIRST:04d}", "####"), (FIRST, LAST),
                          matte=str(tmp_path / "shot" / "matte.####.exr"), preset="test")
        client.close()
    assert refused.value.code == "bad_input" and refused.value.message.startswith(
        f"plate frame {FIRST} (plate.{FIRST:04d}.exr) is not a usable EXR file: plate.{FIRST:04d}.exr declares a "
        "16000x16000 data window of 3 channels, over the engine's limits")


def test_settings_of_a_stored_job_are_held_to_the_declared_limits(tmp_path: Path) -> None:
    make_shot(tmp_path / "shot")
    job = store_job(tmp_path / "store", tmp_path / "shot", variants=100_000)
    with Engine(tmp_path / "store") as engine:
        events = follow(engine.endpoint, job)
    assert events[-1].type == "failed" and events[-1].fields["code"] == "bad_field"
    assert "'shot.settings.variants' must lie in [1, 64], got 100000" in events[-1].fields["message"]


def test_a_job_running_when_the_engine_died_twice_is_quarantined(tmp_path: Path) -> None:
    make_shot(tmp_path / "shot")
    store = tmp_path / "store"
    job = store_job(store, tmp_path / "shot", train_steps=10**6)
    for death in (1, 2):
        engine = Engine(store)
        client = EngineClient(engine.endpoint, timeout=10)
        client.connect()
        wait_for(lambda: client.status(job)["state"] == "running")
        client.close()
        engine.kill()
    with Engine(store) as engine:
        client = EngineClient(engine.endpoint, timeout=10)
        client.connect()
        summary = client.status(job)
        events = list(client.events(job))
        client.close()
    assert summary["state"] == "failed" and "quarantined: the engine died 2 times" in summary["error"]["message"]
    assert events[-1].type == "failed"


def test_a_full_store_fails_the_job_as_store_full_and_the_worker_serves_on(tmp_path: Path) -> None:
    """The disk fills under a running job: its event log becomes /dev/full (every write: ENOSPC),
    a real full disk for that file without a filesystem of its own or any patching."""
    make_shot(tmp_path / "shot")
    store = tmp_path / "store"
    job = store_job(store, tmp_path / "shot", train_steps=300)
    with Engine(store, "--allow-root", str(tmp_path / "shot")) as engine:
        client = EngineClient(engine.endpoint, timeout=10)
        client.connect()
        wait_for(lambda: client.status(job)["state"] == "running")
        os.symlink("/dev/full", store / "jobs" / job / "events.msgpack")
        ended = list(client.events(job))[-1]
        assert ended.type == "failed" and ended.fields["code"] == "store_full", ended.fields
        assert f"the job store {store} is full" in ended.fields["message"] and "No space left on device" in ended.fields["message"]
        assert ".tmp" not in ended.fields["message"]
        assert client.status(job)["error"]["code"] == "store_full"
        shot = tmp_path / "shot"
        after = client.submit(str(shot / "plate.####.exr"), (FIRST, LAST), matte=str(shot / "matte.####.exr"),
                              preset="test", settings={"refine_levels": 0}, by_reference=True)["job"]
        assert list(client.events(after))[-1].type == "done"  # the worker outlived the full store
        client.close()


def small_store_command(store: Path, size: str) -> List[str]:
    """What runs an engine whose ``store`` is a tmpfs of ``size`` (a disk that fills), mounted in a
    user and mount namespace of its own (no privileges needed where the kernel allows them)."""
    return ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
            f'mount -t tmpfs -o size={size} infusion-store "$0" && exec "$@"', str(store)]


def test_a_submit_into_a_full_store_names_the_users_frame_and_the_store_not_a_temporary(tmp_path: Path) -> None:
    if shutil.which("unshare") is None or subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "true"],
                                                         capture_output=True).returncode != 0:
        pytest.skip("needs unprivileged user and mount namespaces (unshare) for a small tmpfs store")
    shot, store = tmp_path / "shot", tmp_path / "store"
    make_shot(shot)
    store.mkdir()
    with Engine(store, prefix=small_store_command(store, "16k")) as engine:  # the lock and a few frames fit
        client = EngineClient(engine.endpoint, timeout=10)
        client.connect()
        with pytest.raises(EngineError) as caught:
            client.submit(str(shot / "plate.####.exr"), (FIRST, LAST), matte=str(shot / "matte.####.exr"), preset="test")
        assert client.ping() < 5  # the engine serves on
        client.close()
    error = caught.value
    assert error.code == "store_full", error
    assert re.fullmatch(rf"the job store {re.escape(str(store))} is full \(writing (plate|matte) frame (\d+) "
                        r"\((plate|matte)\.\2\.exr\) of the new job [0-9a-f]{24}\): No space left on device",
                        error.message), error.message


FORGED = "test\x1b[2J\x1b[H\r\n" + "f" * 24 + "  done      100%  frames 1-1  standard  2020-01-01 00:00"


def write_finished_jobs(store: Path, count: int, ended: float, label: str = "test") -> List[str]:
    """``count`` done jobs written straight into ``store`` (as an engine that ran them would leave
    them, without its fsyncs: thousands in seconds), created one second apart, ended at ``ended``."""
    jobs = []
    for index in range(count):
        job = hashlib.sha256(f"{ended}/{index}".encode()).hexdigest()[:24]
        folder = store / "jobs" / job
        folder.mkdir(parents=True)
        record = {"inputs": "value", "shot": {"frames": [1, 1]}, "settings": {"intervals": 2, "preset": label}}
        (folder / "job.msgpack").write_bytes(msgpack.packb(record))
        state = {"state": "done", "created": ended - 86400 - index, "updated": ended, "error": None}
        (folder / "state.msgpack").write_bytes(msgpack.packb(state))
        jobs.append(job)
    return jobs


def jobs_command(endpoint: str, *arguments: str) -> subprocess.CompletedProcess:
    """``infusion jobs`` as a user runs it."""
    return subprocess.run([sys.executable, "-m", "infusion.engine.cli", "jobs", "--engine", endpoint, *arguments],
                          capture_output=True, text=True, timeout=120, env=dict(os.environ, OMP_NUM_THREADS="1"))


def test_list_pages_a_store_of_thousands_of_jobs_with_huge_forged_labels(tmp_path: Path) -> None:
    """Issue 16, break 6: 265 jobs with 4,000-character labels (or about 5,400 of any) made the one
    ``jobs`` reply exceed the header cap, so ``list`` failed for good; a label's control characters
    cleared the terminal and forged a row. Now the reply is a page, each label capped and printable."""
    store, now = tmp_path / "store", time.time()
    forged = write_finished_jobs(store, 300, now, label=FORGED * 60)  # 4,800 characters each
    plain = write_finished_jobs(store, 5700, now - 1)
    with Engine(store) as engine:
        client = EngineClient(engine.endpoint, timeout=30)
        client.connect()
        listed = client.jobs()
        page = client.jobs_page()
        socket = zmq.Context.instance().socket(zmq.DEALER)  # the request as older clients send it: no paging fields
        socket.linger = 0
        socket.connect(engine.endpoint)
        wire.send(socket, header("list", id=1))
        assert socket.poll(30_000)
        old_form = wire.receive(socket)[1].header
        socket.close()
        shown = jobs_command(engine.endpoint)
        client.close()
    assert len(listed) == 6000 and {j["job"] for j in listed} == set(forged + plain)
    assert [j["created"] for j in listed] == sorted((j["created"] for j in listed), reverse=True)
    assert len(page["jobs"]) == DEFAULT_LIST_PAGE and page["total"] == 6000 and page["next"] is not None
    assert old_form["type"] == "jobs" and len(old_form["jobs"]) == DEFAULT_LIST_PAGE and old_form["next"] is not None
    labels = {j["preset"] for j in listed}
    assert labels == {"test", m.printable(FORGED * 60, MAX_LABEL)} and all(len(label) <= MAX_LABEL for label in labels)
    assert shown.returncode == 0, shown.stderr
    rows = shown.stdout.splitlines()
    assert len(rows) == 6000 and not any(c in shown.stdout for c in "\x1b\r")
    assert [row.split()[0] for row in rows] == [j["job"] for j in listed]  # no forged row


def test_a_purge_of_thousands_of_jobs_answers_before_their_files_are_deleted(tmp_path: Path) -> None:
    """The done-means re-run (docs/attack_rerun.md): ``infusion jobs --purge-older-than 30d`` of 5,000
    jobs of a 10,000-job store said engine_unavailable after 10 s (the reply waited for every file
    to be deleted) though it purged them. The reply now needs only the renames out of the store."""
    store, now = tmp_path / "store", time.time()
    old = write_finished_jobs(store, 2000, now - 40 * 86400)
    for job in old:  # each with the folders and a few files of a job that ran
        for part in ("inputs", "work", "out"):
            (store / "jobs" / job / part).mkdir()
            for index in range(4):
                (store / "jobs" / job / part / f"{index}.exr").write_bytes(b"\0" * 64)
    with Engine(store) as engine:
        client = EngineClient(engine.endpoint, timeout=60)
        client.connect()
        start = time.monotonic()
        assert client.purge(30 * 86400) == len(old)
        answered = time.monotonic() - start
        assert client.jobs() == []
        wait_for(lambda: not list((store / "jobs").iterdir()), timeout=60)  # deleted after the reply
        deleted = time.monotonic() - start
        client.close()
    assert answered < 3.0 and answered < deleted / 2, (answered, deleted)


def test_purge_deletes_finished_jobs_older_than_an_age_and_keeps_the_rest(tmp_path: Path) -> None:
    make_shot(tmp_path / "shot")
    store, now = tmp_path / "store", time.time()
    old = write_finished_jobs(store, 400, now - 3 * 86400)
    recent = write_finished_jobs(store, 100, now - 3600)
    running = store_job(store, tmp_path / "shot", train_steps=10**6)
    with Engine(store) as engine:
        client = EngineClient(engine.endpoint, timeout=30)
        client.connect()
        wait_for(lambda: client.status(running)["state"] == "running")
        purged = jobs_command(engine.endpoint, "--purge-older-than", "2d")
        left = {j["job"] for j in client.jobs()}
        with pytest.raises(EngineError) as caught:
            client.status(old[0])
        assert client.purge(0) == len(recent)  # every finished job; the running one stays
        assert client.status(running)["state"] == "running"
        refused = jobs_command(engine.endpoint, "--purge-older-than", "soon")
        client.close()
    assert purged.returncode == 0 and purged.stdout.strip() == "purged 400 finished jobs", purged.stderr
    assert left == set(recent) | {running} and caught.value.code == "not_found"
    wait_for(lambda: sorted(p.name for p in (store / "jobs").iterdir()) == [running])  # deleted in the background
    assert refused.returncode == 2 and "'soon' is not an age such as 30d, 12h, 90m or 45s" in refused.stderr
