"""A fake of Fusion's UIManager and ``bmd.UIDispatcher``: the elements the panel makes, their
properties, and events a test fires as the user (Clicked, Close) or as Qt's timer (Timeout).

Elements are made as ``ui.Type(properties, children)``; a window's ``On[ID].Event = handler`` and
the dispatcher's ``On.Event = handler`` route events. ``RunLoop`` returns at once: the test is the
event loop.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional

from .calls import api, record

# The element types of Fusion's UIManager the fake makes, and the properties each starts with.
ELEMENTS: Dict[str, Dict[str, Any]] = {
    "Label": {"Text": ""}, "Button": {"Text": ""}, "LineEdit": {"Text": ""},
    "SpinBox": {"Value": 0, "Minimum": 0, "Maximum": 99}, "ComboBox": {"CurrentIndex": -1},
    "HGroup": {}, "VGroup": {}, "Timer": {"Interval": 0}, "Window": {},
}


class Handlers:
    """``On``: ``On[ID].Event = f`` or ``On.ID.Event = f`` (a window); ``On.Event = f`` (the dispatcher)."""

    def __init__(self) -> None:
        object.__setattr__(self, "_table", {})

    def __getitem__(self, element: str) -> "_Slot":
        return _Slot(self._table, element)

    def __getattr__(self, element: str) -> "_Slot":
        if element.startswith("_"):
            raise AttributeError(element)
        return _Slot(self._table, element)

    def __setattr__(self, event: str, handler: Callable[[Dict[str, Any]], None]) -> None:
        self._table[("", event)] = handler

    def handler(self, element: str, event: str) -> Optional[Callable[[Dict[str, Any]], None]]:
        return self._table.get((element, event))


class _Slot:
    def __init__(self, table: Dict[Any, Any], element: str):
        object.__setattr__(self, "_table", table)
        object.__setattr__(self, "_element", element)

    def __setattr__(self, event: str, handler: Callable[[Dict[str, Any]], None]) -> None:
        self._table[(self._element, event)] = handler


class Element:
    """An element: a free table of properties (as Fusion's are), its children; a ComboBox's entries."""

    def __init__(self, kind: str, properties: Optional[Dict[str, Any]], children: Any):
        object.__setattr__(self, "_kind", kind)
        object.__setattr__(self, "_properties", {**ELEMENTS[kind], **(properties or {})})
        object.__setattr__(self, "_children", list(children) if isinstance(children, (list, tuple)) else
                           [] if children is None else [children])
        object.__setattr__(self, "_entries", [])
        object.__setattr__(self, "On", Handlers())
        object.__setattr__(self, "shown", False)
        object.__setattr__(self, "running", False)

    def __getattr__(self, name: str) -> Any:
        if name == "CurrentText" and self._kind == "ComboBox":
            index = self._properties["CurrentIndex"]
            return self._entries[index] if 0 <= index < len(self._entries) else ""
        if name not in self._properties:
            raise AttributeError(f"{self._kind} has no property {name}")
        return self._properties[name]

    def __setattr__(self, name: str, value: Any) -> None:
        if self._kind == "SpinBox" and name == "Value":  # Qt clamps a spin box to its range
            value = min(max(int(value), self._properties["Minimum"]), self._properties["Maximum"])
        if self._kind == "ComboBox" and name == "CurrentIndex" and not -1 <= value < len(self._entries):
            raise ValueError(f"{self._properties.get('ID')}: no entry {value}")
        self._properties[name] = value

    def _walk(self) -> List["Element"]:
        return [self, *(e for child in self._children for e in child._walk())]

    @api
    def GetItems(self) -> Dict[str, "Element"]:
        return self.items()

    def items(self) -> Dict[str, "Element"]:
        """The elements with an ID, by ID (the test's view: not recorded)."""
        return {e._properties["ID"]: e for e in self._walk() if "ID" in e._properties}

    @api
    def Show(self) -> None:
        object.__setattr__(self, "shown", True)

    @api
    def Hide(self) -> None:
        object.__setattr__(self, "shown", False)

    @api
    def AddItem(self, text: str) -> None:
        self._entries.append(text)
        if self._properties["CurrentIndex"] < 0:
            self._properties["CurrentIndex"] = 0

    @api
    def Clear(self) -> None:
        self._entries.clear()
        self._properties["CurrentIndex"] = -1

    @api
    def Start(self) -> None:
        object.__setattr__(self, "running", True)

    @api
    def Stop(self) -> None:
        object.__setattr__(self, "running", False)

    def entries(self) -> List[str]:
        return list(self._entries)


class UIManager:
    """``fusion.UIManager``: ``ui.Label(properties, children)`` and so on; remembers its timers."""

    def __init__(self) -> None:
        self.timers: List[Element] = []

    def __getattr__(self, kind: str) -> Callable[..., Element]:
        if kind not in ELEMENTS or kind == "Window":
            raise AttributeError(f"the fake UIManager makes no {kind}")

        def make(*args: Any) -> Element:
            record("UIManager", kind, args, {})
            element = Element(kind, args[0] if args else None, args[1] if len(args) > 1 else None)
            if kind == "Timer":
                self.timers.append(element)
            return element
        return make


class UIDispatcher:
    """``bmd.UIDispatcher(ui)``: makes windows, routes the timers' Timeout to ``On.Timeout``."""

    def __init__(self, ui: UIManager):
        self.ui = ui
        self.On = Handlers()
        self.windows: List[Element] = []
        self.loops = 0
        self.exited = False

    @api
    def AddWindow(self, properties: Dict[str, Any], children: Any = None) -> Element:
        window = Element("Window", properties, children)
        self.windows.append(window)
        return window

    @api
    def RunLoop(self) -> None:
        self.loops += 1

    @api
    def ExitLoop(self) -> None:
        self.exited = True


class BMD:
    """The ``bmd`` module a Fusion script gets."""

    def __init__(self) -> None:
        self.dispatchers: List[UIDispatcher] = []

    @api
    def UIDispatcher(self, ui: UIManager) -> UIDispatcher:
        dispatcher = UIDispatcher(ui)
        self.dispatchers.append(dispatcher)
        return dispatcher
