"""The client commands (submit, jobs, cancel, attach) as a user runs them, against a real engine:
whatever stops one, it ends with one ``error: CODE: message`` line naming the user's files, exit 2."""
from __future__ import annotations

import errno
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import OpenImageIO as oiio
import pytest

from infusion.engine.cli.engine_client import command_error

from service_support import FIRST, LAST, Engine, make_shot

pytestmark = pytest.mark.timeout(180)
ID = "f" * 24


def infusion(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "infusion.engine.cli", *arguments], capture_output=True, text=True,
                          timeout=120, env=dict(os.environ, OMP_NUM_THREADS="1"))


def last_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    return result.stderr.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def shot(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("shot")
    make_shot(folder)
    big = folder / f"big.{FIRST:04d}.exr"  # 3 MB uncompressed: over a 1 MiB frame limit and the 2 MiB transport cap
    spec = oiio.ImageSpec(512, 512, 3, "float")
    spec.attribute("compression", "none")
    output = oiio.ImageOutput.create(str(big))
    assert output.open(str(big), spec) and output.write_image(np.random.default_rng(0).random((512, 512, 3), np.float32))
    output.close()
    torn = (folder / f"plate.{FIRST:04d}.exr").read_bytes()
    for frame in range(FIRST, LAST + 1):
        (folder / f"torn.{frame:04d}.exr").write_bytes(torn[:40])  # the EXR magic, then a header cut short
    return folder


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    with Engine(tmp_path_factory.mktemp("store"), "--max-frame-mb", "1") as running:
        yield running


def submit(engine: Engine, shot: Path, plate: str, *extra: str, frames: str = f"{FIRST}-{LAST}") -> subprocess.CompletedProcess:
    return infusion("submit", "--engine", engine.endpoint, "--plate", str(shot / plate), "--frames", frames,
                    "--preset", "test", "--refine-levels", "0", "--out", str(shot.parent / "out" / "fill.####.exr"), *extra)


def test_a_frame_over_the_engines_limit_is_too_large_at_once(engine: Engine, shot: Path) -> None:
    """It was sent, the engine closed the connection and the client said engine_unavailable after 10 s."""
    started = time.monotonic()
    result = submit(engine, shot, "big.####.exr", "--timeout", "30", frames=f"{FIRST}-{FIRST}")
    assert last_line(result) == (f"infusion submit: error: too_large: plate frame {FIRST} ({shot}/big.{FIRST:04d}.exr) "
                                 f"is {(shot / f'big.{FIRST:04d}.exr').stat().st_size} bytes, over the engine's limit "
                                 f"of {1 << 20} bytes a frame (its --max-frame-mb)")
    assert time.monotonic() - started < 10


def test_a_missing_frame_and_a_torn_one_are_named(engine: Engine, shot: Path) -> None:
    missing = submit(engine, shot, "nothing.####.exr")
    assert last_line(missing) == f"infusion submit: error: not_found: {shot}/nothing.{FIRST:04d}.exr: No such file or directory"
    torn = last_line(submit(engine, shot, "torn.####.exr", "--matte", str(shot / "matte.####.exr")))
    assert torn.startswith(f"infusion submit: error: bad_input: plate frame {FIRST} (torn.{FIRST:04d}.exr) is not a "
                           f"usable EXR file: "), torn
    assert "jobs" not in torn and str(engine.store) not in torn


def test_a_failed_job_names_the_users_file_not_the_stores_copy(engine: Engine, shot: Path) -> None:
    result = submit(engine, shot, "plate.####.exr", "--matte-channel", "Q")
    assert result.returncode == 1, result.stderr
    assert f"failed: bad_input: plate.{FIRST:04d}.exr has no channel 'Q' (its channels: R, G, B)" in result.stderr
    assert str(engine.store) not in result.stderr


def test_engine_errors_and_no_engine_are_one_line(engine: Engine) -> None:
    assert last_line(infusion("cancel", ID, "--engine", engine.endpoint)) == (
        f"infusion cancel: error: not_found: no job {ID} in this engine's store")
    assert last_line(infusion("attach", "not-a-job", "--engine", engine.endpoint)).startswith(
        "infusion attach: error: bad_field: field 'job' is malformed")
    assert last_line(infusion("jobs", "--engine", "tcp://127.0.0.1:9", "--timeout", "0.5")) == (
        "infusion jobs: error: engine_unavailable: no answer from the engine at tcp://127.0.0.1:9 within 0.5 s")
    assert last_line(infusion("jobs", "--engine", engine.endpoint, "--limit", "0")) == (
        "infusion jobs: error: bad_input: --limit must be at least 1, got 0")


def test_a_full_disk_and_a_bug_are_said_by_their_code() -> None:
    full = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "/shots/fill.1001.exr")
    assert str(command_error(full)) == "store_full: /shots/fill.1001.exr: No space left on device"
    assert str(command_error(KeyError("x"))) == "internal: internal error: KeyError: 'x'"
