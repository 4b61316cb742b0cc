"""What the panel does about Fusion as it is, in the fake Fusion (tests/fake_fusion cites where each
behaviour comes from), no engine: the free Resolve (no UIManager), the timer's Timeout on either
binding and only from the panel's timer, the current comp followed, one input folder per comp
where Resolve gives comps no file name, and a result Loader that reads frames again under an
unchanged path, one undo step each time."""
from __future__ import annotations

from pathlib import Path

import pytest

from fake_fusion import Host
from resolve_support import open_panel, shot_comp
from service_support import FIRST, LAST, make_shot

from infusion.host_plugins.common import ResultCache
from infusion.host_plugins.resolve import panel, result, window
from infusion.protocol.files import frame_path

DEAD_ENGINE = "tcp://127.0.0.1:9"


@pytest.fixture()
def shot(tmp_path: Path) -> Path:
    make_shot(tmp_path / "shot")
    return tmp_path / "shot"


def cached_job(shot: Path, root: Path, job: str, frames: tuple = (FIRST, LAST)) -> None:
    """A finished job of one variant, whole in the cache ``root`` (the plate's frames as its result)."""
    cache = ResultCache(str(root), job)
    for frame in range(frames[0], frames[1] + 1):
        cache.write_frame(frame, 1, 1, (shot / f"plate.{frame}.exr").read_bytes())
    cache.record(frames=list(frames), variants=1, state="done")


def test_the_free_resolve_says_at_once_that_the_panel_needs_studio(shot: Path, tmp_path: Path, capsys) -> None:
    host = Host(shot_comp(shot, tmp_path / "deliver"), studio=False)
    assert host.open() is None and host.bmd.dispatchers == []
    said = capsys.readouterr().out
    assert "no UIManager" in said and "DaVinci Resolve Studio or Fusion Studio" in said


@pytest.mark.parametrize("route", ["dispatcher", "id", "both"])
def test_the_timer_works_on_either_binding_and_only_for_its_own_timeouts(shot: Path, tmp_path: Path, route: str) -> None:
    cached_job(shot, tmp_path / "cache", "job1")
    comp = shot_comp(shot, tmp_path / "deliver")
    host = Host(comp, timer_route=route)
    host.open()
    for name, value in {"Engine": DEAD_ENGINE, "Cache": str(tmp_path / "cache"), "Job": "job1"}.items():
        host.type(name, value)
    host.click("Reattach")
    host.dispatcher.On.handler("", "Timeout")({"who": "SomeoneElsesTimer", "what": "Timeout"})
    assert host.status() == "re-attaching to job job1" and host.loader() is None  # not the panel's timer
    host.tick()
    assert host.status() == "done (cached)" and host.loader() is not None
    host.tick()
    assert [name for name, _, _ in comp.undo].count("Infusion: result") == 1  # one step for the job, however often it ticks


def test_the_panel_follows_the_current_comp(shot: Path, tmp_path: Path) -> None:
    first = shot_comp(shot, tmp_path / "deliver")
    second = shot_comp(shot, tmp_path / "deliver")
    for comp in (first, second):  # Resolve: each clip's comp, all named alike, none with a file name
        comp._attrs.update(COMPS_Name="Composition1", COMPS_FileName="")
    second._attrs["COMPN_RenderStart"] = float(FIRST + 1)
    host, _ = open_panel(first, DEAD_ENGINE, tmp_path / "cache")
    host.click("Inpaint")
    host.pump(lambda: host.status().startswith("error"))  # rendered, then no engine answers
    host.show(second)
    host.tick()
    assert host.items["First"].Value == FIRST + 1  # the second comp's range
    for name, value in {"Engine": DEAD_ENGINE, "Cache": str(tmp_path / "cache")}.items():
        host.type(name, value)
    host.choose("Matte", "Roto")
    host.click("Inpaint")
    assert second.renders and len(first.renders) == 1  # the render is the current comp's
    host.pump(lambda: host.status().startswith("error"))
    folders = sorted((tmp_path / "cache" / "inputs").iterdir())
    assert len(folders) == 2 and all(f.name.startswith("Composition1_Plate_") for f in folders)  # one folder per comp

    cached_job(shot, tmp_path / "cache", "job2", (FIRST + 1, LAST))
    host.type("Job", "job2")
    host.click("Reattach")
    host.tick()
    assert host.status() == "done (cached)"
    assert result.loader(second) is not None and result.loader(first) is None  # the result lands in the comp shown
    assert second._data["Infusion"]["Job"] == "job2" and first._data["Infusion"].get("Job") == ""
    host.show(first)
    host.tick()
    assert host.items["First"].Value == FIRST and host.text("Job") == ""


def test_the_result_loader_reads_frames_again_under_an_unchanged_path(shot: Path, tmp_path: Path) -> None:
    comp = shot_comp(shot, tmp_path / "deliver")
    cache = ResultCache(str(tmp_path / "cache"), "job3")
    pattern = cache.output_pattern(1, 1)
    for frame in (FIRST, FIRST + 1):  # a first look at part of the result
        cache.write_frame(frame, 1, 1, (shot / f"plate.{frame}.exr").read_bytes())
    loader = result.show(comp, "Plate", pattern, (FIRST, FIRST + 1))
    assert loader.clip_frame(LAST) is None
    for frame in range(FIRST + 2, LAST + 1):
        cache.write_frame(frame, 1, 1, (shot / f"plate.{frame}.exr").read_bytes())
    assert result.show(comp, "Plate", pattern, (FIRST, LAST)) is loader
    assert loader._inputs["Clip"] == frame_path(pattern, FIRST)
    assert [loader.clip_frame(t) for t in (FIRST, LAST, LAST + 1)] == [FIRST, LAST, None]  # read again: every frame
    assert [name for name, _, _ in comp.undo] == ["Infusion: result"] * 2
    assert [t._regid for t in comp._tools].count("Merge") == 1  # the Merge is made once


def test_a_timer_event_names_its_timer(shot: Path, tmp_path: Path) -> None:
    host, _ = open_panel(shot_comp(shot, tmp_path / "deliver"), DEAD_ENGINE, tmp_path / "cache")
    timer = host.fusion.UIManager.timers[-1]
    assert timer._properties["ID"] == window.TIMER_ID and timer.running
    assert host.dispatcher.On.handler(window.TIMER_ID, "Timeout") == host.dispatcher.On.handler("", "Timeout")
    assert panel._who({"who": window.TIMER_ID}) == window.TIMER_ID and panel._who(None) == ""
