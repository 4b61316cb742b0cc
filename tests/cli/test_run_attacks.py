"""Issue 16: ``infusion run`` under attack, each break on a real ``infusion run`` process."""
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import List

import numpy as np

from plate_helpers import moving_square_plate, write_sequence

FRAMES = (1001, 1004)
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def command(*arguments: str) -> List[str]:
    """``infusion run`` of the test preset, 2 training steps, on the CPU, with ``arguments``."""
    return [sys.executable, "-m", "infusion.engine.cli", "run", "--frames", "%d-%d" % FRAMES,
            "--preset", "test", "--train-steps", "2", "--device", "cpu", *arguments]


def run(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(command(*arguments), capture_output=True, text=True, timeout=300, env=ENV)


def test_an_output_that_is_an_input_frame_is_refused(tmp_path: Path) -> None:
    plate = moving_square_plate(tmp_path, FRAMES[0])
    before = Path(plate.replace("####", "1001")).read_bytes()
    same = run("--plate", plate, "--out", plate.replace("####", "%04d"))
    assert same.returncode == 2 and "Traceback" not in same.stderr
    assert (f"the output frame {tmp_path}/plate.1001.exr would overwrite the plate frame 1001 "
            f"{tmp_path}/plate.1001.exr") in same.stderr
    os.symlink(tmp_path, tmp_path / "link")  # the plate by another name
    linked = run("--plate", plate, "--out", str(tmp_path / "link" / "plate.####.exr"))
    assert linked.returncode == 2 and f"{tmp_path}/link/plate.1001.exr would overwrite the plate frame 1001" in linked.stderr
    for frame in range(FRAMES[0], FRAMES[1] + 1):  # a matte sequence named as the mean of out=fill.####.exr
        os.link(plate.replace("####", str(frame)), tmp_path / f"fill_mean.{frame}.exr")
    mean = run("--plate", plate, "--matte", str(tmp_path / "fill_mean.####.exr"), "--variants", "2",
               "--out", str(tmp_path / "fill.####.exr"))
    assert mean.returncode == 2 and (f"{tmp_path}/fill_mean.1001.exr would overwrite the matte frame 1001"
                                     in mean.stderr), mean.stderr
    assert Path(plate.replace("####", "1001")).read_bytes() == before


def test_temporaries_of_a_killed_run_are_removed_and_new_ones_are_never_named_like_frames(tmp_path: Path) -> None:
    """A SIGKILL mid-write left ``.fill.1003.exr.xxxx.exr`` beside the frames (a reader of
    ``*.exr`` took it for a frame) and ``.checkpoint.pt.*.tmp`` in the work dir."""
    plate = moving_square_plate(tmp_path, FRAMES[0])
    out, work = tmp_path / "out", tmp_path / "work"
    out.mkdir()
    work.mkdir()
    left = [out / ".fill.1003.exr.k2j3h4g5.exr", out / ".fill.1001.exr.abcdefgh.tmp", work / ".checkpoint.pt.a1b2c3d4.tmp"]
    for path in left:
        path.write_bytes(b"half a frame")
    (out / ".fill.1003.exr.notes").write_bytes(b"a user's own")
    done = run("--plate", plate, "--out", str(out / "fill.####.exr"), "--work-dir", str(work))
    assert done.returncode == 0, done.stderr
    assert not [path for path in left if path.exists()]
    assert sorted(p.name for p in out.iterdir()) == [".fill.1003.exr.notes"] + [
        f"fill.{frame}.exr" for frame in range(FRAMES[0], FRAMES[1] + 1)]
    assert not [p for p in work.rglob(".*") if p.is_file()]


def test_a_matte_of_another_display_window_is_refused_naming_both(tmp_path: Path) -> None:
    """A half-size matte was applied, silently, at the plate's top-left quarter."""
    plate = moving_square_plate(tmp_path, FRAMES[0])
    half = np.ones((6, 12, 16, 1), np.float32)
    matte = write_sequence(str(tmp_path / "half.####.exr"), FRAMES[0], half, ["A"])
    refused = run("--plate", plate, "--matte", matte, "--out", str(tmp_path / "fill.####.exr"))
    assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused.stderr
    assert (f"the matte frame {tmp_path}/half.1001.exr has the display window 16x12 at (0, 0) and the plate frame "
            f"{tmp_path}/plate.1001.exr 32x24 at (0, 0): reformat the matte to the plate") in refused.stderr
    assert not list(tmp_path.glob("fill.*"))


def test_a_one_channel_matte_is_used_whatever_its_channel_is_named_and_outputs_follow_the_umask(tmp_path: Path) -> None:
    """A matte written with channel Y was refused (no channel A); outputs were 0600 whatever the umask."""
    plate = moving_square_plate(tmp_path, FRAMES[0])
    square = np.zeros((6, 24, 32, 1), np.float32)
    square[:, 8:16, 10:18] = 1.0
    matte = write_sequence(str(tmp_path / "roto.####.exr"), FRAMES[0], square, ["Y"])
    done = subprocess.run(command("--plate", plate, "--matte", matte, "--out", str(tmp_path / "fill.####.exr")),
                          capture_output=True, text=True, timeout=300, env=ENV, preexec_fn=lambda: os.umask(0o027))
    assert done.returncode == 0, done.stderr
    for frame in range(FRAMES[0], FRAMES[1] + 1):
        assert stat.S_IMODE((tmp_path / f"fill.{frame}.exr").stat().st_mode) == 0o640
