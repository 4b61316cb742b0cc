"""The nodes inside the Infusion Group: inputs to EXR through a Write, results back through a Read.

    Source (input 0) ─┬─────────────────────────────── ShowResult (Switch) ── Output
    Matte  (input 1) ─┴─ MatteToAlpha (Copy) ─ RenderInputs (Write)   │
                                                Result (Read) ─────────┘

MatteToAlpha copies the chosen matte channel into the alpha of the Source (from the Matte input,
or from the Source itself when no Matte is connected). RenderInputs stays disabled except while
:func:`render` executes it, so Render All never touches it. Both the Write and the Read use raw
data: the EXRs hold Nuke's working space, unconverted.
"""
from __future__ import annotations

import os
from typing import Tuple

import nuke

SOURCE, MATTE, COPY, WRITE, READ, SWITCH = "Source", "Matte", "MatteToAlpha", "RenderInputs", "Result", "ShowResult"


def nuke_path(path: str) -> str:
    """Nuke's file knobs want forward slashes on every platform."""
    return path.replace("\\", "/")


def build(group: nuke.Group) -> None:
    """Create the internal nodes of an empty Group."""
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
        read = nuke.nodes.Read(name=READ, raw=True, on_error="black")
        switch = nuke.nodes.Switch(name=SWITCH, which=0)
        switch.setInput(0, source)
        switch.setInput(1, read)
        nuke.nodes.Output(name="Output").setInput(0, switch)
    finally:
        group.end()


def _inner(group: nuke.Node, name: str) -> nuke.Node:
    node = nuke.toNode(f"{group.fullName()}.{name}")
    if node is None:
        raise RuntimeError(f"{group.name()} lost its internal node {name}; create the Infusion node again")
    return node


def render(group: nuke.Node, pattern: str, frames: Tuple[int, int], matte_channel: str) -> None:
    """Write the Source (RGB) with the matte channel as alpha to the EXR sequence ``pattern``."""
    copy, write = _inner(group, COPY), _inner(group, WRITE)
    copy.setInput(1, _inner(group, MATTE if group.input(1) is not None else SOURCE))
    copy["from0"].setValue(matte_channel)
    os.makedirs(os.path.dirname(pattern), exist_ok=True)
    write["file"].setValue(nuke_path(pattern))
    write["disable"].setValue(False)
    try:
        nuke.execute(write, frames[0], frames[1])
    finally:
        write["disable"].setValue(True)


def show(group: nuke.Node, pattern: str, frames: Tuple[int, int]) -> None:
    """Point the Result Read at ``pattern`` over ``frames`` and make it the node's output."""
    read, switch = _inner(group, READ), _inner(group, SWITCH)
    wanted = {"file": nuke_path(pattern), "first": frames[0], "origfirst": frames[0], "last": frames[1], "origlast": frames[1]}
    for name, value in wanted.items():
        if read[name].value() != value:  # an unchanged Read is left alone: no reload on every progress tick
            read[name].setValue(value)
    if switch["which"].value() != 1:
        switch["which"].setValue(1)


def show_source(group: nuke.Node) -> None:
    """Pass the Source through (no result yet)."""
    _inner(group, SWITCH)["which"].setValue(0)

