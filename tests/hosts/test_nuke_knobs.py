"""Item by item, the Infusion node's knobs in a fake ``nuke`` (no engine unless named): the
colourspace menu filled from the script's OCIO config, a Source sent by reference when it is an EXR
Read of scene-linear frames (nothing re-rendered; once through a real engine), and the status in the node's label instead of
a dialog per node when a script opens and the engine is down."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nuke_support import comp, fake_host, finished_job, nuke
from service_support import FIRST, LAST, Engine, read_exr, shot_on_disk  # noqa: F401 (fixture)

from infusion.host_plugins.common import ResultCache
from infusion.host_plugins.nuke import graph, knobs, node as infusion_node


def test_the_colourspace_menu_is_the_scripts_ocio_config(shot: Path, tmp_path: Path) -> None:
    node = comp(shot, "tcp://127.0.0.1:9", tmp_path / "cache")
    assert node["colorspace"].values() == [knobs.WORKING_SPACE]  # Nuke's own colour management: no config
    assert knobs.shot_spec(node, "p.####.exr", (1, 1)).colorspace is None  # the engine's scene_linear
    nuke.root()["colorManagement"].setValue("OCIO")
    nuke.root()["workingSpaceLUT"].setValue("ACEScg")
    fake_host.open_script(fake_host.save_script())  # the menu is filled again when a script opens
    node = nuke.toNode("Infusion1")
    assert node["colorspace"].values() == [knobs.WORKING_SPACE, "linear", "ACEScg", "Linear Rec.709 (sRGB)", "sRGB - Texture", "Raw"]
    assert knobs.shot_spec(node, "p.####.exr", (1, 1)).colorspace == "ACEScg"  # the working space, by name
    node["colorspace"].setValue("sRGB - Texture")
    assert knobs.shot_spec(node, "p.####.exr", (1, 1)).colorspace == "sRGB - Texture"
    with pytest.raises(ValueError):
        node["colorspace"].setValue("not in the config")
    nuke.root()["colorManagement"].setValue("Nuke")
    knobs.offer_colorspaces(node)  # the config changed: the choice made stays listed
    assert node["colorspace"].values() == [knobs.WORKING_SPACE, "sRGB - Texture"] and node["colorspace"].value() == "sRGB - Texture"


def test_an_exr_read_source_goes_by_reference_without_a_render(shot: Path, tmp_path: Path) -> None:
    node = comp(shot, "tcp://127.0.0.1:9", tmp_path / "cache", by_reference=True)
    executed = len(nuke._state.executed)
    spec = infusion_node._shot(node, str(tmp_path / "inputs"))
    assert (spec.plate, spec.matte, spec.matte_channel, spec.by_reference, spec.frames) == (
        str(shot / "plate.####.exr"), str(shot / "matte.####.exr"), "A", True, (FIRST, LAST))
    assert len(nuke._state.executed) == executed and not (tmp_path / "inputs").exists()  # nothing rendered

    node.setInput(1, nuke.nodes.Copy(name="RotoCopy", from0="rgba.alpha", to0="rgba.alpha"))  # a matte that is no Read
    nuke.toNode("RotoCopy").setInput(0, nuke.toNode("Roto"))
    nuke.toNode("RotoCopy").setInput(1, nuke.toNode("Roto"))
    spec = infusion_node._shot(node, str(tmp_path / "inputs"))
    assert (spec.plate, spec.matte, spec.by_reference) == (str(shot / "plate.####.exr"), str(tmp_path / "inputs" / "matte.####.exr"), True)
    matte = read_exr(tmp_path / "inputs" / f"matte.{LAST:04d}.exr")  # the matte alone is rendered
    assert matte.shape[-1] == 1 and matte.max() == 1.0

    nuke.toNode("Plate")["colorspace"].setValue("sRGB")  # frames the Read converts: rendered, not referenced
    spec = infusion_node._shot(node, str(tmp_path / "inputs"))
    assert (spec.plate, spec.matte, spec.by_reference) == (str(tmp_path / "inputs" / "plate.####.exr"), None, False)
    nuke.toNode("Plate")["colorspace"].setValue("default (linear)")
    nuke.toNode("Plate")["frame"].setValue("10")  # a frame offset: frame N is another file than N's
    assert knobs.exr_read(nuke.toNode("Plate"), (FIRST, LAST)) is None
    nuke.toNode("Plate")["frame"].setValue("")
    node["by_reference"].setValue(False)
    assert not infusion_node._shot(node, str(tmp_path / "inputs")).by_reference


def test_a_down_engine_on_script_load_shows_on_the_label_without_dialogs(shot: Path, tmp_path: Path) -> None:
    first = comp(shot, "tcp://127.0.0.1:9", tmp_path / "cache", job="ab" * 6)  # no engine there, nothing cached
    second = nuke.menu("Nodes").findItem("Infusion").findItem("Infusion")()
    for name, value in {"engine": "tcp://127.0.0.1:9", "cache": str(tmp_path / "cache"), "job": "cd" * 6}.items():
        second[name].setValue(value)
    assert first["label"].value() == knobs.LABEL == "[value status]"  # Nuke draws the status knob on the node
    fake_host.messages().clear()
    fake_host.open_script(fake_host.save_script())
    nodes = [nuke.toNode("Infusion1"), nuke.toNode("Infusion2")]
    fake_host.pump(until=lambda: all(str(n["status"].value()).startswith("error") for n in nodes), timeout=60)
    assert all("engine_unavailable" in str(n["status"].value()) and n["label"].value() == knobs.LABEL for n in nodes)
    assert fake_host.messages() == []  # no dialog per node


def test_a_node_from_an_older_release_says_so_on_script_load(shot: Path, tmp_path: Path) -> None:
    node = comp(shot, "tcp://127.0.0.1:9", tmp_path / "cache")
    cache = finished_job(tmp_path / "cache", "ef" * 6, lambda frame: np.zeros((24, 24, 4), np.float32))
    node["job"].setValue(cache.job)
    nuke.toNode("Infusion1.Output").setInput(0, nuke.toNode("Infusion1.Result"))  # its graph had no Merge
    node._children = [child for child in node._children if child.name() != "Merge"]
    fake_host.open_script(fake_host.save_script())
    assert "lost its internal node Merge; create the Infusion node again" in str(nuke.toNode("Infusion1")["status"].value())
    assert fake_host.messages() == []


@pytest.mark.timeout(120)
def test_by_reference_runs_on_an_engine_that_sees_the_shot(shot: Path, tmp_path: Path) -> None:
    with Engine(tmp_path / "store", "--allow-root", str(shot)) as engine:
        node = comp(shot, engine.endpoint, tmp_path / "cache", by_reference=True, train_steps=40)
        executed = len(nuke._state.executed)
        fake_host.press(node, "inpaint")
        fake_host.pump(until=lambda: str(node["status"].value()).startswith(("done", "failed", "error")))
        assert str(node["status"].value()).startswith("done"), node["status"].value()
        assert len(nuke._state.executed) == executed  # the engine read the plate and the matte where they lie
        cache = ResultCache(str(tmp_path / "cache"), str(node["job"].value()))
        assert graph.shown(node) == cache.output_pattern() and cache.complete()
