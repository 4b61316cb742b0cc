"""A fake Fusion composition: the calls the Infusion panel makes, with the signatures of the Fusion
8 Scripting Guide (Composition, Operator/Tool, FlowView). Python's bridge to Fusion takes positional
arguments only (tests/test_resolve_api.py checks that the adapter passes no keywords).

Tools are evaluated for real: a Loader (or a MediaIn) reads EXRs through its Clip and global
in/out points, a Saver writes EXRs when the comp renders (OpenImageIO), so the engine receives
real frames. Images are dicts of channel names (R, G, B, A) to float32 arrays.

Where each behaviour comes from (nobody here wrote these descriptions):

- ``Render(settings)`` with ``Wait`` false returns at once and the render goes on; ``IsRendering()``
  says whether it still runs (here each call renders one more frame: the panel's timer is the
  clock); ``AbortRender()`` stops it: Composition.md of EmberLightVFX/Fusion-Script-Docs (the
  Fusion API dump) lists ``Render(table settings)``, ``IsRendering()``, ``AbortRender()``.
- A render not flagged quiet (``RenderFlags`` with ``REQF_Quiet`` = 524288) ends in a Render
  Completed dialog (``dialogs``), and a render over ``Start``-``End`` leaves that range as the comp's
  render range: ynput/ayon-fusion ``plugins/publish/extract_render_local.py`` renders with
  ``RenderFlags: REQF_Quiet`` to suppress dialogs and inside ``maintained_comp_range`` (api/lib.py),
  which puts ``COMPN_RenderStart``/``End`` back with ``comp.SetAttrs`` afterwards.
- A Loader reads its sequence again only when its Clip changes (setting the same path again keeps
  the frames it read): ayon-fusion ``plugins/load/load_sequence.py`` (``update``: "Fusion
  automatically tries to reset some variables when changing the loader's path to a new file"); its
  ``loader_shift`` is where GlobalIn/GlobalOut and the kept trims come from.
- A Merge composites its Foreground over its Background (aturtur/fusion-scripts
  ``AR_MergeSelected.py`` wires ``merge.Background`` and ``merge.Foreground``); a MediaOut (Resolve's
  Fusion page) shows its Input.
"""
from __future__ import annotations

import copy
import os
import re
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import OpenImageIO as oiio

from .calls import api

ENABLES = {"R": "OpenEXRFormat.RedEnable", "G": "OpenEXRFormat.GreenEnable", "B": "OpenEXRFormat.BlueEnable",
           "A": "OpenEXRFormat.AlphaEnable"}
# The inputs of each tool class the fake knows, before anything is set
LOADER_DEFAULTS = {"Clip": "", "GlobalIn": 0.0, "GlobalOut": 0.0, "ClipTimeStart": 0.0, "ClipTimeEnd": 0.0,
                   "HoldFirstFrame": 0.0, "HoldLastFrame": 0.0}
SAVER_DEFAULTS = {"Clip": "", "OutputFormat": "", "OpenEXRFormat.Depth": 0, "OpenEXRFormat.RedEnable": 1,
                  "OpenEXRFormat.GreenEnable": 1, "OpenEXRFormat.BlueEnable": 1, "OpenEXRFormat.AlphaEnable": 0}
DEFAULTS = {"Loader": LOADER_DEFAULTS, "MediaIn": LOADER_DEFAULTS, "Saver": SAVER_DEFAULTS, "Merge": {"Blend": 1.0},
            "MediaOut": {}}
IMAGE_INPUTS = {"Saver": ("Input",), "MediaOut": ("Input",), "Merge": ("Background", "Foreground")}
REQF_QUIET = 524288


def numbered(path: str) -> Tuple[str, int, int, str]:
    """``plate.0000.exr`` -> head ``plate.``, number 0, padding 4, ``.exr`` (no digits: padding 4)."""
    stem, extension = os.path.splitext(path)
    match = re.match(r"(.*?)(\d+)$", stem)
    return (match.group(1), int(match.group(2)), len(match.group(2)), extension) if match else (stem, 0, 4, extension)


def frame_file(path: str, number: int) -> str:
    head, _, padding, extension = numbered(path)
    return f"{head}{number:0{padding}d}{extension}"


def read_channels(path: str) -> Dict[str, np.ndarray]:
    image = oiio.ImageInput.open(path)
    if image is None:
        raise RuntimeError(oiio.geterror())
    pixels = np.asarray(image.read_image(0, 0, 0, image.spec().nchannels, "float"))
    names = list(image.spec().channelnames)
    image.close()
    return {name: pixels[..., i] for i, name in enumerate(names)}


class Tool:
    """A tool of class ``regid``: its inputs, its attributes, what is connected to its Input."""

    def __init__(self, comp: "Composition", regid: str, name: str, position: Tuple[float, float]):
        self._comp, self._regid, self._position = comp, regid, position
        self._attrs: Dict[str, Any] = {"TOOLS_Name": name, "TOOLS_RegID": regid, "TOOLB_PassThrough": False}
        self._inputs: Dict[str, Any] = dict(DEFAULTS[regid])
        self._sources: Dict[str, Tool] = {}  # what is connected to each image input
        self._first_number = 0  # the file number of a Loader's first frame

    @api
    def GetAttrs(self, name: Optional[str] = None) -> Any:
        return dict(self._attrs) if name is None else self._attrs.get(name)

    @api
    def SetAttrs(self, attrs: Dict[str, Any]) -> None:
        self._attrs.update(attrs)
        self._comp._changed(f"attrs {self._attrs['TOOLS_Name']} {sorted(attrs)}")

    @api
    def GetInput(self, id: str, time: Optional[float] = None) -> Any:
        return self._inputs[id]

    @api
    def SetInput(self, id: str, value: Any, time: Optional[float] = None) -> None:
        if id not in self._inputs:
            raise RuntimeError(f"{self._attrs['TOOLS_Name']} ({self._regid}) has no input {id}")
        if id in ("GlobalIn", "GlobalOut"):
            self._move(id, float(value))
        elif id == "Clip" and self._regid in ("Loader", "MediaIn"):
            if str(value) != self._inputs["Clip"]:  # the same path again: Fusion keeps what it read
                self._load(str(value))
        else:
            self._inputs[id] = value
        self._comp._changed(f"input {self._attrs['TOOLS_Name']}.{id}")

    @api
    def ConnectInput(self, id: str, target: Optional["Tool"]) -> bool:
        if id not in IMAGE_INPUTS.get(self._regid, ()):
            raise RuntimeError(f"{self._attrs['TOOLS_Name']} ({self._regid}) has no image input {id}")
        if target is None:
            self._sources.pop(id, None)
        else:
            self._sources[id] = target
        self._comp._changed(f"connect {self._attrs['TOOLS_Name']}.{id}")
        return True

    @api
    def Delete(self) -> None:
        self._comp._tools.remove(self)
        self._comp._changed(f"delete {self._attrs['TOOLS_Name']}")

    # --- Loader time ------------------------------------------------------------------------------

    def _load(self, path: str) -> None:
        """Fusion reads the sequence anew: its length from the files there, its first frame at the
        comp's global start, no trims, no holds. An empty path empties the Loader."""
        if not path:
            self._inputs["Clip"] = ""
            return
        number = numbered(path)[1]
        length = 0
        while os.path.isfile(frame_file(path, number + length)):
            length += 1
        if not length:
            raise RuntimeError(f"{self._attrs['TOOLS_Name']}: no file {path}")
        start = self._comp._attrs["COMPN_GlobalStart"]
        self._inputs.update(Clip=path, GlobalIn=start, GlobalOut=start + length - 1, ClipTimeStart=0.0,
                            ClipTimeEnd=float(length - 1), HoldFirstFrame=0.0, HoldLastFrame=0.0)
        self._first_number = number

    def _move(self, name: str, value: float) -> None:
        """Fusion keeps the frames in place when an end moves: the start trims (or holds) by as much."""
        start, end = self._inputs["GlobalIn"], self._inputs["GlobalOut"]
        if (name == "GlobalIn" and value > end) or (name == "GlobalOut" and value < start):
            raise RuntimeError(f"{name} {value} would pass the other end ({start}-{end})")
        if name == "GlobalIn":
            moved = value - start
            trimmed = min(max(moved - self._inputs["HoldFirstFrame"], 0.0), self._inputs["ClipTimeEnd"])
            self._inputs["HoldFirstFrame"] = max(self._inputs["HoldFirstFrame"] - moved, 0.0)
            self._inputs["ClipTimeStart"] = max(self._inputs["ClipTimeStart"] + trimmed, 0.0)
        self._inputs[name] = value

    def clip_frame(self, time: int) -> Optional[int]:
        """The file number a Loader shows at comp ``time`` (None: outside its global range)."""
        inputs = self._inputs
        if not inputs["GlobalIn"] <= time <= inputs["GlobalOut"]:
            return None
        index = inputs["ClipTimeStart"] + max(time - inputs["GlobalIn"] - inputs["HoldFirstFrame"], 0.0)
        return self._first_number + int(min(index, inputs["ClipTimeEnd"]))

    # --- images -----------------------------------------------------------------------------------

    def image(self, time: int) -> Dict[str, np.ndarray]:
        if self._regid in ("Loader", "MediaIn"):
            number = self.clip_frame(time)
            if number is None:
                raise RuntimeError(f"{self._attrs['TOOLS_Name']} has no frame at {time}")
            return read_channels(frame_file(self._inputs["Clip"], number))
        images = {}
        for name in IMAGE_INPUTS[self._regid]:
            if name not in self._sources:
                raise RuntimeError(f"{self._attrs['TOOLS_Name']}: nothing connected to its {name}")
            images[name] = self._sources[name].image(time)
        if self._regid != "Merge":
            return images["Input"]
        background, foreground = images["Background"], images["Foreground"]
        alpha = foreground.get("A", np.ones_like(next(iter(foreground.values()))))
        return {c: foreground.get(c, 0.0) * alpha + background[c] * (1.0 - alpha) for c in background}

    def write(self, time: int) -> None:
        """A Saver writes its input at ``time``: RGBA with the enabled channels, half or float."""
        if self._inputs["OutputFormat"] != "OpenEXRFormat":
            raise RuntimeError(f"{self._attrs['TOOLS_Name']}: the fake writes OpenEXRFormat only")
        image = self.image(time)
        shape = next(iter(image.values())).shape
        channels = [c for c, enable in ENABLES.items() if self._inputs[enable]]
        pixels = np.stack([image.get(c, np.ones(shape, np.float32) if c == "A" else np.zeros(shape, np.float32))
                           for c in channels], axis=-1)
        path = frame_file(self._inputs["Clip"], time)
        spec = oiio.ImageSpec(shape[1], shape[0], len(channels), "float" if self._inputs["OpenEXRFormat.Depth"] == 2 else "half")
        spec.channelnames = tuple(channels)
        output = oiio.ImageOutput.create(path)
        if output is None or not output.open(path, spec) or not output.write_image(pixels.astype(np.float32)):
            raise RuntimeError(f"{self._attrs['TOOLS_Name']}: cannot write {path}: {oiio.geterror()}")
        output.close()


class FlowView:
    @api
    def GetPosTable(self, tool: Tool) -> Dict[float, float]:
        """Fusion gives a Lua table: a dict keyed 1.0, 2.0."""
        x, y = tool._position
        return {1.0: x, 2.0: y}


class FuFrame:
    """``comp.CurrentFrame``: the window of the comp; only its FlowView is used."""

    def __init__(self) -> None:
        self.FlowView = FlowView()


class Composition:
    """A comp with a render range. Test-side records: ``renders`` (the Render tables), ``undo``
    (finished undo blocks: name, kept, changes), ``unrecorded`` (changes outside any undo block),
    ``locks`` (Lock minus Unlock)."""

    def __init__(self, name: str = "shot010_comp", frames: Tuple[int, int] = (1001, 1004), global_start: int = 0):
        self._attrs: Dict[str, Any] = {"COMPS_Name": name, "COMPS_FileName": f"/comps/{name}.comp",
                                       "COMPN_RenderStart": float(frames[0]), "COMPN_RenderEnd": float(frames[1]),
                                       "COMPN_GlobalStart": float(global_start), "COMPN_GlobalEnd": float(frames[1] + 100)}
        self._tools: List[Tool] = []
        self._data: Dict[str, Any] = {}
        self.CurrentFrame = FuFrame()
        self.renders: List[Dict[str, Any]] = []
        self.dialogs: List[str] = []  # the dialogs Fusion popped up
        self._rendering: List[int] = []  # the frames a render started without Wait has still to write
        self._quiet = False
        self.undo: List[Tuple[str, bool, List[str]]] = []
        self._open: List[Tuple[str, List[str]]] = []
        self.unrecorded: List[str] = []
        self.locks = 0

    def _changed(self, change: str) -> None:
        (self._open[-1][1] if self._open else self.unrecorded).append(change)

    @api
    def GetAttrs(self, name: Optional[str] = None) -> Any:
        return dict(self._attrs) if name is None else self._attrs.get(name)

    @api
    def GetToolList(self, selected: Optional[bool] = None, type: Optional[str] = None) -> Dict[float, Tool]:
        """All tools (the selection is not faked), keyed 1.0, 2.0, ... as a Lua table arrives."""
        tools = [t for t in self._tools if type is None or t._regid == type]
        return {float(i + 1): tool for i, tool in enumerate(tools)}

    @api
    def AddTool(self, id: str, xpos: Optional[float] = None, ypos: Optional[float] = None) -> Tool:
        """The guide's Python usage ``AddTool(id, xpos, ypos)``; the tool is named REGID1, REGID2 ..."""
        names = {t._attrs["TOOLS_Name"] for t in self._tools}
        number = 1
        while f"{id}{number}" in names:
            number += 1
        tool = Tool(self, id, f"{id}{number}", (float(xpos or 0), float(ypos or 0)))
        self._tools.append(tool)
        self._changed(f"add {id}{number}")
        return tool

    @api
    def SetAttrs(self, attrs: Dict[str, Any]) -> None:
        self._attrs.update(attrs)

    @api
    def Render(self, settings: Dict[str, Any]) -> bool:
        """Every Saver that does not pass through writes each frame from Start to End: all at once with
        Wait, else one frame per IsRendering() call. Start-End becomes the comp's render range."""
        if self._rendering:
            return False
        self.renders.append(dict(settings))
        self._attrs.update(COMPN_RenderStart=float(settings["Start"]), COMPN_RenderEnd=float(settings["End"]))
        self._rendering = list(range(int(settings["Start"]), int(settings["End"]) + 1))
        self._quiet = bool(int(settings.get("RenderFlags", 0)) & REQF_QUIET)
        while settings.get("Wait") and self._rendering:
            self._render_next()
        return True

    def _render_next(self) -> None:
        time = self._rendering.pop(0)
        for tool in self._tools:
            if tool._regid == "Saver" and not tool._attrs["TOOLB_PassThrough"]:
                tool.write(time)
        if not self._rendering and not self._quiet:
            self.dialogs.append("Render Completed")

    @api
    def IsRendering(self) -> bool:
        if self._rendering:
            self._render_next()
            return True
        return False

    @api
    def AbortRender(self) -> None:
        self._rendering = []

    @api
    def Lock(self) -> None:
        self.locks += 1

    @api
    def Unlock(self) -> None:
        self.locks -= 1

    @api
    def StartUndo(self, name: str) -> None:
        self._open.append((name, []))

    @api
    def EndUndo(self, keep: bool) -> None:
        name, changes = self._open.pop()
        self.undo.append((name, keep, changes))

    @api
    def SetData(self, name: str, value: Any) -> None:
        """``a.b`` names the entry b of the table a (the guide's dot notation)."""
        *tables, key = name.split(".")
        data = self._data
        for table in tables:
            data = data.setdefault(table, {})
        data[key] = copy.deepcopy(value)

    @api
    def GetData(self, name: str) -> Any:
        data: Any = self._data
        for part in name.split("."):
            data = data.get(part) if isinstance(data, dict) else None
        return copy.deepcopy(data)

    # --- test side --------------------------------------------------------------------------------

    def add(self, regid: str, clip: str = "", position: Tuple[float, float] = (0.0, 0.0), name: str = "") -> Tool:
        """A tool the compositor made (not recorded as the adapter's call)."""
        tool = Tool(self, regid, name or f"{regid}{len(self._tools) + 1}", position)
        self._tools.append(tool)
        if clip:  # file frame N at comp frame N
            tool._load(clip)
            length = tool._inputs["GlobalOut"] - tool._inputs["GlobalIn"]
            tool._inputs.update(GlobalIn=float(tool._first_number), GlobalOut=tool._first_number + length)
        return tool

    def tool(self, name: str) -> Optional[Tool]:
        return next((t for t in self._tools if t._attrs["TOOLS_Name"] == name), None)

    def reopened(self) -> "Composition":
        """The comp saved and opened again: its tools, their inputs and positions, its data; no history."""
        again = copy.deepcopy(self)
        again.renders, again.undo, again._open, again.unrecorded, again.locks, again.dialogs = [], [], [], [], 0, []
        return again
