"""`infusion run` in a subprocess: plain progress lines, and a SIGKILL after the first checkpoint resumes."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from infusion.engine.storage.checkpoint_file import load_checkpoint
import numpy as np

from plate_helpers import moving_square_plate, raw_pixels, same_bits, write_sequence

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


def test_frames_whose_matte_is_empty_pass_through_and_a_one_pixel_matte_fills(tmp_path):
    """An object that enters mid-range (matte empty on the first frames) and a matte of one pixel."""
    rng = np.random.default_rng(2)
    plate = rng.random((6, 24, 32, 4), dtype=np.float32)
    plate[..., 3] = 0.0
    for index in range(2, 6):
        plate[index, 8:16, 6 + 2 * index:14 + 2 * index, 3] = 1.0
    cases = {"enters": plate, "one_pixel": plate.copy()}
    cases["one_pixel"][..., 3] = 0.0
    cases["one_pixel"][3, 10, 12, 3] = 1.0
    for name, frames in cases.items():
        pattern = write_sequence(str(tmp_path / name / "plate.####.exr"), FRAMES[0], frames, "RGBA")
        done = subprocess.run(command(pattern, tmp_path / name / "out", tmp_path / name / "work"), capture_output=True,
                              text=True, timeout=300, env=ENV)
        assert done.returncode == 0, (name, done.stderr)
        for index, frame in enumerate(range(FRAMES[0], FRAMES[1] + 1)):
            source = raw_pixels(str(tmp_path / name / f"plate.{frame}.exr"))
            written = raw_pixels(str(tmp_path / name / "out" / f"fill.{frame}.exr"))
            matte = frames[index, ..., 3] > 0.01
            assert same_bits(written, source)[~matte].all(), (name, frame)  # untouched outside, every frame
            if matte.any():
                assert not same_bits(written, source)[matte][:, :3].all(), (name, frame)  # filled inside
