"""The result in the comp: one Loader, one row below the source, pointed at the finished frames.

The Loader's name is kept in the comp (``Infusion.ResultLoader``) so that later updates, and re-attaching
after the comp is reopened, touch the same Loader. Setting a Loader's Clip makes Fusion read the
sequence again and put its first frame at the comp's global start; the Loader is then shifted so
that file frame N shows at comp frame N (keeping its trims and holds, which Fusion adjusts when
the global in point moves). Each change is one undo step.
"""
from __future__ import annotations

from typing import Any, Optional, Tuple

from infusion.protocol.files import frame_path

from . import comp_tools

LOADER_KEY = "Infusion.ResultLoader"
KEPT_INPUTS = ("ClipTimeStart", "ClipTimeEnd", "HoldFirstFrame", "HoldLastFrame")


def _beside(comp: Any, source: Optional[Any]) -> Tuple[float, float]:
    """One row below ``source`` in the flow (the flow's origin without a source)."""
    if source is None:
        return 0.0, 0.0
    position = comp.CurrentFrame.FlowView.GetPosTable(source)
    return float(position[1]), float(position[2]) + 1.0


def _place(loader: Any, first: int) -> None:
    """Shift the Loader in comp time so that its first frame lands on ``first``."""
    start, end = float(loader.GetInput("GlobalIn")), float(loader.GetInput("GlobalOut"))
    shift = first - start
    if not shift:
        return
    kept = {name: loader.GetInput(name) for name in KEPT_INPUTS}
    # the in point cannot pass the out point: move the side that leads first
    for name, value in ((("GlobalOut", end), ("GlobalIn", start)) if shift > 0 else (("GlobalIn", start), ("GlobalOut", end))):
        loader.SetInput(name, value + shift)
    for name, value in kept.items():
        loader.SetInput(name, value)


def loader(comp: Any) -> Optional[Any]:
    """The result Loader made earlier for this comp, if it is still there."""
    name = comp.GetData(LOADER_KEY)
    return comp_tools.tools(comp).get(str(name)) if name else None


def show(comp: Any, source_name: str, pattern: str, frames: Tuple[int, int]) -> Any:
    """Point the result Loader at the sequence ``pattern`` over ``frames``, making it beside the
    tool ``source_name`` the first time; returns the Loader."""
    with comp_tools.change(comp, "Infusion: result"):
        result = loader(comp)
        if result is None:
            result = comp.AddTool("Loader", *_beside(comp, comp_tools.tools(comp).get(source_name)))
            comp.SetData(LOADER_KEY, comp_tools.tool_name(result))
        result.SetInput("Clip", frame_path(pattern, frames[0]))
        _place(result, frames[0])
    return result
