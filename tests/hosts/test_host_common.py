"""host_plugins/common against a real engine on 127.0.0.1: submit, follow into the cache,
previews, cancel, stop and re-attach, errors, and Send to farm through the real CLI."""
from __future__ import annotations

import ast
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import List

import numpy as np
import pytest

from infusion.host_plugins.common import (
    Connection, FarmError, FarmPaths, Follower, ResultCache, ShotSpec, Update, cancel, cancel_in_background, farm_argv, infusion_command,
    offered_presets, reattach, send_to_farm, shown_variant)
from infusion.protocol.files import frame_path
from infusion.protocol.shot import PRESETS

from service_support import FIRST, LAST, Engine, make_shot, read_exr

pytestmark = pytest.mark.timeout(120)
FRAMES = (FIRST, LAST)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("host_common")
    make_shot(root / "shot")
    return root


@pytest.fixture(scope="module")
def engine(workspace: Path):
    with Engine(workspace / "store") as running:
        yield running


def connection(engine: Engine) -> Connection:
    return Connection(engine.endpoint, timeout=10, heartbeat=0.5, reconnect_timeout=20)


def spec(workspace: Path, **fields) -> ShotSpec:
    shot = workspace / "shot"
    return ShotSpec(str(shot / "plate.####.exr"), FRAMES, matte=str(shot / "matte.####.exr"), **{"preset": "test", **fields})


def run(follower: Follower) -> Update:
    follower.start()
    follower.join(60)
    assert not follower.is_alive() and follower.result is not None
    return follower.result


def test_follower_submits_follows_and_fills_the_cache(engine: Engine, workspace: Path) -> None:
    updates: List[Update] = []
    root = str(workspace / "cache")
    # A job that outlasts the engine's silence limit (three of its 0.5 s heartbeats): the follower,
    # at the default 2 s heartbeat, must stay attached and see every interval's progress.
    result = run(Follower(connection(engine), root, updates.append,
                          spec=spec(workspace, variants=2, dilation=1, train_steps=200)))
    assert result.state == "done" and result.progress == 1.0 and result.variants == 2 and result.frames_done == 4
    states = [u.state for u in updates]
    assert states[0] == "submitting" and "running" in states and states[-1] == "done"
    assert any(u.message.startswith("interval 2/2: sample") for u in updates)
    cache = ResultCache(root, result.job)
    assert cache.complete() and cache.state()["seq"] > 0
    for frame in range(FIRST, LAST + 1):
        plate = read_exr(workspace / "shot" / f"plate.{frame:04d}.exr")
        outside = read_exr(workspace / "shot" / f"matte.{frame:04d}.exr")[..., 0] == 0
        outside[7:15, 7:15] = False  # the square (8..13) dilated by one pixel
        for variant in (1, 2, 0):
            filled = read_exr(Path(frame_path(cache.output_pattern(variant, 2), frame)))
            assert filled.shape == plate.shape and np.array_equal(filled[outside], plate[outside])
            assert not np.array_equal(filled, plate)
        assert os.path.isfile(frame_path(cache.preview_pattern(1), frame))  # every frame of the last preview
    assert result.preview == cache.preview_pattern(1) == cache.latest_preview()

    # Re-attach: the whole result is in the cache, so no engine is asked (this address has none).
    shown: List[Update] = []
    assert reattach(Connection("tcp://127.0.0.1:9", timeout=0.5), root, result.job, shown.append) is None
    assert [(u.state, u.variants, u.frames, u.frames_done) for u in shown] == [("done", 2, FRAMES, 4)]

    # A frame lost from the cache: re-attaching fetches the job's frames again.
    lost = frame_path(cache.output_pattern(0, 2), LAST)
    os.unlink(lost)
    again = reattach(connection(engine), root, result.job, shown.append)
    assert again is not None
    again.join(30)
    assert again.result.state == "done" and os.path.isfile(lost) and cache.complete()


def test_cancel_from_the_ui_and_from_a_progress_dialog(engine: Engine, workspace: Path) -> None:
    root = str(workspace / "cache")
    started = threading.Event()

    def on_update(update: Update) -> None:
        if update.state == "running":
            started.set()

    follower = Follower(connection(engine), root, on_update, spec=spec(workspace, seed=7, train_steps=2000))
    follower.start()
    assert started.wait(30)
    assert cancel(connection(engine), follower.job)["state"] == "cancelled"
    follower.join(30)
    assert follower.result.state == "cancelled" and ResultCache(root, follower.job).state()["state"] == "cancelled"
    answers: List[Update] = []  # from a UI thread: the engine's answer arrives on a thread of its own
    cancel_in_background(connection(engine), follower.job, answers.append).join(30)
    assert [(u.job, u.state, u.message) for u in answers] == [(follower.job, "cancelled", "cancelled")]

    dialog = Follower(connection(engine), root, lambda update: None, spec=spec(workspace, seed=8, train_steps=2000),
                      cancel_requested=lambda: True)
    assert run(dialog).state == "cancelled" and dialog.job != follower.job


def test_cancel_in_background_never_waits_on_the_engine() -> None:
    answers: List[Update] = []
    started = time.monotonic()
    thread = cancel_in_background(Connection("tcp://127.0.0.1:9", timeout=0.5), "ab" * 6, answers.append)
    assert time.monotonic() - started < 0.5 and thread.daemon and not answers
    thread.join(10)
    assert not thread.is_alive() and [(u.job, u.state) for u in answers] == [("ab" * 6, "error")]
    assert answers[0].error.startswith("engine_unavailable") and answers[0].message == f"error: {answers[0].error}"


def test_stop_leaves_the_job_running_and_reattach_finishes_it(engine: Engine, workspace: Path) -> None:
    root = str(workspace / "cache")
    follower = Follower(connection(engine), root, lambda update: None, spec=spec(workspace, seed=9, train_steps=30))
    follower.stop()  # stops after the first event
    assert run(follower).state == "detached"
    updates: List[Update] = []
    again = reattach(connection(engine), root, follower.job, updates.append)
    again.join(60)
    assert again.result.state == "done" and ResultCache(root, follower.job).complete()
    assert updates[-1].frames_done == 4


def test_engine_errors_reach_the_update(engine: Engine, workspace: Path) -> None:
    bad = run(Follower(connection(engine), str(workspace / "cache"), lambda update: None, spec=spec(workspace, preset="nope")))
    assert bad.state == "error" and bad.error.startswith("bad_field") and "nope" in bad.error
    away = run(Follower(Connection("tcp://127.0.0.1:9", timeout=0.3), str(workspace / "cache"), lambda u: None, job="ab" * 6))
    assert away.state == "error" and away.error.startswith("engine_unavailable")
    with pytest.raises(ValueError):
        Follower(connection(engine), "cache", lambda update: None)


def test_shot_fields_and_messages(tmp_path: Path) -> None:
    shot = ShotSpec("p.####.exr", (1, 9), threshold=0.2, dilation=3, colorspace="ACEScg", intervals=4, sample_steps=5)
    assert shot.settings() == {"seed": 0, "variants": 1, "intervals": 4, "sample_steps": 5}
    assert shot.options() == {"threshold": 0.2, "dilation": 3, "colorspace": "ACEScg"}
    assert offered_presets({"presets": {"test": {}, "standard": {}}}) == ("standard", "test")  # the default first
    assert offered_presets({}) == PRESETS
    argv = farm_argv(shot, FarmPaths.under("/farm", "sh"), ["infusion"])  # the farm carries every choice
    assert " ".join(argv).endswith("--seed 0 --variants 1 --intervals 4 --sample-steps 5 --threshold 0.2 --dilation 3 "
                                   "--colorspace ACEScg")
    cache = ResultCache("/c", "job1")
    assert cache.output_pattern() == "/c/job1/fill.####.exr" and cache.output_pattern(0, 3) == "/c/job1/fill_mean.####.exr"
    assert not cache.complete() and cache.latest_preview() is None
    assert [shown_variant(wanted, 1) for wanted in (0, 1, 5)] == [1, 1, 1]
    assert [shown_variant(wanted, 3) for wanted in (-1, 0, 2, 5)] == [0, 0, 2, 3]
    assert cache.finished_pattern(0) is None  # nothing in the cache yet
    done = ResultCache(str(tmp_path / "cache"), "job2")
    for variant in (0, 1, 2):
        done.write_frame(1, variant, 2, b"")
    done.record(state="done", frames=[1, 1], variants=2)
    assert done.finished_pattern(5) == (done.output_pattern(2, 2), (1, 1))
    assert Connection.from_environment(environ={"INFUSION_ENGINE": "tcp://gpu:1"}).address == "tcp://gpu:1"
    assert infusion_command("", {"INFUSION_COMMAND": "/opt/py -m infusion.engine.cli"}) == ["/opt/py", "-m", "infusion.engine.cli"]
    spaced = tmp_path / "my tools" / "infusion"
    spaced.parent.mkdir()
    spaced.write_text("")
    assert infusion_command(f" {spaced} ", {}) == [str(spaced)] and infusion_command("", {}) == ["infusion"]


def test_send_to_farm_runs_the_real_cli(tmp_path: Path) -> None:
    paths = FarmPaths.under(str(tmp_path / "farm"), "sh010")
    shot = ShotSpec(paths.plate, (1001, 1010), preset="preview", seed=3, variants=2, threshold=0.2, dilation=3,
                    margin=0.5, colorspace="ACEScg")
    command = infusion_command(str(Path(sys.executable).with_name("infusion")))
    bundle = send_to_farm(farm_argv(shot, paths, command, device="cuda:1", worker_command="/opt/infusion/bin/infusion"))
    assert bundle == paths.bundle and os.path.isfile(os.path.join(bundle, "template.json"))
    values = json.loads(Path(bundle, "openjd_parameters.json").read_text())
    assert (values["PlateName"], values["FrameStart"], values["FrameEnd"], values["Variants"], values["Device"]) == \
        ("plate.####.exr", 1001, 1010, 2, "cuda:1")
    assert values["InfusionCommand"] == "/opt/infusion/bin/infusion" and values["MatteChannel"] == "A"
    assert (values["Threshold"], values["Dilation"], values["Margin"], values["Colorspace"]) == (0.2, 3, 0.5, "ACEScg")
    with pytest.raises(FarmError, match="invalid choice: 'nope'"):
        send_to_farm(farm_argv(ShotSpec(paths.plate, (1, 9), preset="nope"), paths, command))
    with pytest.raises(FarmError, match="could not run"):
        send_to_farm(["/nonexistent/infusion", "farm"])


def test_host_code_parses_as_python_3_9_and_imports_only_what_hosts_have() -> None:
    """Nuke 14 and Resolve run Python 3.9: standard library, pyzmq, msgpack and the host's API only
    (the Resolve panel imports no host module: Fusion hands it its objects)."""
    repo = Path(__file__).resolve().parents[2]
    allowed = set(sys.stdlib_module_names) | {"zmq", "msgpack", "nuke", "infusion"}
    for path in [*repo.glob("protocol/*.py"), *repo.glob("host_plugins/*.py"), *repo.glob("host_plugins/*/*.py")]:
        tree = ast.parse(path.read_text(), feature_version=(3, 9))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            for name in names:
                assert name.split(".")[0] in allowed, f"{path}: imports {name}"
                assert not name.startswith("infusion.") or name.startswith(("infusion.protocol", "infusion.host_plugins")), \
                    f"{path}: imports {name}"
