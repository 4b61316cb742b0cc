"""Every call the adapter makes into the fake Fusion, recorded: tests/test_resolve_api.py holds each
one to an API description nobody here wrote."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Tuple, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Call:
    """``owner.name(*args, **kwargs)``; owner is the fake class (Composition, Tool, UIManager ...)."""

    owner: str
    name: str
    args: Tuple[Any, ...]
    kwargs: Dict[str, Any]


log: List[Call] = []


def record(owner: str, name: str, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> None:
    log.append(Call(owner, name, args, kwargs))


def api(method: F) -> F:
    """A method of Fusion's API: each call is recorded under the class's name."""
    @functools.wraps(method)
    def recorded(self: Any, *args: Any, **kwargs: Any) -> Any:
        record(type(self).__name__, method.__name__, args, kwargs)
        return method(self, *args, **kwargs)
    return recorded  # type: ignore[return-value]
