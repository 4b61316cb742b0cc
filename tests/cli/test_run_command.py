"""`infusion run` in a subprocess: plain progress lines, and a SIGKILL after the first checkpoint resumes."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from infusion.engine.storage.checkpoint_file import load_checkpoint
from plate_helpers import moving_square_plate, raw_pixels, same_bits

FRAMES = (1001, 1006)
# One torch thread: on a shared 2-core machine two threads contend and run several times slower.
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def command(plate: str, out: Path, work_dir: Path):
    return [sys.executable, "-m", "infusion.engine.cli", "run", "--plate", plate, "--frames", "%d-%d" % FRAMES,
            "--out", str(out / "fill.%04d.exr"), "--preset", "test", "--train-steps", "12", "--seed", "3",
            "--device", "cpu", "--work-dir", str(work_dir)]


def outputs(folder: Path):
    return [raw_pixels(str(folder / f"fill.{frame}.exr")) for frame in range(FRAMES[0], FRAMES[1] + 1)]


def test_a_run_killed_after_its_first_checkpoint_resumes_bit_identical(tmp_path):
    plate = moving_square_plate(tmp_path, FRAMES[0])
    reference = subprocess.run(command(plate, tmp_path / "ref", tmp_path / "ref_work"), capture_output=True,
                               text=True, timeout=300, env=ENV)
    assert reference.returncode == 0, reference.stderr
    assert "interval 1/2 done" in reference.stderr and "\r" not in reference.stderr  # plain lines off a terminal
    assert reference.stdout.strip() == str(tmp_path / "ref" / "fill.####.exr")

    checkpoint = tmp_path / "work" / "checkpoint.pt"
    killed = subprocess.Popen(command(plate, tmp_path / "out", tmp_path / "work"), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, env=ENV)
    deadline = time.monotonic() + 240
    while not checkpoint.exists() and killed.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait(timeout=60)
    assert killed.returncode == -signal.SIGKILL
    assert load_checkpoint(checkpoint)["finished_intervals"] == 1
    assert not (tmp_path / "out").exists()

    resumed = subprocess.run(command(plate, tmp_path / "out", tmp_path / "work"), capture_output=True, text=True,
                             timeout=300, env=ENV)
    assert resumed.returncode == 0, resumed.stderr
    assert "interval 1/2 done" not in resumed.stderr and "interval 2/2 done" in resumed.stderr
    for ours, theirs in zip(outputs(tmp_path / "out"), outputs(tmp_path / "ref")):
        assert same_bits(ours, theirs).all()


def test_bad_input_is_a_clean_error(tmp_path):
    plate = moving_square_plate(tmp_path, FRAMES[0])
    os.remove(plate.replace("####", "1004"))
    result = subprocess.run(command(plate, tmp_path / "out", tmp_path / "work"), capture_output=True, text=True,
                            timeout=300, env=ENV)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"infusion run: error: frame file is missing: {tmp_path}/plate.1004.exr" in result.stderr
