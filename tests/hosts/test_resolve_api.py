"""The Resolve/Fusion panel and the fake Fusion held to an API description nobody here wrote.

``fusionscript-stubs`` 21.0.0 (PyPI) types Resolve's own objects (Resolve, Project, Timeline ...)
but leaves ``Fusion`` and ``FusionComp`` empty ("No documentation available"): it describes none of
the comp API the panel uses. The description used is the mock of ``resolvescript`` 1.2.0 (PyPI):
``ResolveScript/sandbox/api.py`` (FakeFusion, FakeComp, FakeTool) for the comp, and
``ResolveScript/ui/backends/mock.py`` (MockUIManager with the element names of ``base.py``'s
ElementTypes, MockUIDispatcher, MockElement) for the UIManager.

A session in the fake (open the panel, Inpaint, the timer, Re-attach to a cached job, Send to
farm, Cancel, close) records every call the panel makes. Each must carry no keyword arguments
(Fusion's Python bridge is positional) and bind to the signature of the description's method of the
same name, or be one of the calls no description covers, which are exactly these:

    Composition.Render(settings)      Composition.IsRendering()   Composition.AbortRender()
    Composition.Lock()                Composition.Unlock()
    Composition.StartUndo(name)       Composition.EndUndo(keep)   Composition.SetData(name, value)
    Composition.GetData(name)         Tool.Delete()               FlowView.GetPosTable(tool)
    UIManager.Timer(properties)       Element.Start()             Element.Stop()
    BMD.UIDispatcher(ui)

(Their signatures follow the Fusion 8 Scripting Guide, Composition.md of
EmberLightVFX/Fusion-Script-Docs for IsRendering and AbortRender, and public scripts for the
Timer.) No description covers these attributes either: ``fu.UIManager``,
``comp.CurrentFrame.FlowView``, the dispatcher's ``On.Timeout`` and ``On[timer ID].Timeout`` (the
timer's event), and the widgets' properties (Text, Value, CurrentText, CurrentIndex), which the mock
keeps in a free-form table.
"""
from __future__ import annotations

import ast
import inspect
import shutil
from pathlib import Path
from typing import Any, Dict, List, Set, Tuple

import pytest
from ResolveScript.sandbox.api import FakeComp, FakeFusion, FakeTool
from ResolveScript.ui.backends.base import ElementTypes
from ResolveScript.ui.backends.mock import MockBackend, MockElement, MockUIDispatcher

import fake_fusion
from fake_fusion import Host, calls
from resolve_support import open_panel, shot_comp
from service_support import FIRST, LAST, make_shot

from infusion.host_plugins.common import ResultCache
from infusion.host_plugins.resolve import panel

ADAPTER = Path(__file__).resolve().parents[2] / "host_plugins" / "resolve"
DESCRIBED: Dict[str, Any] = {"Fusion": FakeFusion, "Composition": FakeComp, "Tool": FakeTool,
                             "UIDispatcher": MockUIDispatcher, "Element": MockElement}
UNCOVERED = {("Composition", "Render"), ("Composition", "IsRendering"), ("Composition", "AbortRender"), ("Composition", "Lock"), ("Composition", "Unlock"), ("Composition", "StartUndo"),
             ("Composition", "EndUndo"), ("Composition", "SetData"), ("Composition", "GetData"), ("Tool", "Delete"),
             ("FlowView", "GetPosTable"), ("UIManager", "Timer"), ("Element", "Start"), ("Element", "Stop"),
             ("BMD", "UIDispatcher")}
ELEMENT_FACTORY = MockBackend().ui.Label  # every MockUIManager element is made by the same factory


def described(owner: str, name: str) -> Any:
    """The description's callable for ``owner.name``, or None."""
    if owner == "UIManager":
        return ELEMENT_FACTORY if ElementTypes.is_documented(name) else None
    return getattr(DESCRIBED.get(owner), name, None)


def binds(function: Any, args: Tuple[Any, ...]) -> bool:
    parameters = list(inspect.signature(function).parameters)
    try:
        inspect.signature(function).bind(*((None,) if parameters[:1] == ["self"] else ()), *args)
    except TypeError:
        return False
    return True


@pytest.fixture(scope="module")
def session(tmp_path_factory) -> List[calls.Call]:
    """Every call the panel made in a session without an engine."""
    root = tmp_path_factory.mktemp("resolve_api")
    make_shot(root / "shot")
    cache = ResultCache(str(root / "cache"), "job1")  # a finished job, whole in the cache
    for frame in range(FIRST, LAST + 1):
        cache.write_frame(frame, 1, 1, (root / "shot" / f"plate.{frame}.exr").read_bytes())
    cache.record(frames=[FIRST, LAST], variants=1, state="done")
    calls.log.clear()
    comp = shot_comp(root / "shot", root / "deliver")
    host, _ = open_panel(comp, "tcp://127.0.0.1:9", root / "cache", Job="job1", FarmFolder=str(root / "farm"),
                         InfusionCommand=str(root / "missing"))
    host.click("Reattach")
    host.tick()
    assert host.status() == "done (cached)" and host.loader() is not None
    host.type("ShowVariant", 0)  # the Loader shows the chosen variant (of one: variant 1)
    host.click("SendToFarm")
    host.pump(lambda: not host.status().startswith("rendering"), timeout=30)  # then no farm command to run
    host.click("Inpaint")  # its render is stopped when the panel closes
    host.click("Cancel")
    host.click("RefreshTools")
    host.close()
    assert [t._regid for t in comp._tools].count("Saver") == 1 and not comp._rendering  # the render stopped, its Savers gone
    assert comp.GetAttrs()["COMPN_RenderStart"] == FIRST and comp.dialogs == []
    panel.main(host.fusion, None, fake_fusion.BMD())  # a script run without a comp: Fusion's current one
    shutil.rmtree(root / "farm")
    return list(calls.log)


def test_every_call_binds_to_the_description_or_is_listed_as_uncovered(session: List[calls.Call]) -> None:
    made = {(c.owner, c.name) for c in session}
    assert {("Composition", "Render"), ("Composition", "AddTool"), ("Tool", "SetInput"), ("UIDispatcher", "AddWindow"),
            ("UIManager", "ComboBox"), ("Fusion", "GetCurrentComp")} <= made
    assert [c for c in session if c.kwargs] == []
    unbound = [f"{c.owner}.{c.name}{c.args!r}" for c in session
               if (c.owner, c.name) not in UNCOVERED and not (described(c.owner, c.name) and binds(described(c.owner, c.name), c.args))]
    assert unbound == []
    assert made & UNCOVERED == UNCOVERED  # the list is no longer than what the panel does
    assert all(described(owner, name) is None for owner, name in UNCOVERED)  # ... and no shorter than what is covered
    assert all(f"{owner}.{name}(" in (__doc__ or "") for owner, name in UNCOVERED)


def _camel_calls(path: Path) -> Set[str]:
    """``x.Name(...)`` calls in ``path``, calls into imported modules left out."""
    tree = ast.parse(path.read_text())
    modules = {alias.asname or alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
               for alias in node.names}
    return {node.func.attr for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr[:1].isupper() and not (isinstance(node.func.value, ast.Name) and node.func.value.id in modules)}


def test_every_fusion_method_the_adapter_names_is_described_or_listed() -> None:
    """A static check: also the calls of paths the session did not take."""
    named = set().union(*(_camel_calls(path) for path in ADAPTER.glob("*.py")))
    assert {"Render", "AddTool", "GetPosTable", "AddWindow", "Timer", "SpinBox"} <= named
    known = {name for owner, name in UNCOVERED} | set(ElementTypes.DOCUMENTED | ElementTypes.LAYOUT) | \
        {name for cls in DESCRIBED.values() for name in dir(cls) if name[:1].isupper()}
    assert sorted(named - known) == []


def test_the_fake_has_only_described_or_listed_methods() -> None:
    """The fake implements nothing the description lacks but the listed calls."""
    extra = []
    for owner in ("Fusion", "Composition", "Tool", "FlowView", "UIDispatcher", "Element", "BMD"):
        cls = getattr(fake_fusion, owner, None) or getattr(fake_fusion.comp, owner)
        for name, method in vars(cls).items():
            if name[:1].isupper() and inspect.isfunction(method) and (owner, name) not in UNCOVERED and described(owner, name) is None:
                extra.append(f"{owner}.{name}")
    assert extra == []
    assert set(fake_fusion.ui.ELEMENTS) - {"Window", "Timer"} <= set(ElementTypes.DOCUMENTED | ElementTypes.LAYOUT)
