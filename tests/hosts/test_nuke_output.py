"""The Infusion node's output (fake ``nuke``, a finished job in the cache, no engine): the Source
with the fill merged into RGB inside the matte only, over the job's frames only; every other
channel, every other frame, the format as the Source's; ``mix``; the preview beside the node."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nuke_support import comp, fake_host, finished_job, nuke
from service_support import FIRST, LAST, write_exr

from infusion.host_plugins.common import Update
from infusion.host_plugins.nuke import graph, node as infusion_node, progress

SIZE, FILL = 12, 0.25


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


def shown_from_the_cache(shot: Path, tmp_path: Path) -> nuke.Node:
    """An Infusion node whose job (frames FIRST+1..LAST, a fill of FILL everywhere) is in the cache."""
    node = comp(shot, "tcp://127.0.0.1:9", tmp_path / "cache")
    cache = finished_job(tmp_path / "cache", "ab" * 6, lambda frame: np.full((SIZE, SIZE, 4), FILL, np.float32), first=FIRST + 1)
    node["job"].setValue(cache.job)
    infusion_node.reattach(node)
    assert graph.shown(node) == cache.output_pattern()
    return node


def test_the_output_is_the_source_with_the_fill_in_rgb_inside_the_matte(shot: Path, tmp_path: Path) -> None:
    node = shown_from_the_cache(shot, tmp_path)
    source = nuke.toNode("Plate")
    matte = nuke.toNode("Roto")._image(LAST)["rgba.alpha"]
    for frame in (FIRST, LAST):
        out, plate = node._image(frame), source._image(frame)
        assert set(out) == set(plate) == {"rgba.red", "rgba.green", "rgba.blue", "rgba.alpha", "other.Z"}
        assert all(out[c].shape == plate[c].shape for c in out)  # the Source's format, always
        for channel in ("rgba.alpha", "other.Z"):
            assert np.array_equal(out[channel], plate[channel])  # every other channel passed through
        wanted = plate["rgba.red"] * (1 - matte) + FILL * matte if frame != FIRST else plate["rgba.red"]
        assert np.allclose(out["rgba.red"], wanted)  # FIRST lies outside the job: the Source as it is
    assert np.array_equal(node._image(LAST)["rgba.green"][matte == 0], source._image(LAST)["rgba.green"][matte == 0])


def test_mix_dissolves_to_the_source_and_is_kept_with_the_script(shot: Path, tmp_path: Path) -> None:
    node = shown_from_the_cache(shot, tmp_path)
    nuke.toNode("Infusion1.Merge")["mix"].setValue(0.5)  # what the node's mix knob shows
    assert node["mix"].value() == "Merge.mix" and node["mix"].getLinkedKnob().value() == 0.5
    fake_host.open_script(fake_host.save_script())
    node = nuke.toNode("Infusion1")
    plate, matte = nuke.toNode("Plate")._image(LAST)["rgba.blue"], nuke.toNode("Roto")._image(LAST)["rgba.alpha"]
    assert node["mix"].getLinkedKnob().value() == 0.5
    assert np.allclose(node._image(LAST)["rgba.blue"], plate + 0.5 * matte * (FILL - plate))


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
