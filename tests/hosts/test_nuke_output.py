"""The Infusion node's output (fake ``nuke``, a finished job in the cache, no engine): the Source
with the engine's composited frames in RGB wherever the engine may have changed pixels (the matte
above the threshold, grown by the dilation: at full strength, the soft edge blended once, by the
engine), over the job's frames only; every other channel, every other frame, the format as the
Source's; ``mix``; the preview beside the node."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nuke_support import comp, fake_host, finished_job, nuke
from service_support import FIRST, LAST, write_exr

from infusion.engine.plates.matte_rule import MatteRule
from infusion.engine.plates.roi import Box
from infusion.host_plugins.common import Update
from infusion.host_plugins.nuke import graph, node as infusion_node, progress

SIZE, FILL = 12, 0.25
RGB = ("rgba.red", "rgba.green", "rgba.blue")


@pytest.fixture(name="shot")
def plate_with_extra_channels(tmp_path: Path) -> Path:
    """plate.####.exr: RGB, A and a Z channel; matte.####.exr: a soft square in A."""
    folder = tmp_path / "shot"
    folder.mkdir()
    rng = np.random.default_rng(1)
    matte = np.zeros((SIZE, SIZE, 1), np.float32)
    matte[3:8, 3:8] = 1.0
    matte[3:8, 8] = 0.5
    for frame in range(FIRST, LAST + 1):
        write_exr(folder / f"plate.{frame:04d}.exr", rng.random((SIZE, SIZE, 5)).astype(np.float32), ["R", "G", "B", "A", "Z"])
        write_exr(folder / f"matte.{frame:04d}.exr", matte, ["A"])
    return folder


def engine_weight(rule: MatteRule, frame: int) -> np.ndarray:
    """The engine's blend weight of the fill over the whole frame (engine/plates/matte_rule.py)."""
    return rule.weights(nuke.toNode("Roto")._image(frame)["rgba.alpha"], (0, 0), Box(0, 0, SIZE, SIZE))


def engine_output(rule: MatteRule, frame: int) -> np.ndarray:
    """What the engine writes for ``frame`` (H, W, 4): the plate with FILL blended in by its weight
    (outside the weight the plate as it is)."""
    plate, weight = nuke.toNode("Plate")._image(frame), engine_weight(rule, frame)
    return np.stack([plate[c] * (1 - weight) + FILL * weight for c in RGB] + [plate["rgba.alpha"]], axis=-1)


def shown_from_the_cache(shot: Path, tmp_path: Path, rule: MatteRule = MatteRule(0.01, 0)) -> nuke.Node:
    """An Infusion node with ``rule``'s threshold and dilation whose job (frames FIRST+1..LAST, the
    engine's output for a fill of FILL) is in the cache."""
    node = comp(shot, "tcp://127.0.0.1:9", tmp_path / "cache", threshold=rule.threshold, dilation=rule.dilation)
    cache = finished_job(tmp_path / "cache", "ab" * 6, lambda frame: engine_output(rule, frame), first=FIRST + 1)
    node["job"].setValue(cache.job)
    infusion_node.reattach(node)
    assert graph.shown(node) == cache.output_pattern()
    return node


def test_the_output_is_the_source_with_the_engines_frames_in_rgb(shot: Path, tmp_path: Path) -> None:
    node = shown_from_the_cache(shot, tmp_path)
    source = nuke.toNode("Plate")
    for frame in (FIRST, LAST):
        out, plate = node._image(frame), source._image(frame)
        assert set(out) == set(plate) == {"rgba.red", "rgba.green", "rgba.blue", "rgba.alpha", "other.Z"}
        assert all(out[c].shape == plate[c].shape for c in out)  # the Source's format, always
        for channel in ("rgba.alpha", "other.Z"):
            assert np.array_equal(out[channel], plate[channel])  # every other channel passed through
        wanted = nuke.toNode("Infusion1.Result")._image(frame)["rgba.red"] if frame != FIRST else plate["rgba.red"]
        assert np.array_equal(out["rgba.red"], wanted)  # FIRST lies outside the job: the Source as it is
    matte = nuke.toNode("Roto")._image(LAST)["rgba.alpha"]
    assert np.array_equal(node._image(LAST)["rgba.green"][matte == 0], source._image(LAST)["rgba.green"][matte == 0])


def test_with_dilation_the_mask_covers_the_ring_at_full_strength(shot: Path, tmp_path: Path) -> None:
    """Dilation 3, threshold 0.01: the mask is 1 wherever the engine's weight is above 0 (the ring
    between the matte and its grown edge included), so the output there is the engine's frame
    exactly (the soft edge blended once); it follows the node's knobs, after a save and open too."""
    rule = MatteRule(0.01, 3)
    node = shown_from_the_cache(shot, tmp_path, rule)
    weight, matte = engine_weight(rule, LAST), nuke.toNode("Roto")._image(LAST)["rgba.alpha"]
    assert ((weight > 0) & (matte == 0)).any() and ((weight > 0) & (weight < 1)).any()  # a ring, a soft edge in it
    mask = nuke.toNode(f"Infusion1.{graph.GROW}")._image(LAST)["rgba.alpha"]
    assert np.all(mask[weight > 0] == 1.0) and set(np.unique(mask)) <= {0.0, 1.0}
    out, plate, result = (nuke.toNode(name)._image(LAST) for name in ("Infusion1", "Plate", "Infusion1.Result"))
    for channel in RGB:
        assert np.array_equal(out[channel], result[channel])
        assert np.array_equal(out[channel][weight == 0], plate[channel][weight == 0])  # the Source elsewhere
    assert not nuke.toNode(f"Infusion1.{graph.GROW}")._image(FIRST)["rgba.alpha"].any()  # no mask outside the job
    fake_host.open_script(fake_host.save_script())
    node = nuke.toNode("Infusion1")
    assert nuke.toNode(f"Infusion1.{graph.GROW}")["size"].hasExpression()
    node["dilation"].setValue(1)
    grown = nuke.toNode(f"Infusion1.{graph.GROW}")._image(LAST)["rgba.alpha"]
    assert np.all(grown[engine_weight(MatteRule(0.01, 1), LAST) > 0] == 1.0) and grown.sum() < mask.sum()


def test_a_node_without_the_grown_mask_says_so_instead_of_masking_with_the_raw_matte(shot: Path, tmp_path: Path) -> None:
    node = comp(shot, "tcp://127.0.0.1:9", tmp_path / "cache")
    cache = finished_job(tmp_path / "cache", "cd" * 6, lambda frame: np.zeros((SIZE, SIZE, 4), np.float32))
    node["job"].setValue(cache.job)
    nuke.toNode("Infusion1.Merge").setInput(2, nuke.toNode("Infusion1.JobRange"))  # an older release's graph
    node._children = [child for child in node._children if child.name() not in (graph.THRESHOLD, graph.GROW)]
    fake_host.open_script(fake_host.save_script())
    assert f"lost its internal node {graph.GROW}; create the Infusion node again" in str(nuke.toNode("Infusion1")["status"].value())
    assert graph.shown(nuke.toNode("Infusion1")) == ""  # it still passes the Source through


def test_mix_dissolves_to_the_source_and_is_kept_with_the_script(shot: Path, tmp_path: Path) -> None:
    node = shown_from_the_cache(shot, tmp_path)
    nuke.toNode("Infusion1.Merge")["mix"].setValue(0.5)  # what the node's mix knob shows
    assert node["mix"].value() == "Merge.mix" and node["mix"].getLinkedKnob().value() == 0.5
    fake_host.open_script(fake_host.save_script())
    node = nuke.toNode("Infusion1")
    plate, result = (nuke.toNode(name)._image(LAST)["rgba.blue"] for name in ("Plate", "Infusion1.Result"))
    assert node["mix"].getLinkedKnob().value() == 0.5
    assert np.allclose(node._image(LAST)["rgba.blue"], plate + 0.5 * (result - plate))  # the whole effect, faded


def test_the_preview_goes_beside_the_node_not_to_its_output(shot: Path, tmp_path: Path) -> None:
    node = comp(shot, "tcp://127.0.0.1:9", tmp_path / "cache")
    preview = str(tmp_path / "cache" / "ab" / "preview" / "interval_00.####.exr")
    progress.apply_update(node.fullName(), Update("ab" * 6, "running", 0.5, "interval 1/2", (FIRST, LAST), 1, preview))
    read = nuke.toNode("Infusion1" + graph.PREVIEW_SUFFIX)
    assert read is not None and read["file"].value() == preview and read.xpos() == node.xpos() + 120
    assert graph.shown(node) == ""  # the output still passes the Source through
    out, plate = node._image(LAST), nuke.toNode("Plate")._image(LAST)
    assert all(np.array_equal(out[c], plate[c]) for c in plate)
    progress.apply_update(node.fullName(), Update("ab" * 6, "running", 0.7, "interval 2/2", (FIRST, LAST), 1, preview.replace("00", "01")))
    assert nuke.allNodes("Read").count(read) == 1 and read["file"].value().endswith("interval_01.####.exr")
