"""The nodes inside the Infusion Group: inputs to EXR through a Write, the fill merged back through a Keymix.

    Source (input 0) ─┬──────────────────────────────────────────── Merge (Keymix B) ── Output
    Matte  (input 1) ─┴─ MatteToAlpha (Copy) ─┬─ RenderInputs (Write)        │ A     │ mask
                                              └─ JobRange (TimeClip) ────────┼───────┘
                                                 Result (Read) ──────────────┘

The node's output is always the Source: its format, bbox (Keymix ``bbox`` B), every channel and
every frame. Only RGB (Keymix ``channels``) is taken from the Result, weighted by the matte, and
only over the job's frames (JobRange is black outside them, so the mask is zero there); ``mix``
on the node is the Keymix's. Until a result is shown the Keymix is disabled and the Source passes
through. The per-interval preview (the region of interest at working size) never reaches the
output: it goes to a Read of its own beside the node (``NAME_preview``), to view.

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
        for index, node in enumerate((source, read, job_range)):  # Keymix inputs: B, A, mask
            merge.setInput(index, node)
        nuke.nodes.Output(name="Output").setInput(0, merge)
    finally:
        group.end()
    mix = nuke.Link_Knob("mix", "mix")
    mix.makeLink(MERGE, "mix")
    group.addKnob(mix)


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
    """Merge the finished frames ``pattern`` over ``frames`` into the Source (inside the matte, in RGB)."""
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
