"""Install the Infusion node into a Nuke plugin folder; ``--uninstall`` removes only what it added.

    python -m infusion.host_plugins.nuke.install [--target DIR | --studio] [--python NUKE_PYTHON]
        [--python-version 3.10] [--wheels DIR] [--no-deps]
    python -m infusion.host_plugins.nuke.install --uninstall [--target DIR | --studio]

Into the target (``~/.nuke`` by default; ``--studio``: the first folder of ``$NUKE_PATH``) it writes
``infusion_plugin/`` (a self-contained ``infusion`` package tree: protocol, host_plugins/common,
host_plugins/nuke; its own init.py and menu.py; ``site-packages/`` with pyzmq and msgpack
installed by Nuke's interpreter) and appends one marked block to the target's ``init.py`` that adds
the plugin folder to Nuke's plugin path. Standard library only: any Python 3.9+ runs it.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path
from typing import List, Mapping, Optional

from ..plugin_install import (
    InstallError, add_dependency_arguments, copy_sources, install_dependencies, read_manifest, write_manifest)

PLUGIN = "infusion_plugin"
BEGIN = "# >>> infusion: added by the Infusion installer; its --uninstall removes this block >>>\n"
END = "# <<< infusion <<<\n"
PLUGIN_INIT = '''"""Added by the Infusion installer: the plugin's private packages (pyzmq, msgpack) come first."""
import sys

for _path in ({site!r}, {plugin!r}):
    if _path not in sys.path:
        sys.path.insert(0, _path)
'''
PLUGIN_MENU = '''"""Added by the Infusion installer: the Infusion menu, and jobs found again when a script opens."""
from infusion.host_plugins.nuke import menu as _infusion_menu

_infusion_menu.register()
'''


def default_target(studio: bool, environ: Optional[Mapping[str, str]] = None) -> Path:
    """``~/.nuke``, or with ``studio`` the first folder of ``$NUKE_PATH``."""
    environ = os.environ if environ is None else environ
    if not studio:
        return Path(os.path.expanduser("~")) / ".nuke"
    folders = [f for f in environ.get("NUKE_PATH", "").split(os.pathsep) if f]
    if not folders:
        raise InstallError("--studio needs NUKE_PATH to name the studio plugin folder")
    return Path(folders[0])


def _add_block(path: Path, block: str) -> dict:
    """Append ``block`` to ``path``; what to undo (was the file created, was a newline added)."""
    existed = path.exists()
    text = path.read_text(encoding="utf-8") if existed else ""
    if BEGIN in text:
        raise InstallError(f"{path} already holds an Infusion block; uninstall first")
    newline = bool(text) and not text.endswith("\n")
    path.write_text(text + ("\n" if newline else "") + BEGIN + block + END, encoding="utf-8")
    return {"created": not existed, "added_newline": newline}


def _remove_block(path: Path, undo: dict) -> None:
    if not path.exists():
        return
    text = path.read_text(encoding="utf-8")
    start = text.find(BEGIN)
    end = text.find(END, start)
    if start < 0 or end < 0:
        return
    text = text[:start] + text[end + len(END):]
    if undo.get("added_newline") and text.endswith("\n"):
        text = text[:-1]
    if undo.get("created") and not text.strip():
        path.unlink()
    else:
        path.write_text(text, encoding="utf-8")


def install(target: Path, python: str, wheels: Optional[str] = None, python_version: Optional[str] = None,
            deps: bool = True) -> Path:
    """Install into ``target``; returns the plugin folder."""
    target = target.absolute()
    plugin = target / PLUGIN
    if read_manifest(plugin) is not None:
        uninstall(target)
    elif plugin.exists():
        raise InstallError(f"{plugin} exists but was not made by this installer; move it away first")
    target_created = not target.exists()
    target.mkdir(parents=True, exist_ok=True)
    copy_sources(plugin, "nuke")
    site = plugin / "site-packages"
    site.mkdir()
    (plugin / "init.py").write_text(PLUGIN_INIT.format(site=str(site), plugin=str(plugin)), encoding="utf-8")
    (plugin / "menu.py").write_text(PLUGIN_MENU, encoding="utf-8")
    if deps:
        try:
            install_dependencies(python, site, wheels, python_version)
        except InstallError:
            shutil.rmtree(plugin)
            if target_created:
                target.rmdir()
            raise
    undo = _add_block(target / "init.py", f"import nuke\nnuke.pluginAddPath({str(plugin)!r})\n")
    write_manifest(plugin, {"init.py": undo, "target_created": target_created})
    return plugin


def uninstall(target: Path) -> bool:
    """Remove the plugin folder and the init.py block; False when nothing was installed there."""
    plugin = target.absolute() / PLUGIN
    undo = read_manifest(plugin)
    if undo is None:
        return False
    _remove_block(target.absolute() / "init.py", undo["init.py"])
    shutil.rmtree(plugin)
    if undo["target_created"] and not any(target.iterdir()):
        target.rmdir()
    return True


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infusion.host_plugins.nuke.install", description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--target", type=Path, help="the plugin folder (default ~/.nuke)")
    where.add_argument("--studio", action="store_true", help="the first folder of $NUKE_PATH")
    add_dependency_arguments(parser, sys.executable, "Nuke", "3.9 Nuke 14, 3.10 Nuke 15, 3.11 Nuke 16")
    parser.add_argument("--uninstall", action="store_true", help="remove what install added")
    args = parser.parse_args(argv)
    try:
        target = args.target or default_target(args.studio)
        if args.uninstall:
            print(f"removed the Infusion node from {target}" if uninstall(target) else f"nothing of Infusion's in {target}")
            return 0
        plugin = install(target, args.python, args.wheels, args.python_version, deps=not args.no_deps)
    except (InstallError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"installed the Infusion node in {plugin}; restart Nuke and find it in the Nodes toolbar under Infusion")
    return 0


if __name__ == "__main__":
    sys.exit(main())
