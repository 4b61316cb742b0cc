"""`openjd run` of a bundle from `infusion farm submit`: the task writes the frames, and a task
killed after its first interval resumes from the checkpoint on "shared storage" when run again."""
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from infusion.engine.storage.checkpoint_file import load_checkpoint
from plate_helpers import moving_square_plate, raw_pixels, same_bits

FIRST, LAST = 1001, 1006
BIN = Path(sys.executable).parent
OPENJD = shutil.which("openjd") or str(BIN / "openjd")
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def worker_command(folder: Path) -> Path:
    """The InfusionCommand of the job: the venv's infusion, behind a wrapper (as studios deploy it)
    that logs its pid so the test can kill the task, and trains 12 steps an interval so the kill
    lands between the two intervals of the test preset."""
    wrapper = folder / "infusion-worker"
    wrapper.write_text(f'#!/bin/sh\necho $$ > "{folder}/task.pid"\nexec "{BIN / "infusion"}" "$@" --train-steps 12\n')
    wrapper.chmod(0o755)
    return wrapper


def bundle_for(tmp_path: Path, plate: str, out: Path, name: str) -> Path:
    bundle = tmp_path / name
    submitted = subprocess.run(
        [str(BIN / "infusion"), "farm", "submit", "--plate", plate, "--matte-channel", "A", "--frames", f"{FIRST}-{LAST}",
         "--out", str(out / "fill.####.exr"), "--work-dir", str(tmp_path / f"{name}_work"), "--bundle", str(bundle),
         "--preset", "test", "--seed", "3", "--device", "cpu", "--infusion-command", str(worker_command(tmp_path))],
        capture_output=True, text=True, timeout=120, env=ENV)
    assert submitted.returncode == 0, submitted.stderr
    return bundle


def openjd_run(bundle: Path) -> subprocess.Popen:
    return subprocess.Popen([OPENJD, "run", str(bundle / "template.json"), "-p", f"file://{bundle / 'openjd_parameters.json'}"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ENV)


def frames(folder: Path):
    return [raw_pixels(str(folder / f"fill.{frame}.exr")) for frame in range(FIRST, LAST + 1)]


def test_openjd_runs_the_job_and_a_killed_task_resumes(tmp_path):
    plate = moving_square_plate(tmp_path / "shared" / "plate", FIRST)

    reference = openjd_run(bundle_for(tmp_path, plate, tmp_path / "ref", "ref"))
    log = reference.communicate(timeout=300)[0]
    assert reference.returncode == 0, log
    assert "interval 1/2 done" in log and "interval 2/2 done" in log
    written = frames(tmp_path / "ref")
    source = [raw_pixels(plate.replace("####", str(frame))) for frame in range(FIRST, LAST + 1)]
    for filled, original in zip(written, source):
        outside = original[..., 3] == 0
        assert same_bits(filled[outside], original[outside]).all()
        assert not same_bits(filled[~outside][..., :3], original[~outside][..., :3]).all()

    bundle = bundle_for(tmp_path, plate, tmp_path / "out", "job")
    checkpoint = tmp_path / "job_work" / "checkpoint.pt"
    first_try = openjd_run(bundle)
    deadline = time.monotonic() + 240
    while not checkpoint.exists() and first_try.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(int((tmp_path / "task.pid").read_text()), signal.SIGKILL)  # the worker node dies mid-task
    log = first_try.communicate(timeout=120)[0]
    assert first_try.returncode != 0, log
    assert load_checkpoint(checkpoint)["finished_intervals"] == 1
    assert not (tmp_path / "out").exists()

    requeued = openjd_run(bundle)
    log = requeued.communicate(timeout=300)[0]
    assert requeued.returncode == 0, log
    assert "interval 1/2 done" not in log and "interval 2/2 done" in log
    for ours, theirs in zip(frames(tmp_path / "out"), written):
        assert same_bits(ours, theirs).all()
