"""Bake (fake ``nuke``, a finished job in the cache, no engine): the finished frames copied to a
folder others can read, the output reading them from there (after the cache is gone and the script
reopened too), and a missing finished frame an error, never black."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from nuke_support import comp, fake_host, finished_job, nuke
from service_support import FIRST, LAST, shot_on_disk  # noqa: F401 (fixture)

from infusion.host_plugins.common import BakeError, bake
from infusion.host_plugins.nuke import graph, node as infusion_node


def fill(frame: int) -> np.ndarray:
    return np.full((24, 24, 4), 0.1 * (frame - FIRST + 1), np.float32)


def test_bake_copies_the_frames_and_the_output_reads_them_without_the_cache(shot: Path, tmp_path: Path) -> None:
    node = comp(shot, "tcp://127.0.0.1:9", tmp_path / "cache", bake_folder=str(tmp_path / "shot_folder" / "infusion"))
    cache = finished_job(tmp_path / "cache", "ab" * 6, fill)
    node["job"].setValue(cache.job)
    infusion_node.reattach(node)
    fake_host.press(node, "bake")
    assert str(node["status"].value()) == "baking..."
    fake_host.pump(until=lambda: str(node["status"].value()).startswith(("baked", "error")))
    baked = tmp_path / "shot_folder" / "infusion" / f"Infusion1_{cache.job}" / "fill.####.exr"
    assert str(node["status"].value()) == f"baked: {baked}" and graph.shown(node) == str(baked) == node["baked"].value()
    assert fake_host.tasks()[-1].title == "Infusion: baking Infusion1" and fake_host.tasks()[-1].progress[-1] == 100
    for frame in range(FIRST, LAST + 1):
        assert Path(str(baked).replace("####", f"{frame:04d}")).read_bytes() == \
            Path(cache.output_pattern().replace("####", f"{frame:04d}")).read_bytes()

    shutil.rmtree(cache.folder)  # another artist, or the farm: no cache, no engine
    fake_host.open_script(fake_host.save_script())
    node = nuke.toNode("Infusion1")
    assert graph.shown(node) == str(baked) and str(node["status"].value()) == f"baked: {baked}" and not fake_host.messages()
    assert np.allclose(node._image(LAST)["rgba.red"][8:14, 8:14], 0.4, atol=1e-3)  # inside the matte: the baked fill

    Path(str(baked).replace("####", f"{LAST:04d}")).unlink()  # a finished frame missing: an error, not black
    with pytest.raises(RuntimeError, match="Infusion1.Result"):
        node._image(LAST)


def test_bake_needs_a_folder_and_a_whole_result(shot: Path, tmp_path: Path) -> None:
    node = comp(shot, "tcp://127.0.0.1:9", tmp_path / "cache")
    cache = finished_job(tmp_path / "cache", "cd" * 6, fill)
    node["job"].setValue(cache.job)
    fake_host.press(node, "bake")
    assert fake_host.messages().pop() == "Infusion (Infusion1): choose a bake folder (beside the shot: the farm and other artists read it)"
    node["bake_folder"].setValue(str(tmp_path / "out"))
    Path(cache.output_pattern().replace("####", f"{LAST:04d}")).unlink()
    fake_host.press(node, "bake")
    assert fake_host.messages().pop() == "Infusion (Infusion1): nothing to bake: the job's finished frames are not all in the cache"
    with pytest.raises(BakeError, match=f"frame {LAST} of the result is missing"):
        bake(cache.output_pattern(), (FIRST, LAST), str(tmp_path / "out" / "fill.####.exr"))
