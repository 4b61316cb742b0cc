"""Small facts of a Fusion comp: its tools by name, its render range, name and id, a locked undo block.

Fusion's Python bridge hands Lua tables over as dicts keyed 1.0, 2.0, ... and takes positional
arguments only, so every call here is positional.
"""
from __future__ import annotations

import contextlib
import re
import uuid
from typing import Any, Dict, Iterator, Tuple

ID_KEY = "Infusion.CompId"


def tool_name(tool: Any) -> str:
    return str(tool.GetAttrs()["TOOLS_Name"])


def tool_type(tool: Any) -> str:
    """The tool's registry id: ``Loader``, ``MediaIn``, ``Saver``, ``PolylineMask`` ..."""
    return str(tool.GetAttrs()["TOOLS_RegID"])


def tools(comp: Any) -> Dict[str, Any]:
    """Every tool of the comp by its name."""
    return {tool_name(tool): tool for tool in comp.GetToolList().values()}


def render_range(comp: Any) -> Tuple[int, int]:
    """The comp's render range (what a render with no range renders)."""
    attributes = comp.GetAttrs()
    return int(attributes["COMPN_RenderStart"]), int(attributes["COMPN_RenderEnd"])


def safe_name(text: str) -> str:
    """``text`` as a file name: letters, digits, ``-`` and ``_`` only."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_") or "untitled"


def comp_name(comp: Any) -> str:
    return safe_name(str(comp.GetAttrs()["COMPS_Name"]))


def comp_id(comp: Any) -> str:
    """An id the comp keeps in its data (``Infusion.CompId``, made the first time): it tells comps apart
    where their file name cannot (Resolve's comps have none) and survives saving and reopening."""
    kept = comp.GetData(ID_KEY)
    if kept:
        return str(kept)
    made = uuid.uuid4().hex[:12]
    comp.SetData(ID_KEY, made)
    return made


@contextlib.contextmanager
def change(comp: Any, name: str, keep: bool = True) -> Iterator[None]:
    """Changes to the comp as one undo step called ``name`` (``keep`` False: not kept as a step, for
    changes that are taken back before the user could undo them), the comp locked meanwhile (no
    redraws, no pop-ups)."""
    comp.Lock()
    comp.StartUndo(name)
    try:
        yield
    finally:
        comp.Unlock()
        comp.EndUndo(keep)
