"""host_plugins/ and protocol/ run inside the host's own Python, which can be as old as 3.7
(Resolve 17 and Fusion 16-17 ran 3.6-3.7 scripts; fusionscript loads whatever Python 3 it finds):
every file parses as Python 3.7, and uses none of the later syntax or standard-library names a
3.7 parse lets through (a runtime ``list[int]``, ``X | Y`` in an evaluated annotation, an f-string
``=``, ``str.removeprefix``, ``functools.cached_property`` ...)."""
from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Iterator, List, Set

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECKED = sorted(p for folder in ("host_plugins", "protocol") for p in (ROOT / folder).rglob("*.py"))
BUILTIN_GENERICS = {"list", "dict", "set", "frozenset", "tuple", "type"}  # subscriptable from 3.9
LATER_NAMES = {  # attributes and modules of the standard library newer than 3.7
    "removeprefix", "removesuffix", "cached_property", "singledispatchmethod", "bit_count", "pairwise", "to_thread",
    "isqrt", "prod", "dist", "Literal", "Protocol", "Final", "TypedDict", "get_origin", "get_args", "ParamSpec",
    "TypeAlias", "Self", "zoneinfo", "graphlib", "tomllib", "metadata",
}
SELF_DOCUMENTING = re.compile(r"[^=!<>]=\s*(![rsa])?\s*(:[^{}]*)?\}")  # f"{x=}", f"{x = !r}", f"{x=:>4}"


def _annotations(tree: ast.AST) -> Iterator[ast.AST]:
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            arguments = node.args
            every = arguments.posonlyargs + arguments.args + arguments.kwonlyargs + [arguments.vararg, arguments.kwarg]
            yield from (a.annotation for a in every if a is not None and a.annotation is not None)
            if node.returns is not None:
                yield node.returns
        elif isinstance(node, ast.AnnAssign):
            yield node.annotation


def later_syntax(source: str) -> List[str]:
    """What in ``source`` Python 3.7 would not run, as ``line: what``."""
    try:
        tree = ast.parse(source, feature_version=(3, 7))
    except SyntaxError as error:
        return [f"{error.lineno}: {error.msg}"]
    postponed = any(isinstance(n, ast.ImportFrom) and n.module == "__future__" and any(a.name == "annotations" for a in n.names)
                    for n in tree.body)
    annotation_nodes: Set[int] = {id(n) for a in _annotations(tree) for n in ast.walk(a)}
    evaluated = set() if postponed else annotation_nodes  # annotation nodes that Python evaluates at runtime
    found = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.NamedExpr):
            found.append(f"{line}: an assignment expression (:=)")
        elif isinstance(node, ast.arguments) and node.posonlyargs:
            found.append(f"{line}: positional-only parameters")
        elif isinstance(node, ast.Subscript) and (id(node) in evaluated or id(node) not in annotation_nodes) \
                and isinstance(node.value, ast.Name) and node.value.id in BUILTIN_GENERICS:
            found.append(f"{line}: {node.value.id}[...] at runtime")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr) and id(node) in evaluated:
            found.append(f"{line}: X | Y in an evaluated annotation")
        elif isinstance(node, ast.JoinedStr) and SELF_DOCUMENTING.search(ast.get_source_segment(source, node) or ""):
            found.append(f"{line}: an f-string '='")
        elif isinstance(node, ast.Attribute) and node.attr in LATER_NAMES:
            found.append(f"{line}: .{node.attr} (newer than 3.7)")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] + ([node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
            found += [f"{line}: imports {name} (newer than 3.7)" for name in names if set(name.split(".")) & LATER_NAMES]
    return sorted(set(found), key=lambda text: int(text.split(":")[0]))


@pytest.mark.parametrize("path", CHECKED, ids=lambda p: str(p.relative_to(ROOT)))
def test_runs_on_python_37(path: Path) -> None:
    assert later_syntax(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("source, what", [
    ("if (n := 3):\n    pass\n", "3.8"), ("def f(a, /):\n    pass\n", "3.8"), ("match x:\n    case 1:\n        pass\n", "3.10"),
    ("x = list[int]\n", "list[...] at runtime"), ("def f(a: list[int]):\n    pass\n", "list[...] at runtime"),
    ("def f(a: 'int | None', b: int | None):\n    pass\n", "X | Y"), ("x = f'{y=}'\n", "f-string"),
    ("x = f'{y = !r}'\n", "f-string"), ("x = 'a'.removeprefix('a')\n", "removeprefix"),
    ("from functools import cached_property\n", "cached_property"), ("import importlib.metadata\n", "metadata"),
])
def test_the_check_finds_what_37_cannot_run(source: str, what: str) -> None:
    assert any(what in found for found in later_syntax(source)), later_syntax(source)


def test_the_check_lets_37_code_through() -> None:
    source = ("from __future__ import annotations\nfrom typing import List\n"
              "def f(a: list[int] | None, b: List[int]) -> dict[str, int]:\n    return {f'{a == b}': 1, f'{a!r:>4}': 2}\n"
              "x: tuple[int, ...] = ()\n")
    assert later_syntax(source) == []
