"""The Nuke adapter and the fake ``nuke`` held to an API description nobody here wrote: the
``types-nuke`` stubs (PyPI) of Foundry's Python API. mypy checks every call the adapter makes;
an AST comparison checks that every name and signature of the fake is the stubs'."""
from __future__ import annotations

import ast
import importlib.metadata
import inspect
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional

import pytest

from nuke_support import nuke

REPO = Path(__file__).resolve().parents[2]
ADAPTER = REPO / "host_plugins" / "nuke"
STUB_MODULES = ("__init__", "_nuke", "callbacks", "executeInMain", "overrides", "utils", "colorspaces", "scripts")


def stub_folder() -> Path:
    files = importlib.metadata.distribution("types-nuke").files or []
    init = next(f for f in files if str(f).replace("\\", "/") == "nuke-stubs/__init__.pyi")
    return Path(str(init.locate())).parent


class Stubs:
    """Module-level functions (with overloads), classes (with their bases) and names of the stubs."""

    def __init__(self, folder: Path):
        self.functions: Dict[str, List[ast.FunctionDef]] = {}
        self.classes: Dict[str, ast.ClassDef] = {}
        self.names: set = set()
        for module in STUB_MODULES:
            for item in ast.parse((folder / f"{module}.pyi").read_text()).body:
                if isinstance(item, ast.FunctionDef):
                    self.functions.setdefault(item.name, []).append(item)
                elif isinstance(item, ast.ClassDef):
                    self.classes[item.name] = item
                elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    self.names.add(item.target.id)
        self.names |= set(self.functions) | set(self.classes)

    def methods(self, cls: str, name: str) -> List[ast.FunctionDef]:
        """The stub class's ``name`` methods, looked up through its bases."""
        node: Optional[ast.ClassDef] = self.classes.get(cls)
        while node is not None:
            found = [i for i in node.body if isinstance(i, ast.FunctionDef) and i.name == name]
            if found:
                return found
            bases = [b.id for b in node.bases if isinstance(b, ast.Name) and b.id in self.classes]
            node = self.classes[bases[0]] if bases else None
        return []


def compatible(fake, stubs: List[ast.FunctionDef], method: bool) -> bool:
    """The fake takes the same parameters as one of the stub's overloads (names, order, which are
    optional); a stub that takes only ``*args, **kwargs`` says nothing and accepts any fake."""
    parameters = list(inspect.signature(fake).parameters.values())[1 if method else 0:]
    for stub in stubs:
        arguments = stub.args.args[1:] if method else stub.args.args
        if not arguments and (stub.args.vararg or stub.args.kwarg):
            return True
        required = len(arguments) - len(stub.args.defaults)
        names = [(a.arg, index >= required) for index, a in enumerate(arguments)]
        if names == [(p.name, p.default is not inspect.Parameter.empty) for p in parameters]:
            return True
    return False


@pytest.fixture(scope="module")
def stubs() -> Stubs:
    return Stubs(stub_folder())


def test_the_adapter_type_checks_against_the_stubs(tmp_path: Path) -> None:
    tree = tmp_path / "tree" / "infusion"  # the layout the installer writes into the plugin folder
    tree.mkdir(parents=True)
    for package in ("protocol", "host_plugins"):
        os.symlink(REPO / package, tree / package)
    command = [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache"), "--namespace-packages",
               "--explicit-package-bases", "--follow-imports=silent", "--no-error-summary",
               "infusion/host_plugins/nuke", "infusion/host_plugins/common"]
    done = subprocess.run(command, cwd=tree.parent, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, MYPYPATH=str(tree.parent)))
    assert done.returncode == 0, done.stdout + done.stderr
    canary = tmp_path / "canary.py"  # proof that mypy reads the stubs: a wrong call is caught
    canary.write_text("import nuke\nnuke.execute('Write1', 1)\nnuke.createNodes('Group')\n")
    done = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache"), str(canary)],
                          capture_output=True, text=True, timeout=120)
    assert "No overload variant of \"execute\"" in done.stdout and "createNodes" in done.stdout, done.stdout


def test_every_nuke_name_the_adapter_uses_is_in_the_stubs_and_the_fake(stubs: Stubs) -> None:
    used = set()
    for path in ADAPTER.glob("*.py"):
        for item in ast.walk(ast.parse(path.read_text())):
            if isinstance(item, ast.Attribute) and isinstance(item.value, ast.Name) and item.value.id == "nuke":
                used.add(item.attr)
    assert {"createNode", "execute", "toNode", "ProgressTask", "executeInMainThread", "PyScript_Knob", "nodes"} <= used
    assert sorted(used - stubs.names) == []
    assert sorted(name for name in used if not hasattr(nuke, name)) == []


def test_the_fake_has_only_the_stubs_names_and_signatures(stubs: Stubs) -> None:
    problems = []
    for name, value in vars(nuke).items():
        if name.startswith("_"):
            continue
        defined_here = getattr(value, "__module__", None) == nuke.__name__ or type(value).__module__ == nuke.__name__
        if not defined_here:
            continue  # imports (numpy, typing, ...)
        if name not in stubs.names:
            problems.append(f"nuke.{name} is not in the stubs")
        elif inspect.isfunction(value) and not compatible(value, stubs.functions.get(name, []), method=False):
            problems.append(f"nuke.{name}{inspect.signature(value)} differs from the stubs")
        elif inspect.isclass(value):
            for method_name, method in vars(value).items():
                if method_name.startswith("_") or not inspect.isfunction(method):
                    continue
                found = stubs.methods(name, method_name)
                if not found:
                    problems.append(f"nuke.{name}.{method_name} is not in the stubs")
                elif not compatible(method, found, method=True):
                    problems.append(f"nuke.{name}.{method_name}{inspect.signature(method)} differs from the stubs")
    assert problems == []
