"""Inputs to EXR: a temporary Saver per tool, one comp render over the range, the Savers deleted.

The Savers write 32-bit float RGBA EXRs of the comp's values as they are (no colour conversion:
the engine is told the colourspace). Meanwhile every other active Saver passes through, so the
render writes only these files. The whole change is one undo step.
"""
from __future__ import annotations

import os
from typing import Any, Dict, Tuple

from infusion.protocol.files import frame_path

from . import comp_tools

# Saver inputs for float EXR with R, G, B and A (OpenEXRFormat.Depth: 0 auto, 1 half, 2 float).
EXR_INPUTS = (("OutputFormat", "OpenEXRFormat"), ("OpenEXRFormat.Depth", 2), ("OpenEXRFormat.RedEnable", 1),
              ("OpenEXRFormat.GreenEnable", 1), ("OpenEXRFormat.BlueEnable", 1), ("OpenEXRFormat.AlphaEnable", 1))


def saver_clip(pattern: str) -> str:
    """A Saver numbers its frames in place of the digits ending the file name: ``plate.####.exr``
    becomes ``plate.0000.exr`` (4-digit padding)."""
    return pattern.replace("####", "0000")


def _add_saver(comp: Any, tool: Any, pattern: str) -> Any:
    saver = comp.AddTool("Saver", 0, 0)
    saver.ConnectInput("Input", tool)
    saver.SetInput("Clip", saver_clip(pattern))
    for name, value in EXR_INPUTS:
        saver.SetInput(name, value)
    return saver


def render(comp: Any, sequences: Dict[str, Any], frames: Tuple[int, int]) -> None:
    """Write each tool's image to its EXR sequence (``{pattern: tool}``) over ``frames``.

    RuntimeError when Fusion reports a failed render or a frame is missing afterwards.
    """
    for pattern in sequences:
        os.makedirs(os.path.dirname(pattern), exist_ok=True)
    with comp_tools.change(comp, "Infusion: render the inputs"):
        active = [tool for tool in comp_tools.tools(comp).values()
                  if comp_tools.tool_type(tool) == "Saver" and not tool.GetAttrs()["TOOLB_PassThrough"]]
        savers = []
        try:
            for tool in active:
                tool.SetAttrs({"TOOLB_PassThrough": True})
            for pattern, tool in sequences.items():
                savers.append(_add_saver(comp, tool, pattern))
            rendered = comp.Render({"Start": frames[0], "End": frames[1], "Wait": True})
        finally:
            for saver in savers:
                saver.Delete()
            for tool in active:
                tool.SetAttrs({"TOOLB_PassThrough": False})
    if not rendered:
        raise RuntimeError(f"Fusion could not render frames {frames[0]}-{frames[1]} (see Fusion's console)")
    for pattern in sequences:
        missing = [f for f in range(frames[0], frames[1] + 1) if not os.path.isfile(frame_path(pattern, f))]
        if missing:
            raise RuntimeError(f"Fusion rendered no {frame_path(pattern, missing[0])}")
