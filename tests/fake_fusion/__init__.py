"""A fake of the part of Fusion's scripting API the Infusion panel calls (comp.py, ui.py), every
call recorded (calls.py), and :class:`Host`: Fusion as a test drives it, the user's clicks and
typing, switching to another comp, Qt's timer ticks, the panel opened by the script's globals.

Where the behaviours come from: ``fu.GetCurrentComp()`` is the comp Fusion shows now (the
``resolvescript`` mock's FakeFusion.GetCurrentComp; in Resolve each clip of the Fusion page has a
comp of its own). The free DaVinci Resolve gives scripts no UIManager (``fu.UIManager`` is None;
``studio=False``): public scripts fall back "when Resolve UIManager is not available (e.g. Free
version)" (a Resolve script in the code index); that it is None from 19.1 on is the issue's word,
not checked here. A Timer's Timeout reaches the handler bound under the timer's ID
(``dispatcher.On.Timer.Timeout = run`` beside ``ui.Timer({'ID': 'Timer', ...})`` in a public Resolve
script) or the dispatcher's own (``disp.On.Timeout = tick`` beside ``ui.Timer({"ID": "Poll", ...})``
in another); which one a given Resolve delivers to is not documented, so ``timer_route`` picks one,
or both; the event names the timer in ``who``, as every UIManager event names its element."""
from __future__ import annotations

import time
from typing import Any, Callable, Dict, Optional

from .calls import api
from .comp import Composition, Tool
from .ui import BMD, Element, UIDispatcher, UIManager

__all__ = ["BMD", "Composition", "Element", "Fusion", "Host", "Tool", "UIDispatcher", "UIManager"]


class Fusion:
    """The ``fu`` object: the UIManager, the current comp."""

    def __init__(self, comp: Composition, studio: bool = True):
        self.UIManager: Optional[UIManager] = UIManager() if studio else None
        self._comp: Optional[Composition] = comp

    @api
    def GetCurrentComp(self) -> Optional[Composition]:
        return self._comp


class Host:
    """Fusion running the panel on ``comp``: ``open()`` runs the script as Fusion would. ``timer_route``:
    where the timer's Timeout goes (``dispatcher``, ``id`` or ``both``); ``studio`` False: the free Resolve."""

    def __init__(self, comp: Composition, timer_route: str = "dispatcher", studio: bool = True):
        self.comp, self.fusion, self.bmd, self.timer_route = comp, Fusion(comp, studio), BMD(), timer_route

    def show(self, comp: Composition) -> None:
        """The user goes to another comp (another clip on Resolve's Fusion page)."""
        self.comp = self.fusion._comp = comp

    def globals(self) -> Dict[str, Any]:
        """What a script of Scripts/Comp gets from Fusion."""
        return {"fu": self.fusion, "fusion": self.fusion, "comp": self.comp, "bmd": self.bmd}

    def open(self) -> Any:
        """Open the panel (its event loop returns at once: the test is the loop)."""
        from infusion.host_plugins.resolve import panel
        return panel.main(self.fusion, self.comp, self.bmd)

    @property
    def dispatcher(self) -> UIDispatcher:
        return self.bmd.dispatchers[-1]

    @property
    def window(self) -> Element:
        return self.dispatcher.windows[-1]

    @property
    def items(self) -> Dict[str, Element]:
        return self.window.items()

    def text(self, name: str) -> str:
        return str(self.items[name]._properties.get("Text", ""))

    def type(self, name: str, value: Any) -> None:
        """The user edits a field (a spin box's Value, a line edit's Text); a spin box whose value
        changed fires ValueChanged, as Qt's does."""
        element = self.items[name]
        if element._kind != "SpinBox":
            element.Text = value
            return
        before = element.Value
        element.Value = value
        handler = self.window.On.handler(name, "ValueChanged")
        if handler is not None and element.Value != before:
            handler({"who": name, "what": "ValueChanged", "Value": element.Value})

    def choose(self, name: str, text: str) -> None:
        """The user picks ``text`` in a combo box."""
        element = self.items[name]
        element.CurrentIndex = element.entries().index(text)

    def click(self, button: str) -> None:
        handler = self.window.On.handler(button, "Clicked")
        assert handler is not None, f"nothing handles {button}.Clicked"
        handler({"who": button, "what": "Clicked"})

    def close(self) -> None:
        handler = self.window.On.handler(self.window._properties["ID"], "Close")
        assert handler is not None, "nothing handles the window's Close"
        handler({"what": "Close"})

    def tick(self) -> None:
        """Qt's timer fires once (when the panel started it), to the handlers ``timer_route`` names."""
        assert self.fusion.UIManager is not None
        for timer in (t for t in self.fusion.UIManager.timers if t.running):
            who = timer._properties["ID"]
            routes = {"dispatcher": ("",), "id": (who,), "both": ("", who)}[self.timer_route]
            for handler in filter(None, (self.dispatcher.On.handler(element, "Timeout") for element in routes)):
                handler({"who": who, "what": "Timeout"})

    def pump(self, until: Callable[[], Any], timeout: float = 90.0) -> None:
        """Tick every 20 ms until ``until()`` holds."""
        deadline = time.monotonic() + timeout
        while True:
            self.tick()
            if until():
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; the status says {self.text('Status')!r}")
            time.sleep(0.02)

    def status(self) -> str:
        return self.text("Status")

    def loader(self) -> Optional[Tool]:
        """The result Loader the panel made, by the name it kept in the comp."""
        name = self.comp._data.get("Infusion", {}).get("ResultLoader")
        return self.comp.tool(name) if name else None
