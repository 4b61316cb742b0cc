"""The Resolve/Fusion panel end to end, in a fake Fusion (tests/fake_fusion) and a real engine on
127.0.0.1: open it, Inpaint (Savers render the inputs quietly while the timer shows the frames, the
job is followed on a thread, once it is done a Loader of the result lands beside the source and a
Merge of it over the source feeds the MediaOut, in one undo block), Cancel, Re-attach after the comp
is reopened, Send to farm through the real CLI, errors on the status line."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from fake_fusion import Host
from fake_fusion.comp import read_channels
from resolve_support import PLATE_POSITION, open_panel, shot_comp
from service_support import FIRST, LAST, Engine, read_exr, running_engine, shot_on_disk  # noqa: F401 (fixtures)

from infusion.host_plugins.common import Connection, ResultCache
from infusion.host_plugins.resolve import fields, render, result
from infusion.protocol.files import frame_path

pytestmark = pytest.mark.timeout(180)
DEAD_ENGINE = "tcp://127.0.0.1:9"


def finished(host: Host) -> bool:
    return host.status().startswith(("done", "failed", "error", "cancelled"))


def rendered(host: Host) -> bool:
    return not host.status().startswith("rendering")


def test_inpaint_renders_follows_and_loads_the_result_beside_the_source(shot: Path, engine: Engine, tmp_path: Path) -> None:
    comp = shot_comp(shot, tmp_path / "deliver")
    host, _ = open_panel(comp, engine.endpoint, tmp_path / "cache", Variants=2)
    items = host.items
    assert (items["Source"].CurrentText, items["First"].Value, items["Last"].Value) == ("Plate", FIRST, LAST)
    assert items["Matte"].entries() == [fields.SOURCE_ALPHA, "Deliver", "Plate", "Roto"]
    media_out = comp.add("MediaOut", position=(9.0, 2.0), name="MediaOut1")  # as on Resolve's Fusion page
    media_out._sources["Input"] = comp.tool("Plate")
    host.click("Inpaint")

    # the render runs in the background, quiet; the timer shows its frames
    assert comp.renders == [{"Start": FIRST, "End": LAST, "Wait": False, "RenderFlags": render.REQF_QUIET}]
    assert host.status() == f"rendering source and matte 0/{LAST - FIRST + 1}"
    assert comp.tool("Deliver")._attrs["TOOLB_PassThrough"] and comp.locks == 0
    host.tick()
    assert host.status() == f"rendering source and matte 1/{LAST - FIRST + 1}"
    host.pump(lambda: rendered(host))
    assert [t._attrs["TOOLS_Name"] for t in comp._tools] == ["Plate", "Roto", "Deliver", "MediaOut1"]  # the Savers are gone
    assert not (tmp_path / "deliver").exists() and not comp.tool("Deliver")._attrs["TOOLB_PassThrough"]
    assert comp.dialogs == []  # no Render Completed dialog
    inputs = next((tmp_path / "cache" / "inputs").iterdir())
    plate = read_channels(str(inputs / f"plate.{FIRST}.exr"))  # the source as float RGBA, the comp's values
    assert np.array_equal(np.stack([plate[c] for c in "RGB"], -1), read_exr(shot / f"plate.{FIRST}.exr"))
    assert np.array_equal(read_channels(str(inputs / f"matte.{LAST}.exr"))["A"], read_exr(shot / f"matte.{LAST}.exr")[..., 0])
    assert [(name, keep) for name, keep, _ in comp.undo] == [(render.UNDO_NAME, False)] * 2  # set up, taken down: no step
    assert comp.unrecorded == [] and comp.locks == 0

    host.pump(lambda: host.text("Job"))
    assert host.loader() is None  # frames landing do not touch the comp: the Loader comes when the job is done
    host.pump(lambda: finished(host))
    assert host.status().startswith("done"), host.status()
    assert items["Preset"].entries() == ["standard", "test", "preview", "paper"]  # the engine's, from its welcome
    assert items["Preset"].CurrentText == "test"
    job = host.text("Job")
    assert job and comp._data["Infusion"]["Job"] == job
    assert host.text("Progress").endswith("100%")
    cache = ResultCache(str(tmp_path / "cache"), job)
    loader = host.loader()
    assert loader is not None and loader._inputs["Clip"] == str(Path(cache.output_pattern(1, 2).replace("####", f"{FIRST:04d}")))
    assert [loader.clip_frame(t) for t in range(FIRST - 1, LAST + 2)] == [None, FIRST, FIRST + 1, FIRST + 2, LAST, None]
    assert loader._position == (PLATE_POSITION[0], PLATE_POSITION[1] + 1)  # one row below the source
    filled = loader.image(LAST)
    assert not np.array_equal(np.stack([filled[c] for c in "RGB"], -1), read_exr(shot / f"plate.{LAST:04d}.exr"))
    merge = comp.tool(comp._data["Infusion"]["ResultMerge"])  # the Loader over the source, into the MediaOut
    assert merge._sources == {"Background": comp.tool("Plate"), "Foreground": loader} and media_out._sources["Input"] is merge
    shown = media_out.image(LAST)
    assert all(np.allclose(shown[c], filled[c]) for c in "RGB")
    result_blocks = [(name, keep, changes) for name, keep, changes in comp.undo if name == "Infusion: result"]
    assert len(result_blocks) == 1 and result_blocks[0][1] and result_blocks[0][2][0] == f"add {loader._attrs['TOOLS_Name']}"
    assert comp.unrecorded == [] and comp.locks == 0  # every change in an undo block, the comp unlocked

    blocks = len(comp.undo)
    for shown, name in ((0, "fill_mean"), (2, "fill_v2")):  # the variant shown changes: the Loader follows at once
        host.type("ShowVariant", shown)
        assert loader._inputs["Clip"] == frame_path(cache.output_pattern(shown, 2), FIRST) and name in loader._inputs["Clip"]
        assert [loader.clip_frame(t) for t in (FIRST, LAST)] == [FIRST, LAST]
    assert [(name, keep) for name, keep, _ in comp.undo[blocks:]] == [("Infusion: result", True)] * 2
    assert comp._data["Infusion"]["ShowVariant"] == 2 and comp.unrecorded == [] and comp.locks == 0
    assert host.loader() is loader


def test_cancel(shot: Path, engine: Engine, tmp_path: Path) -> None:
    host, _ = open_panel(shot_comp(shot, tmp_path / "deliver"), engine.endpoint, tmp_path / "cache")
    host.choose("Preset", "paper")  # 10,000 training steps an interval: long enough to cancel while it trains
    host.click("Inpaint")
    host.pump(lambda: "train step" in host.status())
    host.click("Cancel")
    assert host.status() == "cancelling..."  # at once; then the engine's answer and the follower's
    host.pump(lambda: ResultCache(str(tmp_path / "cache"), host.text("Job")).state().get("state") == "cancelled"
              and host.status() == "cancelled")
    assert host.status() == "cancelled"
    assert host.loader() is None


def test_cancel_never_waits_on_the_engine(shot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fields, "connection", lambda values: Connection(str(values["Engine"]), timeout=0.5))
    host, _ = open_panel(shot_comp(shot, tmp_path / "deliver"), DEAD_ENGINE, tmp_path / "cache", Job="ab" * 6)
    started = time.monotonic()
    host.click("Cancel")
    assert time.monotonic() - started < 0.5 and host.status() == "cancelling..."
    host.pump(lambda: host.status() != "cancelling...", timeout=10)  # the timer shows the error
    assert host.status().startswith("error: engine_unavailable"), host.status()

    host.click("Cancel")  # an answer for a job the panel no longer shows is left out
    host.type("Job", "cd" * 6)
    later = time.monotonic() + 2.0
    host.pump(lambda: time.monotonic() > later)
    assert host.status() == "cancelling..."


def test_reopened_comp_reattaches_to_the_job_and_later_to_the_cache(shot: Path, engine: Engine, tmp_path: Path) -> None:
    comp = shot_comp(shot, tmp_path / "deliver")
    host, _ = open_panel(comp, engine.endpoint, tmp_path / "cache", Seed=7)
    host.click("Inpaint")
    host.pump(lambda: host.text("Job"))
    host.close()  # the panel closes, the comp is saved and closed ... and opened again
    assert host.dispatcher.exited and not any(t.running for t in host.fusion.UIManager.timers)
    again = Host(comp.reopened())
    again.open()
    job = again.text("Job")
    assert job == host.text("Job") and again.items["Seed"].Value == 7 and again.text("Engine") == engine.endpoint
    again.click("Reattach")
    again.pump(lambda: finished(again))
    assert again.status().startswith("done"), again.status()
    loader = again.loader()
    assert loader is not None and ResultCache(str(tmp_path / "cache"), job).complete()

    third = Host(again.comp.reopened())  # no engine now: the finished job comes from the cache
    third.open()
    third.type("Engine", DEAD_ENGINE)
    third.click("Reattach")
    third.pump(lambda: finished(third))
    assert third.status() == "done (cached)"
    assert [t._regid for t in third.comp._tools].count("Loader") == 3  # Plate, Roto, the same result Loader


def test_send_to_farm_renders_and_writes_a_bundle(shot: Path, tmp_path: Path) -> None:
    comp = shot_comp(shot, tmp_path / "deliver")
    command = str(Path(sys.executable).with_name("infusion"))
    host, _ = open_panel(comp, DEAD_ENGINE, tmp_path / "cache", FarmFolder=str(tmp_path / "farm"), InfusionCommand=command,
                         First=FIRST + 1, Variants=2, Dilation=2, Intervals=3, WindowFrames=4)
    host.click("SendToFarm")
    host.pump(lambda: rendered(host))
    root = tmp_path / "farm" / "shot010_comp_Plate"
    assert host.status().startswith(f"job bundle written to {root / 'bundle'}"), host.status()
    values = json.loads((root / "bundle" / "openjd_parameters.json").read_text())
    assert (values["FrameStart"], values["FrameEnd"], values["Variants"], values["Preset"]) == (FIRST + 1, LAST, 2, "test")
    assert (values["Intervals"], values["WindowFrames"], values["TrainSteps"]) == (3, 4, 0)  # the farm carries them (0: the preset's)
    assert (values["PlateDir"], values["MatteDir"], values["MatteChannel"], values["Dilation"]) == \
        (str(root / "plate"), str(root / "matte"), "A", 2)
    assert (root / "matte" / f"matte.{LAST}.exr").is_file() and not (root / "plate" / f"plate.{FIRST}.exr").exists()
    assert comp.renders[0]["Start"] == FIRST + 1 and comp.GetAttrs()["COMPN_RenderStart"] == FIRST  # the range put back

    host.choose("Matte", fields.SOURCE_ALPHA)
    host.type("InfusionCommand", str(tmp_path / "missing" / "infusion"))
    host.click("SendToFarm")
    host.pump(lambda: rendered(host))
    assert host.status().startswith("error: send to farm: could not run")


def test_errors_appear_on_the_status_line(shot: Path, engine: Engine, tmp_path: Path) -> None:
    host, _ = open_panel(shot_comp(shot, tmp_path / "deliver"), engine.endpoint, tmp_path / "cache")
    host.click("Cancel")
    assert host.status() == "error: no job to cancel"
    host.click("Reattach")
    assert host.status().startswith("error: no job to re-attach to")
    host.click("SendToFarm")
    assert host.status().startswith("error: choose a farm folder")
    host.type("Threshold", "a lot")
    host.click("Inpaint")
    assert host.status() == "error: could not render the inputs: threshold 'a lot' is not a number"
    host.type("Threshold", "0.01")
    host.type("Last", FIRST - 1)
    host.click("Inpaint")
    assert host.status().endswith(f"the frame range {FIRST}-{FIRST - 1} ends before it starts")
    host.type("Last", LAST)
    host.comp._tools.remove(host.comp.tool("Plate"))  # the compositor deleted the source
    host.click("Inpaint")
    assert host.status() == "error: could not render the inputs: choose a source tool (no tool named 'Plate')"
    host.click("RefreshTools")
    assert host.items["Source"].entries() == ["Deliver", "Roto"]
    host.type("Colorspace", "no such space")
    host.click("Inpaint")  # the Roto as source, its own alpha as the matte: the engine refuses the colourspace
    host.pump(lambda: finished(host))
    assert host.status().startswith("failed: bad_input") and "no such space" in host.status(), host.status()


def test_fields_become_the_shot(shot: Path, tmp_path: Path) -> None:
    host, _ = open_panel(shot_comp(shot, tmp_path / "deliver"), DEAD_ENGINE, tmp_path / "cache", Seed=4, Variants=3,
                         Dilation=2, Colorspace="ACEScg")
    values = fields.read(host.items)
    spec = fields.shot_spec(values, "/in/plate.####.exr", "/in/matte.####.exr", (FIRST, LAST))
    assert (spec.plate, spec.matte, spec.matte_channel, spec.preset, spec.colorspace) == \
        ("/in/plate.####.exr", "/in/matte.####.exr", "A", "test", "ACEScg")
    assert spec.settings() == {"seed": 4, "variants": 3}
    assert spec.options() == {"dilation": 2, "colorspace": "ACEScg"}  # threshold and margin at the engine's defaults
    for name, value in {"Intervals": 3, "TrainSteps": 40, "SampleSteps": 0, "WindowFrames": 8}.items():
        host.type(name, value)
    spec = fields.shot_spec(fields.read(host.items), "/in/plate.####.exr", None, (FIRST, LAST))
    assert (spec.intervals, spec.train_steps, spec.sample_steps, spec.window_frames) == (3, 40, None, 8)  # 0: the preset's
    assert spec.settings() == {"seed": 4, "variants": 3, "intervals": 3, "train_steps": 40, "window_frames": 8}
    assert fields.kept(host.comp, fields.defaults((0, 9)))["Seed"] == 0  # nothing kept until a button is pressed
    host.click("Cancel")
    assert fields.kept(host.comp, fields.defaults((0, 9)))["Seed"] == 4
