"""The fake ``nuke`` on sys.path, and a tiny comp: two Reads (plate, roto) and an Infusion node."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

FAKE_NUKE = Path(__file__).parent / "fake_nuke"
if str(FAKE_NUKE) not in sys.path:
    sys.path.insert(0, str(FAKE_NUKE))

import fake_host  # noqa: E402
import nuke  # noqa: E402

from service_support import FIRST, LAST, write_exr  # noqa: E402

if TYPE_CHECKING:
    from infusion.host_plugins.common import ResultCache


def comp(shot: Path, endpoint: str, cache: Path, **knobs) -> nuke.Node:
    """A new script: Plate and Roto Reads of ``shot`` and an Infusion node made from the menu."""
    from infusion.host_plugins.nuke import menu
    fake_host.close_script()
    if nuke.menu("Nodes").findItem("Infusion") is None:
        menu.register()
    plate = nuke.nodes.Read(name="Plate", file=str(shot / "plate.####.exr"), first=FIRST, last=LAST)
    roto = nuke.nodes.Read(name="Roto", file=str(shot / "matte.####.exr"), first=FIRST, last=LAST)
    plate.setSelected(True)
    node = nuke.menu("Nodes").findItem("Infusion").findItem("Infusion")()
    node.setInput(1, roto)
    settings = {"engine": endpoint, "preset": "test", "cache": str(cache), "by_reference": False, **knobs}  # renders, as the
    for name, value in settings.items():  # test engines allow no roots; test_nuke_knobs.py tests by reference
        node[name].setValue(value)
    return node


def finished_job(cache: Path, job: str, fill: Callable[[int], np.ndarray], first: int = FIRST, last: int = LAST) -> ResultCache:
    """A job the cache holds whole (no engine): one variant, ``fill(frame)`` (H, W, 4) as each frame."""
    from infusion.host_plugins.common import ResultCache
    result = ResultCache(str(cache), job)
    for frame in range(first, last + 1):
        path = Path(result.output_pattern().replace("####", f"{frame:04d}"))
        path.parent.mkdir(parents=True, exist_ok=True)
        write_exr(path, fill(frame), ["R", "G", "B", "A"])
    result.record(frames=[first, last], variants=1, state="done", seq=1)
    return result
