"""Test controls of the fake ``nuke``: the main thread's queue, buttons, knob edits, saving and
opening scripts (what Nuke writes to a .nk: every node, its knobs and their expressions, user
knobs, inputs), startup."""
from __future__ import annotations

import json
import runpy
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import nuke


def pump(until: Optional[Callable[[], Any]] = None, timeout: float = 60.0) -> None:
    """Run the calls queued for the main thread; with ``until``, keep at it until it holds."""
    deadline = time.monotonic() + timeout
    while True:
        while not nuke._state.main_thread.empty():
            call, args, kwargs = nuke._state.main_thread.get()
            call(*args, **kwargs)
        if until is None or until():
            return
        if time.monotonic() > deadline:
            raise AssertionError("timed out pumping the main thread")
        time.sleep(0.02)


def press(node: nuke.Node, button: str) -> None:
    node[button].execute()  # type: ignore[attr-defined]


def user_sets(node: nuke.Node, knob: str, value: Any) -> None:
    """A knob edited in the panel: its value, then the node's knobChanged script."""
    node[knob].setValue(value)
    if node["knobChanged"].value():
        nuke._run_script(str(node["knobChanged"].value()), node, node[knob])


def messages() -> List[str]:
    return nuke._state.messages


def tasks() -> List[nuke.ProgressTask]:
    return nuke._state.tasks


def _dump(node: nuke.Node) -> Dict[str, Any]:
    user = [k for k in node._knobs.values() if getattr(k, "_user", False)]
    return {"class": node.Class(), "name": node.name(),
            "knobs": {n: k.value() for n, k in node._knobs.items() if not getattr(k, "_user", False)},
            "expressions": {n: k._expression for n, k in node._knobs.items() if k._expression},
            "user": [[k.Class(), list(k._args), k._value, k.visible()] for k in user],
            "inputs": [i.name() if i is not None else None for i in node._inputs],
            "children": [_dump(child) for child in getattr(node, "_children", [])]}


def _load(group: nuke.Group, saved: List[Dict[str, Any]]) -> None:
    group.begin()
    try:
        made = {}
        for data in saved:
            node = nuke._new(data["class"], {"name": data["name"]})
            for name, value in data["knobs"].items():
                node[name]._value = value
            for name, expression in data["expressions"].items():
                node[name].setExpression(expression)
            for cls, args, value, visible in data["user"]:
                knob = getattr(nuke, cls)(*args)
                node.addKnob(knob)
                knob._value, knob._visible = value, visible
            if data["children"]:
                _load(node, data["children"])
            made[data["name"]] = (node, data["inputs"])
        for node, inputs in made.values():
            for index, name in enumerate(inputs):
                node.setInput(index, made[name][0] if name else None)
    finally:
        group.end()


def save_script() -> str:
    return json.dumps({"root": _dump(nuke.root())})


def close_script() -> None:
    """A new, empty script; menus and callbacks stay (they belong to the session)."""
    nuke._state.root = nuke.Root("Root")
    nuke._state.context = [nuke._state.root]
    nuke._state.selected = None


def open_script(text: str) -> None:
    """Close, load the saved nodes, then run the onScriptLoad callbacks, as Nuke does."""
    close_script()
    saved = json.loads(text)["root"]
    for name, value in saved["knobs"].items():
        nuke.root()[name]._value = value
    _load(nuke.root(), saved["children"])
    for call, args, kwargs in nuke._state.on_script_load:
        call(*args, **kwargs)


def start_nuke(plugin_path: Path) -> None:
    """Nuke's startup: init.py of each plugin path (those it adds included), then each menu.py."""
    done: List[str] = []
    nuke._state.plugin_paths.append(str(plugin_path))
    while len(done) < len(nuke._state.plugin_paths):
        path = next(p for p in nuke._state.plugin_paths if p not in done)
        done.append(path)
        if (Path(path) / "init.py").is_file():
            runpy.run_path(str(Path(path) / "init.py"), run_name="__main__")
    for path in done:
        if (Path(path) / "menu.py").is_file():
            runpy.run_path(str(Path(path) / "menu.py"), run_name="__main__")
