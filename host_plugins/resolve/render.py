"""Inputs to EXR: a temporary Saver per tool, one quiet comp render over the range in the
background, then the Savers deleted and the comp's render range put back.

The Savers write 32-bit float RGBA EXRs of the comp's values as they are (no colour conversion:
the engine is told the colourspace). Meanwhile every other active Saver passes through, so the
render writes only these files. :func:`start` returns at once (``Render`` without ``Wait``, with
``REQF_QUIET`` so that Fusion pops no Render Completed dialog); the panel's timer asks
:meth:`InputRender.rendering` and shows :meth:`InputRender.frames_done`, then calls
:meth:`InputRender.finish`. Setting the render up and taking it down leave the comp as it was, so
neither is kept as an undo step.
"""
from __future__ import annotations

import os
from typing import Any, Dict, List, Tuple

from infusion.protocol.files import frame_path

from . import comp_tools

# Saver inputs for float EXR with R, G, B and A (OpenEXRFormat.Depth: 0 auto, 1 half, 2 float).
EXR_INPUTS = (("OutputFormat", "OpenEXRFormat"), ("OpenEXRFormat.Depth", 2), ("OpenEXRFormat.RedEnable", 1),
              ("OpenEXRFormat.GreenEnable", 1), ("OpenEXRFormat.BlueEnable", 1), ("OpenEXRFormat.AlphaEnable", 1))
REQF_QUIET = 524288  # Render's RenderFlags bit: no dialogs (the value Fusion's REQF_Quiet has)
RANGE_ATTRIBUTES = ("COMPN_RenderStart", "COMPN_RenderEnd")
UNDO_NAME = "Infusion: render the inputs"


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


class InputRender:
    """A render of ``sequences`` (``{pattern: tool}``) over ``frames`` that :func:`start` began."""

    def __init__(self, comp: Any, sequences: Dict[str, Any], frames: Tuple[int, int], savers: List[Any],
                 passed: List[Any], render_range: Dict[str, Any]):
        self.comp, self.sequences, self.frames = comp, sequences, frames
        self._savers, self._passed, self._range = savers, passed, render_range

    @property
    def total(self) -> int:
        return self.frames[1] - self.frames[0] + 1

    def rendering(self) -> bool:
        return bool(self.comp.IsRendering())

    def frames_done(self) -> int:
        """How many frames of the first sequence (the source) are on disk."""
        pattern = next(iter(self.sequences))
        return sum(os.path.isfile(frame_path(pattern, f)) for f in range(self.frames[0], self.frames[1] + 1))

    def _take_down(self) -> None:
        """Delete the Savers, let the others render again, put the comp's render range back."""
        with comp_tools.change(self.comp, UNDO_NAME, keep=False):
            for saver in self._savers:
                saver.Delete()
            for tool in self._passed:
                tool.SetAttrs({"TOOLB_PassThrough": False})
            self.comp.SetAttrs(self._range)

    def finish(self) -> None:
        """Once :meth:`rendering` is over: take the render down; RuntimeError when a frame is missing."""
        self._take_down()
        for pattern in self.sequences:
            missing = [f for f in range(self.frames[0], self.frames[1] + 1) if not os.path.isfile(frame_path(pattern, f))]
            if missing:
                raise RuntimeError(f"Fusion rendered no {frame_path(pattern, missing[0])} (see Fusion's console)")

    def abort(self) -> None:
        """Stop the render now and take it down (the panel closes)."""
        self.comp.AbortRender()
        self._take_down()


def start(comp: Any, sequences: Dict[str, Any], frames: Tuple[int, int]) -> InputRender:
    """Start writing each tool's image to its EXR sequence (``{pattern: tool}``) over ``frames``.

    RuntimeError (the comp as it was) when Fusion does not start the render.
    """
    for pattern in sequences:
        os.makedirs(os.path.dirname(pattern), exist_ok=True)
    attributes = comp.GetAttrs()
    render_range = {name: attributes[name] for name in RANGE_ATTRIBUTES}
    with comp_tools.change(comp, UNDO_NAME, keep=False):
        passed = [tool for tool in comp_tools.tools(comp).values()
                  if comp_tools.tool_type(tool) == "Saver" and not tool.GetAttrs()["TOOLB_PassThrough"]]
        for tool in passed:
            tool.SetAttrs({"TOOLB_PassThrough": True})
        savers = [_add_saver(comp, tool, pattern) for pattern, tool in sequences.items()]
    render = InputRender(comp, sequences, frames, savers, passed, render_range)
    if not comp.Render({"Start": frames[0], "End": frames[1], "Wait": False, "RenderFlags": REQF_QUIET}):
        render._take_down()
        raise RuntimeError(f"Fusion could not render frames {frames[0]}-{frames[1]} (see Fusion's console)")
    return render
