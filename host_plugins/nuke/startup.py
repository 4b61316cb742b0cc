"""Nuke start-up: the private pyzmq and msgpack built for the Python this Nuke runs, or a clear message.

One plugin folder serves Nuke 14, 15 and 16 (Python 3.9, 3.10, 3.11), but a pyzmq build serves one
ABI, so the installer keeps one folder per interpreter, ``site-packages-cp310`` and so on, each
with ``infusion_abi.json``: the ABI of the interpreter that imported pyzmq and msgpack from it
after pip ran. At start-up the plugin's ``init.py`` calls :func:`add_site_packages` (the folder of
this Python's ``sys.version_info`` goes first on ``sys.path`` when its record matches) and its
``menu.py`` calls :func:`register_menu`: the Infusion menu, or, when no matching folder exists, an
Infusion entry that says what to install instead of an ImportError. Standard library only here;
``nuke`` is imported where it is used, so the installer (outside Nuke) can import this module.
"""
from __future__ import annotations

import json
import os
import sys
import sysconfig
from typing import Dict, List, Mapping, Optional

SITE_PREFIX = "site-packages-"
ABI_RECORD = "infusion_abi.json"
_problem: Optional[str] = None  # set by add_site_packages: why the node cannot start in this Nuke


def interpreter_abi() -> Dict[str, str]:
    """What a pyzmq build must match in the running Python: ``tag`` (cp310), ``soabi``, ``platform``."""
    return {"tag": f"cp{sys.version_info[0]}{sys.version_info[1]}", "soabi": str(sysconfig.get_config_var("SOABI") or ""),
            "platform": sysconfig.get_platform()}


def site_folder(plugin: str, tag: str) -> str:
    """The private site-packages of the interpreter ``tag`` in the plugin folder."""
    return os.path.join(plugin, SITE_PREFIX + tag)


def installed_tags(plugin: str) -> List[str]:
    """The interpreters the plugin folder holds packages for."""
    names = os.listdir(plugin) if os.path.isdir(plugin) else []
    return sorted(name[len(SITE_PREFIX):] for name in names
                  if name.startswith(SITE_PREFIX) and os.path.isdir(os.path.join(plugin, name)))


def read_record(folder: str) -> Dict[str, str]:
    """The ABI the installer recorded in ``folder`` (empty when it recorded none)."""
    try:
        with open(os.path.join(folder, ABI_RECORD), encoding="utf-8") as stream:
            record = json.load(stream)
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def site_problem(plugin: str, running: Mapping[str, str]) -> Optional[str]:
    """Why the plugin's packages do not serve the ``running`` interpreter, or None when they do
    (or when the plugin holds none: the studio provides pyzmq and msgpack)."""
    tags = installed_tags(plugin)
    if not tags:
        return None
    fix = ("install them for this Nuke: python -m infusion.host_plugins.nuke.install --python "
           "<this Nuke's python3 or python.exe>")
    if running["tag"] not in tags:
        return (f"Infusion: this Nuke runs Python {running['tag']}, but {plugin} holds pyzmq and msgpack for "
                f"{', '.join(tags)} only; {fix}")
    record = read_record(site_folder(plugin, running["tag"]))
    wanted = {key: running[key] for key in ("tag", "soabi", "platform")}
    if {key: record.get(key) for key in wanted} != wanted:
        found = ", ".join(f"{key} {record.get(key, '?')}" for key in wanted) if record else "no record of a working import"
        return (f"Infusion: the pyzmq and msgpack in {site_folder(plugin, running['tag'])} were not checked with this "
                f"Nuke's Python ({', '.join(f'{key} {value}' for key, value in wanted.items())}; found {found}); {fix}")
    return None


def add_site_packages(plugin: str, running: Optional[Mapping[str, str]] = None) -> Optional[str]:
    """``init.py``: put this interpreter's private packages first on ``sys.path``; returns the
    problem (also kept for :func:`register_menu`) when they are missing or built for another ABI."""
    global _problem
    running = interpreter_abi() if running is None else running
    _problem = site_problem(plugin, running)
    folder = site_folder(plugin, running["tag"])
    if _problem is None and os.path.isdir(folder) and folder not in sys.path:
        sys.path.insert(0, folder)
    if _problem is not None:
        print(_problem, file=sys.stderr)
    return _problem


def register_menu() -> None:
    """``menu.py``: the Infusion menu and callbacks, or an Infusion entry that shows the problem."""
    import nuke
    if _problem is None:
        from . import menu
        menu.register()
        return
    problem = _problem
    nuke.menu("Nodes").addMenu("Infusion").addCommand("Infusion", lambda: nuke.message(problem))
