"""The result in the comp: one Loader of the finished frames, one row below the source, and a Merge
of it over the source that the comp's MediaOut (Resolve's Fusion page) shows.

The panel calls :func:`show` when a job is done (and when the variant shown changes), never while
frames land: each call is one undo step. The Loader's and the Merge's names are kept in the comp
(``Infusion.ResultLoader``, ``Infusion.ResultMerge``) so that later jobs, and re-attaching after the
comp is reopened, touch the same tools. Fusion reads a Loader's sequence again only when its Clip
changes, so the Clip is cleared before it is set (a re-attached job's frames lie under the same
path); Fusion then puts the clip's first frame at the comp's global start, and the Loader is
shifted so that file frame N shows at comp frame N (keeping its trims and holds, which Fusion
adjusts when the global in point moves), its length that of the frame range.
"""
from __future__ import annotations

from typing import Any, Optional, Tuple

from infusion.protocol.files import frame_path

from . import comp_tools

LOADER_KEY = "Infusion.ResultLoader"
MERGE_KEY = "Infusion.ResultMerge"
KEPT_INPUTS = ("ClipTimeStart", "ClipTimeEnd", "HoldFirstFrame", "HoldLastFrame")


def _beside(comp: Any, source: Optional[Any], rows: float) -> Tuple[float, float]:
    """``rows`` rows below ``source`` in the flow (the flow's origin without a source)."""
    if source is None:
        return 0.0, rows - 1.0
    position = comp.CurrentFrame.FlowView.GetPosTable(source)
    return float(position[1]), float(position[2]) + rows


def _place(loader: Any, frames: Tuple[int, int]) -> None:
    """Shift the Loader in comp time so that its first frame lands on ``frames[0]``, its last on ``frames[1]``."""
    start, end = float(loader.GetInput("GlobalIn")), float(loader.GetInput("GlobalOut"))
    shift = frames[0] - start
    if shift:
        kept = {name: loader.GetInput(name) for name in KEPT_INPUTS}
        # the in point cannot pass the out point: move the side that leads first
        for name, value in ((("GlobalOut", end), ("GlobalIn", start)) if shift > 0 else (("GlobalIn", start), ("GlobalOut", end))):
            loader.SetInput(name, value + shift)
        for name, value in kept.items():
            loader.SetInput(name, value)
    if float(loader.GetInput("GlobalOut")) != frames[1]:
        loader.SetInput("ClipTimeEnd", frames[1] - frames[0])
        loader.SetInput("GlobalOut", frames[1])


def _kept_tool(comp: Any, key: str) -> Optional[Any]:
    name = comp.GetData(key)
    return comp_tools.tools(comp).get(str(name)) if name else None


def loader(comp: Any) -> Optional[Any]:
    """The result Loader made earlier for this comp, if it is still there."""
    return _kept_tool(comp, LOADER_KEY)


def _media_out(comp: Any) -> Optional[Any]:
    """The comp's first MediaOut by name (Resolve's Fusion page has MediaOut1; Fusion Studio none)."""
    outs = sorted((name, tool) for name, tool in comp_tools.tools(comp).items() if comp_tools.tool_type(tool) == "MediaOut")
    return outs[0][1] if outs else None


def _wire(comp: Any, source: Any, result: Any) -> None:
    """A Merge of ``result`` over ``source`` (made once), shown by the comp's MediaOut."""
    if _kept_tool(comp, MERGE_KEY) is not None:
        return
    merge = comp.AddTool("Merge", *_beside(comp, source, 2.0))
    merge.ConnectInput("Background", source)
    merge.ConnectInput("Foreground", result)
    comp.SetData(MERGE_KEY, comp_tools.tool_name(merge))
    media_out = _media_out(comp)
    if media_out is not None:
        media_out.ConnectInput("Input", merge)


def show(comp: Any, source_name: str, pattern: str, frames: Tuple[int, int]) -> Any:
    """Point the result Loader at the sequence ``pattern`` over ``frames``, making it (and the Merge
    over the tool ``source_name``) the first time; one undo step. Returns the Loader."""
    with comp_tools.change(comp, "Infusion: result"):
        source = comp_tools.tools(comp).get(source_name)
        result = loader(comp)
        if result is None:
            result = comp.AddTool("Loader", *_beside(comp, source, 1.0))
            comp.SetData(LOADER_KEY, comp_tools.tool_name(result))
        result.SetInput("Clip", "")
        result.SetInput("Clip", frame_path(pattern, frames[0]))
        _place(result, frames)
        if source is not None:
            _wire(comp, source, result)
    return result
