"""The layering rules of docs/architecture.md, as tests.

Each rule is checked twice: statically (every import statement of every file of the part, those
inside functions included) and at run time (the part's modules import in a fresh interpreter in
which the forbidden modules raise ImportError, so a forbidden import pulled in indirectly fails
too).
"""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from typing import Iterable, List, Sequence, Tuple

import pytest

REPO = Path(__file__).resolve().parents[1]

# The method works on tensors: no images, colour, sockets, wire or files.
METHOD_FORBIDDEN = ("OpenImageIO", "PyOpenColorIO", "zmq", "msgpack", "infusion.protocol", "infusion.engine.plates",
                    "infusion.engine.service", "infusion.engine.storage", "socket", "os", "pathlib", "tempfile",
                    "shutil", "io")
# The one exception: the declaration of a shot's choices, pure standard library, home of the values
# a Settings field shares with the choice that overrides it (CAMERAS). The rest of the protocol stays out.
METHOD_ALLOWED = ("infusion.protocol.shot",)
# Calls that read or write files, whatever module they come from.
METHOD_FORBIDDEN_CALLS = ("open", "torch.save", "torch.load")
# Host adapters load inside Nuke's and Resolve's own Python: no engine, no heavy libraries.
HOSTS_FORBIDDEN = ("torch", "numpy", "OpenImageIO", "PyOpenColorIO", "infusion.engine")


def module_name(path: Path, root: Path = REPO) -> str:
    """The installed module name of a file of engine/, protocol/ or host_plugins/ under ``root``."""
    relative = path.relative_to(root).with_suffix("")
    parts = list(relative.parts)
    parts[0] = {"engine": "infusion.engine", "protocol": "infusion.protocol",
                "host_plugins": "infusion.host_plugins"}[parts[0]]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_names(path: Path, root: Path = REPO) -> List[Tuple[int, str]]:
    """(line, absolute module name) of every import in a file, relative imports resolved."""
    package = module_name(path, root).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    names = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
                names += [(node.lineno, f"{module}.{alias.name}") for alias in node.names] if not node.module else [
                    (node.lineno, module)]
            else:
                names.append((node.lineno, node.module or ""))
    return names


def called_names(path: Path) -> List[Tuple[int, str]]:
    """(line, dotted name) of every call whose function is a plain or dotted name."""
    def dotted(node: ast.AST) -> str:
        if isinstance(node, ast.Name):
            return node.id
        if isinstance(node, ast.Attribute):
            inner = dotted(node.value)
            return f"{inner}.{node.attr}" if inner else ""
        return ""
    return [(node.lineno, dotted(node.func)) for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Call) and dotted(node.func)]


def is_under(name: str, prefixes: Iterable[str]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def violations(folder: Path, forbidden: Sequence[str], calls: Sequence[str] = (), root: Path = REPO,
               allowed: Sequence[str] = ()) -> List[str]:
    """Every forbidden import (not under ``allowed``) and call in the files under ``folder``, as 'file:line imports X'."""
    found = []
    for path in sorted(folder.rglob("*.py")):
        where = path.relative_to(root)
        found += [f"{where}:{line} imports {name}" for line, name in imported_names(path, root)
                  if is_under(name, forbidden) and not is_under(name, allowed)]
        found += [f"{where}:{line} calls {name}()" for line, name in called_names(path) if name in calls]
    return found


def imports_with_blocked(modules: Sequence[str], blocked: Sequence[str], extra_path: Sequence[Path] = (),
                         preload: Sequence[str] = (), allowed: Sequence[str] = ()) -> subprocess.CompletedProcess:
    """Import ``modules`` in a fresh interpreter in which every module under ``blocked`` raises
    ImportError, except those named in ``allowed`` (exactly); ``preload`` (the hosts' fakes, which
    may use numpy) is imported before the block."""
    script = (
        "import sys\n"
        f"sys.path[:0] = {[str(p) for p in extra_path]!r}\n"
        f"for module in {list(preload)!r}:\n"
        "    __import__(module)\n"
        f"BLOCKED = {list(blocked)!r}\n"
        f"ALLOWED = {list(allowed)!r}\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name not in ALLOWED and any(name == b or name.startswith(b + '.') for b in BLOCKED):\n"
        "            raise ImportError('blocked ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        f"for module in {list(modules)!r}:\n"
        "    __import__(module)\n"
        "print('ok')\n"
    )
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)


def test_the_method_imports_no_files_images_colour_sockets_or_wire() -> None:
    assert violations(REPO / "engine" / "method", METHOD_FORBIDDEN, METHOD_FORBIDDEN_CALLS, allowed=METHOD_ALLOWED) == []


def test_the_method_loads_with_every_forbidden_module_blocked() -> None:
    modules = [module_name(p) for p in sorted((REPO / "engine" / "method").glob("*.py"))]
    # os and io are imported by torch itself; the static test above keeps them out of the method.
    runtime_blocked = [name for name in METHOD_FORBIDDEN if name not in ("os", "io", "pathlib", "tempfile", "shutil", "socket")]
    # The allowed declaration loads its package's __init__ (a docstring); every other protocol module stays blocked.
    result = imports_with_blocked(modules, runtime_blocked, allowed=("infusion.protocol", *METHOD_ALLOWED))
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


def test_host_plugins_import_no_engine_and_no_heavy_libraries() -> None:
    assert violations(REPO / "host_plugins", HOSTS_FORBIDDEN) == []


def test_host_plugins_load_with_the_engine_and_heavy_libraries_blocked() -> None:
    modules = [module_name(p) for p in sorted((REPO / "host_plugins").rglob("*.py"))]
    result = imports_with_blocked(modules, HOSTS_FORBIDDEN, [REPO / "tests" / "fake_nuke"], preload=["nuke"])
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


def test_protocol_imports_nothing_from_the_engine() -> None:
    assert violations(REPO / "protocol", ("infusion.engine", "infusion.host_plugins", "torch", "numpy")) == []


@pytest.mark.parametrize("part, allowed, source, forbidden, expected", [
    ("engine/method", "from .settings import Settings", "import OpenImageIO\n", METHOD_FORBIDDEN, "imports OpenImageIO"),
    ("engine/method", "from .settings import Settings", "def f():\n    from infusion.protocol import wire\n",
     METHOD_FORBIDDEN, "imports infusion.protocol"),
    ("engine/method", "from .settings import Settings", "def f(p):\n    return open(p)\n", METHOD_FORBIDDEN, "calls open()"),
    ("host_plugins/nuke", "from ..common import settings", "import torch\n", HOSTS_FORBIDDEN, "imports torch"),
    ("host_plugins/nuke", "from ..common import settings", "from ...engine import model\n", HOSTS_FORBIDDEN,
     "imports infusion.engine"),
])
def test_the_rules_catch_a_forbidden_import(tmp_path, part, allowed, source, forbidden, expected) -> None:
    """The checker itself fails on a planted violation (a check that cannot fail proves nothing)."""
    folder = tmp_path / part
    folder.mkdir(parents=True)
    (folder / "planted.py").write_text(allowed + "\n" + source)
    found = violations(folder, forbidden, METHOD_FORBIDDEN_CALLS, root=tmp_path)
    assert any(expected in item and "planted.py" in item for item in found), found
    assert not any("settings" in item for item in found), found  # an allowed relative import passes


def test_the_method_may_import_the_shot_declaration_and_nothing_else_of_the_protocol(tmp_path) -> None:
    folder = tmp_path / "engine" / "method"
    folder.mkdir(parents=True)
    (folder / "planted.py").write_text("from infusion.protocol.shot import CAMERAS\n"
                                       "from infusion.protocol import messages\n"
                                       "from infusion.protocol.wire import encode\n")
    found = violations(folder, METHOD_FORBIDDEN, METHOD_FORBIDDEN_CALLS, root=tmp_path, allowed=METHOD_ALLOWED)
    assert [item.split(" imports ")[1] for item in found] == ["infusion.protocol", "infusion.protocol.wire"], found
    assert "ok" in imports_with_blocked(["infusion.protocol.shot"], ["infusion.protocol", "zmq", "msgpack"],
                                        allowed=("infusion.protocol", *METHOD_ALLOWED)).stdout  # the standard library only
