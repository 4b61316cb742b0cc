"""The nodes inside the Infusion Group: inputs to EXR through a Write, the fill merged back through a Keymix.

    Source (input 0) ─┬─────────────────────────────────────────────── Merge (Keymix) B ── Output
    Matte  (input 1) ─┴─ MatteToAlpha (Copy) ─┬─ RenderInputs (Write)
                                              └─ JobRange (TimeClip) ─ MatteThreshold (Expression)
                                                 ─ MatteGrow (Dilate) ──────────────── Merge mask
                         Result (Read) ─────────────────────────────────────────────── Merge A

The node's output is always the Source: its format, bbox (Keymix ``bbox`` B), every channel and
every frame. Only RGB (Keymix ``channels``) is taken from the Result, and only over the job's
frames (JobRange is black outside them, so the mask is zero there); ``mix`` on the node is the
Keymix's. The Result frames are the plate composited already (the engine blends its fill with the
soft edge's weight, and outside its weight they are the plate), so the mask is the region the
engine may have changed at full strength, not the matte as sent: MatteThreshold (an Expression)
makes the alpha 1 where the matte exceeds the node's ``threshold`` knob, 0 elsewhere, and
MatteGrow (a Dilate) grows that by the node's ``dilation`` knob, both through expressions on the
node's knobs (a threshold or dilation changed after the job changes the mask: Inpaint again).
Thresholding then growing gives the engine's region (engine/plates/matte_rule.py: the matte
grown, then above the threshold): a grey dilation and a threshold commute. A grown shape larger
than the engine's disc (Dilate's, if square) changes nothing: the Result is the plate there. Until a
result is shown the Keymix is disabled and the Source passes through. The per-interval preview
(the region of interest at working size) never reaches the output: it goes to a Read of its own
beside the node (``NAME_preview``), to view.

MatteToAlpha copies the chosen matte channel into the alpha of the Source (from the Matte input,
or from the Source itself when no Matte is connected). RenderInputs stays disabled except while
:func:`render` executes it, so Render All never touches it. The Write and the Reads use raw data:
the EXRs hold Nuke's working space, unconverted. The Result Read errors on a missing frame (never
black), so a render that cannot see the results fails instead of going silently wrong.
"""
from __future__ import annotations

import os
from typing import Tuple

import nuke

SOURCE, MATTE, COPY, WRITE, RANGE, READ, MERGE = "Source", "Matte", "MatteToAlpha", "RenderInputs", "JobRange", "Result", "Merge"
THRESHOLD, GROW = "MatteThreshold", "MatteGrow"
FILLED = "a > parent.threshold"  # MatteThreshold's alpha: 1 where the engine fills (a comparison is 1 or 0), else 0
GROWN = "parent.dilation"  # MatteGrow's size: the engine grows the matte by this many pixels
PREVIEW_SUFFIX = "_preview"


def nuke_path(path: str) -> str:
    """Nuke's file knobs want forward slashes on every platform."""
    return path.replace("\\", "/")


def build(group: nuke.Group) -> None:
    """Create the internal nodes of an empty Group and its ``mix`` knob (the Keymix's)."""
    group.begin()
    try:
        source = nuke.nodes.Input(name=SOURCE, number=0)
        matte = nuke.nodes.Input(name=MATTE, number=1)
        copy = nuke.nodes.Copy(name=COPY, from0="rgba.alpha", to0="rgba.alpha")
        copy.setInput(0, source)
        copy.setInput(1, matte)
        write = nuke.nodes.Write(name=WRITE, file_type="exr", channels="rgba", datatype="32 bit float", raw=True,
                                 create_directories=True, disable=True)
        write.setInput(0, copy)
        job_range = nuke.nodes.TimeClip(name=RANGE, before="black", after="black")
        job_range.setInput(0, copy)
        read = nuke.nodes.Read(name=READ, raw=True, on_error="error")
        merge = nuke.nodes.Keymix(name=MERGE, channels="rgb", maskChannel="rgba.alpha", bbox="B", disable=True)
        for index, node in enumerate((source, read, _filled_region(job_range))):  # Keymix inputs: B, A, mask
            merge.setInput(index, node)
        nuke.nodes.Output(name="Output").setInput(0, merge)
    finally:
        group.end()
    mix = nuke.Link_Knob("mix", "mix")
    mix.makeLink(MERGE, "mix")
    group.addKnob(mix)


def _filled_region(matte: nuke.Node) -> nuke.Node:
    """The pixels the engine may change, as an alpha of 1 (0 elsewhere): ``matte``'s alpha above
    the node's threshold, grown by its dilation (both follow the node's knobs)."""
    threshold = nuke.nodes.Expression(name=THRESHOLD)
    threshold["expr3"].setValue(FILLED)
    threshold.setInput(0, matte)
    grow = nuke.nodes.Dilate(name=GROW, channels="alpha")
    grow["size"].setExpression(GROWN)
    grow.setInput(0, threshold)
    return grow


def _inner(group: nuke.Node, name: str) -> nuke.Node:
    node = nuke.toNode(f"{group.fullName()}.{name}")
    if node is None:
        raise RuntimeError(f"{group.name()} lost its internal node {name}; create the Infusion node again")
    return node


def render(group: nuke.Node, pattern: str, frames: Tuple[int, int], matte_channel: str, channels: str = "rgba") -> None:
    """Write the Source (RGB) with the matte channel as alpha to the EXR sequence ``pattern``
    (``channels="alpha"``: the matte alone, for a Source the engine reads by reference)."""
    copy, write = _inner(group, COPY), _inner(group, WRITE)
    copy.setInput(1, _inner(group, MATTE if group.input(1) is not None else SOURCE))
    copy["from0"].setValue(matte_channel)
    os.makedirs(os.path.dirname(pattern), exist_ok=True)
    write["file"].setValue(nuke_path(pattern))
    write["channels"].setValue(channels)
    write["disable"].setValue(False)
    try:
        nuke.execute(write, frames[0], frames[1])
    finally:
        write["disable"].setValue(True)


def _set_changed(node: nuke.Node, wanted: dict) -> None:
    """Set only the knobs whose value differs: an unchanged Read is not reloaded on every progress tick."""
    for name, value in wanted.items():
        if node[name].value() != value:
            node[name].setValue(value)


def _point(read: nuke.Node, pattern: str, frames: Tuple[int, int]) -> None:
    _set_changed(read, {"file": nuke_path(pattern), "first": frames[0], "origfirst": frames[0], "last": frames[1],
                        "origlast": frames[1]})


def show(group: nuke.Node, pattern: str, frames: Tuple[int, int]) -> None:
    """Merge the finished frames ``pattern`` over ``frames`` into the Source (in RGB, where the
    engine may have changed pixels)."""
    _inner(group, GROW)  # a node made by an older release lacks it (it masks with the raw matte): it must say so
    _point(_inner(group, READ), pattern, frames)
    _set_changed(_inner(group, RANGE), {"first": frames[0], "last": frames[1]})
    _set_changed(_inner(group, MERGE), {"disable": False})


def shown(group: nuke.Node) -> str:
    """The finished frames the node merges now ('' while it passes the Source through)."""
    return "" if _inner(group, MERGE)["disable"].value() else str(_inner(group, READ)["file"].value())


def show_source(group: nuke.Node) -> None:
    """Pass the Source through unchanged (no result yet)."""
    _set_changed(_inner(group, MERGE), {"disable": True})


def show_preview(group: nuke.Node, pattern: str, frames: Tuple[int, int]) -> nuke.Node:
    """Point the Read ``NAME_preview`` beside the node (made on the first preview) at ``pattern``."""
    parent = group.parent()
    name = group.name() + PREVIEW_SUFFIX
    read = parent.node(name)
    if read is None:
        with parent:
            read = nuke.nodes.Read(name=name, raw=True, label="Infusion preview\n(working size; not the node's output)")
        read.setXYpos(group.xpos() + 120, group.ypos())
    _point(read, pattern, frames)
    return read
