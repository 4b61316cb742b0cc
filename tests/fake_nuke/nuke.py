"""A fake of the part of Foundry's ``nuke`` module that the Infusion node calls.

Names and signatures follow the ``types-nuke`` stubs (tests/test_nuke_api.py holds the fake to
them). Nodes are evaluated for real: Read reads EXRs, Copy copies a channel, Switch picks an
input, Keymix merges A into B under a mask, TimeClip is black outside its range, Expression
computes the alpha, Dilate grows a channel, and ``execute`` on a Write writes EXRs (OpenImageIO),
so the engine receives real frames. A knob may hold an expression (``setExpression``: knobs of
other nodes, ``parent.KNOB`` for the enclosing Group's), evaluated when its value is read. Each
node's knobs and behaviour follow Foundry's Nuke Reference Guide page of that node (named at ``_CLASS_KNOBS``).
Images are dicts of Nuke channel names (``rgba.red``) to float32 arrays. Test controls (the main
thread's queue, saving and opening scripts, pressing buttons) live in fake_host.py.
"""
from __future__ import annotations

import queue
import re
import sys
import threading
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np
import OpenImageIO as oiio

_EXR_TO_NUKE = {"R": "rgba.red", "G": "rgba.green", "B": "rgba.blue", "A": "rgba.alpha"}
_NUKE_TO_EXR = {nuke_name: exr for exr, nuke_name in _EXR_TO_NUKE.items()}
_CHANNEL_SETS = {"alpha": ("rgba.alpha",), "rgb": ("rgba.red", "rgba.green", "rgba.blue"), "rgba": ("rgba.red", "rgba.green", "rgba.blue", "rgba.alpha")}
# The knobs each node class has (name: default), besides name, disable, knobChanged, label, xpos, ypos.
# Reference Guide pages: Read (on_error "missing frames": error, black, checkerboard, nearest frame;
# colorspace: "default (linear)" for an EXR under Nuke's default colour management; frame_mode and
# frame: an offset or start frame, empty by default; the fake reads no offset),
# Keymix (channels: copied from A, the others from B; maskChannel; invertMask; mix: dissolves from B
# at 0 to the full effect at 1; bbox: union, B, A), TimeClip (first, last; before and after: hold,
# loop, bounce, black), Expression (Color > Math > Expression, color_nodes/expression.html: one expression per
# channel set, channel3/expr3 the alpha; channels by name, ``a`` the alpha; any node's control by
# name; C-like syntax, 32-bit float math, a comparison gives 1 or 0; the fake does expr3 only),
# Erode (fast), class Dilate (filter_nodes/erode_fast.html: channels, all by default; size, 0 by default,
# positive grows the light pixels; the page names no kernel shape: the fake grows by whole pixels
# over a square of side 2 * size + 1, edges held, and does no fractional or negative size).
_CLASS_KNOBS: Dict[str, Dict[str, Any]] = {
    "Read": {"file": "", "first": 1, "last": 1, "origfirst": 1, "origlast": 1, "raw": False, "on_error": "error",
             "colorspace": "default (linear)", "frame_mode": "start at", "frame": ""},
    "Write": {"file": "", "file_type": "", "channels": "rgb", "datatype": "16 bit half", "raw": False,
              "create_directories": False},
    "Copy": {"from0": "rgba.alpha", "to0": "rgba.alpha"},
    "Switch": {"which": 0},
    "Keymix": {"channels": "all", "maskChannel": "rgba.alpha", "invertMask": False, "mix": 1.0, "bbox": "union"},
    "TimeClip": {"first": 1, "last": 1, "before": "hold", "after": "hold"},
    "Expression": {"channel3": "alpha", "expr3": ""},
    "Dilate": {"channels": "all", "size": 0},
    "Input": {"number": 0},
    "Output": {},
    "Group": {},
    "Root": {"name": "Root", "first_frame": 1, "last_frame": 100, "colorManagement": "Nuke"},
}
# The colourspaces of the fake's OCIO config, as the Root's working space menu lists them (some under
# a family, "Utility/..."); Nuke fills that menu from the config named by $OCIO or the Root's settings.
_OCIO_COLORSPACES = ["linear", "ACEScg", "Linear Rec.709 (sRGB)", "Utility/sRGB - Texture", "Utility/Raw"]


# --- knobs -----------------------------------------------------------------------------------

class Knob:
    """A knob: name, label, value; ``_user`` when added with addKnob (saved with the script)."""

    def __init__(self, *args, **kwargs) -> None:
        self._name = str(args[0]) if args else ""
        self._label = str(args[1]) if len(args) > 1 else self._name
        self._value: Any = self._initial(args[2:])
        self._node: Optional[Node] = None
        self._visible, self._tooltip, self._args = True, "", args
        self._expression = ""

    def _initial(self, extra: Tuple[Any, ...]) -> Any:
        return extra[0] if extra else None

    def Class(self) -> str:
        return type(self).__name__

    def name(self) -> str:
        return self._name

    def label(self) -> str:
        return self._label

    def node(self) -> Node:
        assert self._node is not None
        return self._node

    def value(self, index: int = 0) -> Any:
        return _evaluate(self._expression, self.node(), {}) if self._expression else self._value

    def getValue(self, channel: int = 0) -> Any:
        return self.value()

    def setExpression(self, expression: str, index: int = 0, view: Optional[str] = None) -> bool:
        self._expression = str(expression)
        return True

    def hasExpression(self, index: int = 0) -> bool:
        return bool(self._expression)

    def setValue(self, val: Any, chan: int = 0) -> bool:
        self._value = val
        return True

    def setVisible(self, visible: bool) -> None:
        self._visible = visible

    def visible(self) -> bool:
        return self._visible

    def setTooltip(self, tooltip: str) -> None:
        self._tooltip = tooltip

    def tooltip(self) -> str:
        return self._tooltip


class Array_Knob(Knob):
    def _initial(self, extra: Tuple[Any, ...]) -> Any:
        return extra[0] if extra else 0

    def setRange(self, *args, **kwargs) -> Any:
        self._range = args


class Int_Knob(Array_Knob):
    def value(self) -> int:  # type: ignore[override]
        return int(self._value)

    def setValue(self, val) -> bool:  # type: ignore[override]
        self._value = int(val)
        return True


class Double_Knob(Array_Knob):
    def setValue(self, *args, **kwargs) -> Any:  # type: ignore[override]
        self._value = float(args[0])
        return True


class Boolean_Knob(Array_Knob):
    def value(self) -> bool:  # type: ignore[override]
        return bool(self._value)

    def setValue(self, b) -> bool:  # type: ignore[override]
        self._value = bool(b)
        return True


class Enumeration_Knob(Array_Knob):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args[:2])
        self._values = list(args[2]) if len(args) > 2 else []
        self._value = self._values[0] if self._values else ""
        self._args = args

    def values(self) -> Any:
        return list(self._values)

    def setValues(self, *args, **kwargs) -> Any:
        self._values = list(args[0])
        self._value = self._value if self._value in self._values else self._values[0]

    def setValue(self, *args, **kwargs) -> Any:  # type: ignore[override]
        value = args[0]
        if isinstance(value, int):
            value = self._values[value]
        if value not in self._values:
            raise ValueError(f"{self._name}: {value!r} is not one of {self._values}")
        self._value = value
        return True


class String_Knob(Knob):
    def _initial(self, extra: Tuple[Any, ...]) -> Any:
        return str(extra[0]) if extra else ""

    def value(self, oc=None) -> str:  # type: ignore[override]
        return str(self._value)

    def setValue(self, val, view=None) -> None:  # type: ignore[override]
        self._value = str(val)


class File_Knob(String_Knob):
    pass


class Text_Knob(Knob):
    def _initial(self, extra: Tuple[Any, ...]) -> Any:
        return str(extra[0]) if extra else ""


class Tab_Knob(Knob):
    pass


class Channel_Knob(Knob):
    def _initial(self, extra: Tuple[Any, ...]) -> Any:
        return "rgba.alpha"

    def value(self) -> str:  # type: ignore[override]
        return str(self._value)

    def setValue(self, name) -> None:  # type: ignore[override]
        if not re.fullmatch(r"\w+\.\w+", str(name)):
            raise ValueError(f"{name!r} is not a channel (layer.channel)")
        self._value = str(name)


class Link_Knob(Knob):
    """A knob of a Group that shows a knob of a node inside it: ``makeLink(node name, knob name)``;
    saved as its arguments with the link appended (as a .nk saves ``{41 mix T Merge.mix}``)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args[:2])
        self._args = args

    def makeLink(self, s, t) -> None:
        self._args = (*self._args[:2], s, t)

    def getLinkedKnob(self) -> Knob:
        node, knob = self._args[2:4]
        return _link_target(self.node(), str(node), str(knob))

    def value(self) -> str:  # type: ignore[override]
        """The link, ``NODE.KNOB`` (as the stubs have it), not the linked knob's value."""
        return ".".join(str(part) for part in self._args[2:4])


def _link_target(group: "Node", node: str, knob: str) -> Knob:
    inner = group.node(node) if isinstance(group, Group) else None
    if inner is None:
        raise RuntimeError(f"{group.fullName()}: the linked node {node} does not exist")
    return inner[knob]


class PyScript_Knob(String_Knob):
    def command(self) -> str:
        return str(self._value)

    def execute(self) -> None:
        _run_script(self.command(), self.node(), self)


# --- nodes -----------------------------------------------------------------------------------

class Node:
    """A node of class ``_class`` with its class's knobs; images come from :meth:`_image`."""

    def __init__(self, *args, **kwargs) -> None:
        self._class = str(args[0]) if args else type(self).__name__
        self._knobs: Dict[str, Knob] = {}
        self._inputs: List[Optional[Node]] = []
        self._parent: Optional[Group] = None
        base = {"name": "", "disable": False, "knobChanged": "", "label": "", "xpos": 0, "ypos": 0}
        for name, default in {**base, **_CLASS_KNOBS.get(self._class, {})}.items():
            self._own(Knob(name), default)

    def _own(self, knob: Knob, value: Any = None) -> None:
        knob._node = self
        self._knobs[knob.name()] = knob
        if value is not None:
            knob._value = value

    def Class(self) -> str:
        return self._class

    def name(self) -> str:
        return str(self._knobs["name"].value())

    def fullName(self) -> str:
        parent = self._parent
        return self.name() if parent is None or parent is _state.root else f"{parent.fullName()}.{self.name()}"

    def setName(self, name: str, uncollide: bool = False, updateExpressions: bool = False) -> None:
        siblings = {n.name() for n in (self._parent._children if self._parent else []) if n is not self}
        if name in siblings:
            if not uncollide:
                raise ValueError(f"a node is already named {name}")
            stem, number = re.fullmatch(r"(.*?)(\d*)", name).groups()  # type: ignore[union-attr]
            index = int(number or 1)
            while f"{stem}{index}" in siblings:
                index += 1
            name = f"{stem}{index}"
        self._knobs["name"]._value = name

    def knob(self, p, follow_link: bool = False) -> Optional[Knob]:
        return self._knobs.get(p)

    def knobs(self) -> Dict[str, Knob]:
        return dict(self._knobs)

    def __getitem__(self, name: str) -> Knob:
        if name not in self._knobs:
            raise NameError(f"{self.name()}: no knob named {name}")
        return self._knobs[name]

    def addKnob(self, knob: Knob) -> None:
        if knob.name() in self._knobs:
            raise ValueError(f"{self.name()} already has a knob {knob.name()}")
        knob._user = True  # type: ignore[attr-defined]
        self._own(knob)

    def input(self, index: int) -> Optional[Node]:
        return self._inputs[index] if index < len(self._inputs) else None

    def inputs(self) -> int:
        return len(self._inputs)

    def setInput(self, i: int, node: Optional[Node]) -> bool:
        self._inputs.extend([None] * (i + 1 - len(self._inputs)))
        self._inputs[i] = node
        return True

    def setSelected(self, selected: bool) -> None:
        _state.selected = self if selected else (None if _state.selected is self else _state.selected)

    def parent(self) -> Group:
        assert self._parent is not None
        return self._parent

    def xpos(self) -> int:
        return int(self["xpos"].value())

    def ypos(self) -> int:
        return int(self["ypos"].value())

    def setXYpos(self, x: int, y: int) -> None:
        self["xpos"].setValue(x)
        self["ypos"].setValue(y)

    def showControlPanel(self, forceFloat: bool = False) -> None:
        _state.panels.append(self.fullName())

    def _upstream(self) -> Node:
        """The node whose frames and image this one passes on."""
        if self._class == "Switch":
            return self._need(int(self["which"].value()))
        if self._class == "Input":
            assert self._parent is not None
            return self._parent._need(int(self["number"].value()))
        return self._need(0)

    def _need(self, index: int) -> Node:
        node = self.input(index)
        if node is None:
            raise RuntimeError(f"{self.fullName()}: input {index} is not connected")
        return node

    def firstFrame(self) -> int:
        return int(self["first"].value()) if self._class in ("Read", "TimeClip") else self._upstream().firstFrame()

    def lastFrame(self) -> int:
        return int(self["last"].value()) if self._class in ("Read", "TimeClip") else self._upstream().lastFrame()

    def _image(self, frame: int) -> Dict[str, np.ndarray]:
        if self["disable"].value() and self._class not in ("Read", "Input", "Output"):
            return self._need(0)._image(frame)  # a disabled node passes its input 0 on
        if self._class == "Read":
            return _read_exr(self, frame)
        if self._class == "Keymix":
            return _keymix(self, frame)
        if self._class in _FILTERS:
            return _FILTERS[self._class](self, self._need(0)._image(frame))
        if self._class == "TimeClip" and not self.firstFrame() <= frame <= self.lastFrame():
            side = "before" if frame < self.firstFrame() else "after"
            if self[side].value() != "black":
                raise RuntimeError(f"the fake TimeClip does only black {side} its range")
            return {name: np.zeros_like(plane) for name, plane in self._need(0)._image(frame).items()}
        image = dict(self._upstream()._image(frame))
        if self._class == "Copy":
            image[str(self["to0"].value())] = self._need(1)._image(frame)[str(self["from0"].value())]
        return image


class Group(Node):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._children: List[Node] = []

    def begin(self) -> Group:
        _state.context.append(self)
        return self

    def end(self) -> None:
        assert _state.context[-1] is self, "end() without begin()"
        _state.context.pop()

    def __enter__(self) -> Group:
        return self.begin()

    def __exit__(self, type, value, traceback) -> Any:
        self.end()

    def setInput(self, i: int, node: Optional[Node]) -> bool:
        """A Group has as many inputs as it holds Input nodes (none when just created)."""
        if i >= sum(1 for n in self._children if n.Class() == "Input"):
            return False
        return super().setInput(i, node)

    def node(self, s: str) -> Optional[Node]:
        return next((n for n in self._children if n.name() == s), None)

    def nodes(self) -> List[Node]:
        return list(self._children)

    def _upstream(self) -> Node:
        output = next((n for n in self._children if n.Class() == "Output"), None)
        if output is None:
            raise RuntimeError(f"{self.fullName()} has no Output node")
        return output


class Root(Group):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._own(Enumeration_Knob("workingSpaceLUT", "working space", _OCIO_COLORSPACES))

    def firstFrame(self) -> int:
        return int(self["first_frame"].value())

    def lastFrame(self) -> int:
        return int(self["last_frame"].value())


class ProgressTask:
    """Records what a background task reports; ``isCancelled`` is true once a test cancels it.

    Made on the main thread it raises: Foundry's Python Developer's Guide, "Threading", says a
    ProgressTask is for a worker thread and that NUKE hangs when the main thread makes one.
    """

    def __init__(self, *args, **kwargs) -> None:
        _not_on_the_main_thread("nuke.ProgressTask")
        self.title, self.messages, self.progress, self.cancelled = str(args[0]) if args else "", [], [], False
        _state.tasks.append(self)

    def isCancelled(self, *args, **kwargs) -> Any:
        return self.cancelled

    def setMessage(self, *args, **kwargs) -> Any:
        self.messages.append(args[0])

    def setProgress(self, *args, **kwargs) -> Any:
        self.progress.append(args[0])


class Menu:
    def __init__(self, name: str):
        self._name = name
        self._items: Dict[str, Any] = {}

    def name(self) -> str:
        return self._name

    def addMenu(self, *args, **kwargs) -> Any:
        return self._items.setdefault(args[0], Menu(args[0]))

    def addCommand(self, *args, **kwargs) -> Any:
        self._items[args[0]] = args[1] if len(args) > 1 else kwargs.get("command")
        return self._items[args[0]]

    def findItem(self, name) -> Optional[Any]:
        return self._items.get(name)


class Nodes:
    """``nuke.nodes.Read(name=..., file=...)``: a node in the current group, not connected."""

    def __getattr__(self, item) -> Any:
        return lambda **knobs: _new(item, knobs)


# --- module functions ------------------------------------------------------------------------

def createNode(typ: str, knobs: str = "", inpanel: bool = True) -> Node:
    node = _new(typ, {})
    if _state.selected is not None:
        node.setInput(0, _state.selected)
    node.setSelected(True)
    if inpanel:
        node.showControlPanel()
    return node


def selectedNodes() -> List[Node]:
    return [_state.selected] if _state.selected is not None else []


def toNode(s: str) -> Optional[Node]:
    node: Optional[Node] = _state.root
    for part in s.split("."):
        node = node.node(part) if isinstance(node, Group) else None
    return node


def allNodes(filter: Optional[str] = None, group: Optional[Group] = None, recurseGroups: bool = False) -> List[Node]:
    found = []
    for node in (group or _state.context[-1])._children:
        if filter is None or node.Class() == filter:
            found.append(node)
        if recurseGroups and isinstance(node, Group):
            found += allNodes(filter, node, True)
    return found


def root() -> Root:
    return _state.root


def thisNode() -> Node:
    assert _state.this is not None, "thisNode() outside a knob script"
    return _state.this[0]


def thisKnob() -> Knob:
    assert _state.this is not None, "thisKnob() outside a knob script"
    return _state.this[1]


def execute(nameOrNode, start: int, end: int, incr: int = 1, views: Optional[List[str]] = None,
            continueOnError: bool = False) -> None:
    node = toNode(nameOrNode) if isinstance(nameOrNode, str) else nameOrNode
    if node is None or node.Class() != "Write":
        raise RuntimeError(f"{nameOrNode}: not a Write node")
    if node["disable"].value():
        raise RuntimeError(f"{node.fullName()} is disabled")
    for frame in range(start, end + 1, incr):
        _write_exr(node, frame)
    _state.executed.append((node.fullName(), start, end))


def message(prompt: str) -> None:
    _state.messages.append(prompt)


def menu(name: str) -> Menu:
    return _state.menus.setdefault(name, Menu(name))


def addOnScriptLoad(call, args=(), kwargs={}, nodeClass: str = "Root") -> None:
    _state.on_script_load.append((call, tuple(args), dict(kwargs)))


def executeInMainThread(call, args=(), kwargs={}) -> None:
    """Queue ``call`` for the main thread (fake_host.pump runs it); from the main thread itself it
    raises: Foundry's Python Developer's Guide, "Threading": NUKE will hang."""
    _not_on_the_main_thread("nuke.executeInMainThread")
    _state.main_thread.put((call, args if isinstance(args, tuple) else (args,), dict(kwargs)))


def pluginAddPath(args, addToSysPath: bool = True) -> None:
    _state.plugin_paths.insert(0, str(args))
    if addToSysPath:
        sys.path.insert(0, str(args))


# --- internals -------------------------------------------------------------------------------

class _State:
    def __init__(self) -> None:
        self.root = Root("Root")
        self.context: List[Group] = [self.root]
        self.selected: Optional[Node] = None
        self.this: Optional[Tuple[Node, Knob]] = None
        self.messages: List[str] = []
        self.panels: List[str] = []
        self.tasks: List[ProgressTask] = []
        self.executed: List[Tuple[str, int, int]] = []
        self.menus: Dict[str, Menu] = {}
        self.on_script_load: List[Tuple[Callable, tuple, dict]] = []
        self.plugin_paths: List[str] = []
        self.main_thread: "queue.Queue[Tuple[Callable, tuple, dict]]" = queue.Queue()


_state = _State()
nodes = Nodes()


def _not_on_the_main_thread(what: str) -> None:
    if threading.current_thread() is threading.main_thread():
        raise RuntimeError(f"{what} called from the main thread: in Nuke this hangs (Python Developer's Guide, Threading)")


def _new(typ: str, knobs: Dict[str, Any]) -> Node:
    if typ not in _CLASS_KNOBS or typ == "Root":
        raise RuntimeError(f"the fake nuke has no node class {typ}")
    node = Group(typ) if typ == "Group" else Node(typ)
    parent = _state.context[-1]
    node._parent = parent
    node.setName(str(knobs.pop("name", f"{typ}1")), uncollide=True)
    parent._children.append(node)
    for name, value in knobs.items():
        node[name].setValue(value)
    return node


def _run_script(script: str, node: Node, knob: Knob) -> None:
    """Run a knob's Python as Nuke does: ``nuke`` imported, thisNode() and thisKnob() set."""
    previous, _state.this = _state.this, (node, knob)
    try:
        exec(script, {"nuke": sys.modules[__name__]})
    finally:
        _state.this = previous


def _frame_file(pattern: str, frame: int) -> str:
    return re.sub(r"#+", lambda hashes: f"{frame:0{len(hashes.group(0))}d}", pattern, count=1)


def _read_exr(node: Node, frame: int) -> Dict[str, np.ndarray]:
    if str(node["frame"].value()):
        raise RuntimeError("the fake Read reads no frame offset")
    frame = min(max(frame, int(node["first"].value())), int(node["last"].value()))
    image = oiio.ImageInput.open(_frame_file(str(node["file"].value()), frame))
    if image is None:
        raise RuntimeError(f"{node.fullName()}: {oiio.geterror()}")
    pixels = np.asarray(image.read_image(0, 0, 0, image.spec().nchannels, "float"))
    names = list(image.spec().channelnames)
    image.close()
    return {_EXR_TO_NUKE.get(name, f"other.{name}"): pixels[..., i] for i, name in enumerate(names)}


def _keymix(node: Node, frame: int) -> Dict[str, np.ndarray]:
    """B, with ``channels`` of A dissolved in by mask x mix (its format and bbox: B's with bbox B)."""
    b, a, mask = (node._need(index)._image(frame) for index in range(3))
    if node["bbox"].value() != "B" or node["invertMask"].value():
        raise RuntimeError("the fake Keymix does bbox B without invertMask only")
    weight = mask[str(node["maskChannel"].value())] * float(node["mix"].value())
    chosen = str(node["channels"].value())
    names = [n for n in b if n in a] if chosen == "all" else list(_CHANNEL_SETS[chosen])
    merged = dict(b)
    for name in names:
        if a[name].shape != b[name].shape:
            raise RuntimeError(f"{node.fullName()}: A is {a[name].shape[::-1]}, B {b[name].shape[::-1]}: the fake merges one format")
        merged[name] = b[name] * (1.0 - weight) + a[name] * weight
    return merged


_NAME = re.compile(r"[A-Za-z_][\w.]*")
_EXPRESSION_CHANNELS = {"r": "rgba.red", "g": "rgba.green", "b": "rgba.blue", "a": "rgba.alpha"}


def _evaluate(expression: str, node: Node, image: Dict[str, np.ndarray]) -> Any:
    """A Nuke expression on ``node``: numbers, + - * / ( ) and comparisons (1 or 0, as float32
    math), the channels r g b a of ``image`` (an Expression node's input) and ``NODE.KNOB``
    (``parent.KNOB``: the enclosing Group's knob)."""
    values: Dict[str, Any] = {}

    def name(found: "re.Match[str]") -> str:
        word = found.group(0)
        values[f"v{len(values)}"] = _operand(word, node, image)
        return f"v{len(values) - 1}"

    if not re.fullmatch(r"[\w.\s+\-*/()<>=!]*", expression):
        raise RuntimeError(f"the fake evaluates no {expression!r}")
    result = eval(_NAME.sub(name, expression), {"__builtins__": {}}, values)  # noqa: S307 (a test fake, checked above)
    return np.asarray(result, np.float32) if isinstance(result, np.ndarray) else float(result)


def _operand(word: str, node: Node, image: Dict[str, np.ndarray]) -> Any:
    """A channel of ``image`` or a knob's value (``NODE.KNOB``, ``parent.KNOB``)."""
    if word in _EXPRESSION_CHANNELS:
        return image[_EXPRESSION_CHANNELS[word]].astype(np.float32)
    owner, _, knob = word.rpartition(".")
    group = node.parent()
    target = group if owner == "parent" else group.node(owner)
    if target is None or not knob:
        raise RuntimeError(f"{node.fullName()}: the expression names {word!r}, which is neither a channel nor a knob")
    value = target[knob].value()
    return np.float32(value) if isinstance(value, (int, float)) else value


def _expression(node: Node, image: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
    """The input with its alpha computed by ``expr3`` (a blank expression is zero)."""
    if node["channel3"].value() != "alpha":
        raise RuntimeError("the fake Expression computes channel3 as alpha only")
    expression = str(node["expr3"].value()).strip() or "0"
    alpha = np.broadcast_to(_evaluate(expression, node, image), image["rgba.alpha"].shape)
    return {**image, "rgba.alpha": np.array(alpha, np.float32)}


def _dilate(node: Node, image: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
    """The input with ``channels`` grown by ``size`` pixels: the maximum over a square, edges held."""
    size = float(node["size"].value())
    if size < 0 or size != int(size):
        raise RuntimeError(f"the fake Dilate grows by whole pixels only, not {size}")
    chosen = str(node["channels"].value())
    names = list(image) if chosen == "all" else list(_CHANNEL_SETS[chosen])
    return {**image, **{name: _grown(image[name], int(size)) for name in names}}


def _grown(plane: np.ndarray, radius: int) -> np.ndarray:
    """The maximum of ``plane`` over a square of side 2 * radius + 1 (beyond the edges: the edge pixels)."""
    radius = min(radius, max(plane.shape))
    height, width = plane.shape
    padded = np.pad(plane, radius, mode="edge")
    rows = np.max([padded[:, dx:dx + width] for dx in range(2 * radius + 1)], axis=0)
    return np.max([rows[dy:dy + height] for dy in range(2 * radius + 1)], axis=0).astype(plane.dtype)


_FILTERS: Dict[str, Callable[[Node, Dict[str, np.ndarray]], Dict[str, np.ndarray]]] = {
    "Expression": _expression, "Dilate": _dilate}


def _write_exr(node: Node, frame: int) -> None:
    if node["file_type"].value() != "exr":
        raise RuntimeError(f"{node.fullName()}: the fake writes EXR only")
    image = node._need(0)._image(frame)
    channels = _CHANNEL_SETS[str(node["channels"].value())]
    height, width = image["rgba.red"].shape
    pixels = np.stack([image.get(c, np.zeros((height, width), np.float32)) for c in channels], axis=-1)
    spec = oiio.ImageSpec(width, height, len(channels), "float" if node["datatype"].value() == "32 bit float" else "half")
    spec.channelnames = tuple(_NUKE_TO_EXR[c] for c in channels)
    path = _frame_file(str(node["file"].value()), frame)
    output = oiio.ImageOutput.create(path)
    if output is None or not output.open(path, spec) or not output.write_image(pixels.astype(np.float32)):
        raise RuntimeError(f"{node.fullName()}: cannot write {path}: {oiio.geterror()}")
    output.close()
