"""The Nuke node end to end, in a fake ``nuke`` (tests/fake_nuke) and a real engine on 127.0.0.1:
create it, press Inpaint, follow, see the Read at the finished frames, cancel, re-attach after
reopening the script, errors as messages, Send to farm through the real CLI."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from nuke_support import comp, fake_host, nuke
from service_support import FIRST, LAST, Engine, read_exr, running_engine, shot_on_disk  # noqa: F401 (fixtures)

from infusion.host_plugins.common import Connection, ResultCache
from infusion.host_plugins.nuke import graph, knobs, node as infusion_node

pytestmark = pytest.mark.timeout(120)


def status(node: nuke.Node) -> str:
    return str(node["status"].value())


def result_file(node: nuke.Node) -> str:
    """The finished frames the node's output merges ('' while it passes the Source through)."""
    return graph.shown(node)


def preview_file(node: nuke.Node) -> str:
    preview = nuke.toNode(node.name() + graph.PREVIEW_SUFFIX)
    return "" if preview is None else str(preview["file"].value())


def test_create_inpaint_and_show_the_finished_frames(shot: Path, engine: Engine, tmp_path: Path) -> None:
    node = comp(shot, engine.endpoint, tmp_path / "cache", variants=2, train_steps=200)  # outlasts the engine's silence limit
    assert node.name() == "Infusion1" and node.input(0).name() == "Plate" and node.Class() == "Group"
    assert {"engine", "first", "preset", "seed", "variants", "show_variant", "matte_channel", "threshold", "dilation",
            "margin", "colorspace", "cache", "intervals", "train_steps", "sample_steps", "window_frames", "inpaint",
            "cancel", "reattach", "send_to_farm", "status", "progress", "job"} <= set(node.knobs())
    fake_host.press(node, "inpaint")
    assert nuke._state.executed[-1] == ("Infusion1.RenderInputs", FIRST, LAST)
    assert nuke.toNode("Infusion1.RenderInputs")["disable"].value()  # Render All leaves it alone
    rendered = Path(str(nuke.toNode("Infusion1.RenderInputs")["file"].value()).replace("####", f"{FIRST:04d}"))
    pixels = read_exr(rendered)  # the Source in RGB, the Roto's alpha as alpha, linear float
    assert np.array_equal(pixels[..., :3], read_exr(shot / f"plate.{FIRST:04d}.exr"))
    assert np.array_equal(pixels[..., 3], read_exr(shot / f"matte.{FIRST:04d}.exr")[..., 0])

    shown, previews = [], []
    fake_host.pump(until=lambda: shown.append(result_file(node)) or previews.append(preview_file(node))
                   or status(node).startswith(("done", "failed", "error")))
    assert status(node).startswith("done"), status(node)
    cache = ResultCache(str(tmp_path / "cache"), str(node["job"].value()))
    assert result_file(node) == cache.output_pattern(1, 2)
    assert cache.preview_pattern(0) in previews or cache.preview_pattern(1) in previews  # previews showed beside the node
    assert set(shown) <= {"", cache.output_pattern(1, 2)}  # ... never as the node's output
    read = nuke.toNode("Infusion1.Result")
    assert (read["first"].value(), read["last"].value(), read["raw"].value(), read["on_error"].value()) == (FIRST, LAST, True, "error")
    assert node["progress"].value() == 100.0 and cache.complete()
    filled = read["file"].value().replace("####", f"{LAST:04d}")
    assert not np.array_equal(read_exr(Path(filled))[..., :3], read_exr(shot / f"plate.{LAST:04d}.exr"))
    task = fake_host.tasks()[-1]
    assert task.title == "Infusion: Infusion1" and any(m.startswith("interval 2/2") for m in task.messages)
    assert node["preset"].values() == ["standard", "test", "preview", "paper"]  # the engine's, from its welcome
    assert node["preset"].value() == "test"

    fake_host.user_sets(node, "show_variant", 0)  # the mean of the two variants, at once
    assert result_file(node) == cache.output_pattern(0, 2)


def test_cancel_from_the_button_and_from_the_progress_dialog(shot: Path, engine: Engine, tmp_path: Path) -> None:
    node = comp(shot, engine.endpoint, tmp_path / "cache", train_steps=3000)
    fake_host.press(node, "inpaint")
    fake_host.pump(until=lambda: "train step" in status(node))
    fake_host.press(node, "cancel")
    assert status(node) == "cancelling..."  # at once; the engine's answer and the follower's event follow
    cache = ResultCache(str(tmp_path / "cache"), str(node["job"].value()))
    fake_host.pump(until=lambda: cache.state()["state"] == "cancelled" and status(node) == "cancelled")

    node["seed"].setValue(5)
    fake_host.press(node, "inpaint")
    fake_host.pump(until=lambda: "train step" in status(node))
    fake_host.tasks()[-1].cancelled = True  # the Cancel button of Nuke's progress dialog
    fake_host.pump(until=lambda: status(node) == "cancelled")
    assert not fake_host.messages()


def test_reopening_the_script_reattaches_or_shows_the_cache(shot: Path, engine: Engine, tmp_path: Path) -> None:
    node = comp(shot, engine.endpoint, tmp_path / "cache", train_steps=40, seed=11)
    fake_host.press(node, "inpaint")
    fake_host.pump(until=lambda: "train step" in status(node))
    running = fake_host.save_script()  # saved while the job runs; Nuke is closed
    fake_host.open_script(running)  # ... and the script opened again: the node follows the job again
    node = nuke.toNode("Infusion1")
    assert node is not None and node["job"].value()
    fake_host.pump(until=lambda: status(node).startswith(("done", "failed", "error")))
    cache = ResultCache(str(tmp_path / "cache"), str(node["job"].value()))
    assert status(node).startswith("done") and result_file(node) == cache.output_pattern()

    node["engine"].setValue("tcp://127.0.0.1:9")  # no engine there: the finished job comes from the cache
    fake_host.open_script(fake_host.save_script())
    node = nuke.toNode("Infusion1")
    fake_host.pump(until=lambda: status(node) == "done (cached)")
    assert result_file(node) == cache.output_pattern() and not fake_host.messages()


def test_errors_appear_as_messages(shot: Path, engine: Engine, tmp_path: Path) -> None:
    node = comp(shot, engine.endpoint, tmp_path / "cache", intervals=7)  # 7 does not divide 1000 diffusion steps
    fake_host.messages().clear()
    fake_host.press(node, "inpaint")
    fake_host.pump(until=fake_host.messages)
    assert fake_host.messages()[0].startswith("Infusion (Infusion1): bad_field") and "intervals" in fake_host.messages()[0]
    assert status(node).startswith("error: bad_field")

    node["intervals"].setValue(0)
    node["engine"].setValue("tcp://127.0.0.1:9")
    node["job"].setValue("")
    fake_host.messages().clear()
    fake_host.press(node, "cancel")
    assert fake_host.messages() == ["Infusion (Infusion1): no job to cancel"]
    node.setInput(0, None)
    fake_host.press(node, "inpaint")
    assert fake_host.messages()[-1] == "Infusion (Infusion1): could not render the inputs: connect a Source input"
    fake_host.messages().clear()


def test_cancel_never_waits_on_the_engine(shot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(knobs, "connection", lambda node: Connection(str(node["engine"].value()), timeout=0.5))
    node = comp(shot, "tcp://127.0.0.1:9", tmp_path / "cache")  # no engine answers there
    node["job"].setValue("ab" * 6)
    fake_host.messages().clear()
    started = time.monotonic()
    fake_host.press(node, "cancel")
    assert time.monotonic() - started < 0.5 and status(node) == "cancelling..." and not fake_host.messages()
    fake_host.pump(until=fake_host.messages, timeout=10)  # the error, on the main thread
    assert fake_host.messages() == [f"Infusion (Infusion1): {status(node)[len('error: '):]}"]
    assert status(node).startswith("error: engine_unavailable")

    fake_host.messages().clear()  # an answer for a job the node no longer shows is left out
    fake_host.press(node, "cancel")
    node["job"].setValue("")  # as Inpaint does
    later = time.monotonic() + 2.0
    fake_host.pump(until=lambda: time.monotonic() > later)
    assert not fake_host.messages() and status(node) == "cancelling..."


def test_send_to_farm_renders_and_writes_a_bundle(shot: Path, tmp_path: Path) -> None:
    command = str(Path(sys.executable).with_name("infusion"))
    node = comp(shot, "tcp://127.0.0.1:9", tmp_path / "cache", farm_folder=str(tmp_path / "farm"), infusion_command=command,
                input_range=False, first=FIRST + 1, last=LAST, matte_channel="rgba.red", variants=2)
    node.setInput(1, None)  # no Matte: the matte channel comes from the Source
    fake_host.press(node, "send_to_farm")
    bundle = tmp_path / "farm" / "Root_Infusion1" / "bundle"
    assert fake_host.messages()[-1].startswith(f"Infusion: job bundle written to {bundle}")
    values = json.loads((bundle / "openjd_parameters.json").read_text())
    assert (values["FrameStart"], values["FrameEnd"], values["Variants"], values["Preset"]) == (FIRST + 1, LAST, 2, "test")
    assert values["PlateDir"] == str(tmp_path / "farm" / "Root_Infusion1" / "plate") and values["MatteChannel"] == "A"
    rendered = read_exr(tmp_path / "farm" / "Root_Infusion1" / "plate" / f"plate.{LAST:04d}.exr")
    assert np.array_equal(rendered[..., 3], rendered[..., 0])  # the Source's red as the matte
    assert not (tmp_path / "farm" / "Root_Infusion1" / "plate" / f"plate.{FIRST:04d}.exr").exists()

    node["infusion_command"].setValue(str(tmp_path / "missing" / "infusion"))
    fake_host.press(node, "send_to_farm")
    assert fake_host.messages()[-1].startswith("Infusion (Infusion1): send to farm: could not run")
    fake_host.messages().clear()


def test_reattach_without_a_job_says_so(shot: Path, tmp_path: Path) -> None:
    node = comp(shot, "tcp://127.0.0.1:9", tmp_path / "cache")
    infusion_node.reattach(node)
    assert fake_host.messages().pop() == "Infusion (Infusion1): no job to re-attach to (press Inpaint)"


def test_knobs_become_the_shot(shot: Path, tmp_path: Path) -> None:
    node = comp(shot, "tcp://127.0.0.1:9", tmp_path / "cache", seed=4, variants=3, dilation=2, intervals=4, window_frames=8)
    spec = knobs.shot_spec(node, "/in/plate.####.exr", (FIRST, LAST))
    assert (spec.plate, spec.frames, spec.matte, spec.matte_channel, spec.preset) == ("/in/plate.####.exr", (FIRST, LAST), None, "A", "test")
    assert spec.settings() == {"seed": 4, "variants": 3, "intervals": 4, "window_frames": 8}
    assert spec.options() == {"dilation": 2}  # threshold and margin left at the engine's defaults: not sent
    nuke.root()["colorManagement"].setValue("OCIO")
    nuke.root()["workingSpaceLUT"].setValue("ACEScg")
    assert knobs.shot_spec(node, "p.####.exr", (1, 1)).colorspace == "ACEScg"  # Nuke's working space
    knobs.offer_colorspaces(node)  # the script's config, as when a script opens
    node["colorspace"].setValue("Linear Rec.709 (sRGB)")
    assert knobs.shot_spec(node, "p.####.exr", (1, 1)).colorspace == "Linear Rec.709 (sRGB)"
