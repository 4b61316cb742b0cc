"""Install the Infusion node into a Nuke plugin folder; ``--uninstall`` removes only what it added.

    python -m infusion.host_plugins.nuke.install [--target DIR | --studio] [--python NUKE_PYTHON]
        [--python-version 3.10 --python PYTHON_WITH_PIP] [--wheels DIR] [--no-deps]
    python -m infusion.host_plugins.nuke.install --uninstall [--target DIR | --studio]

Into the target (``~/.nuke`` by default; ``--studio``: the first folder of ``$NUKE_PATH``) it writes
``infusion_plugin/`` (a self-contained ``infusion`` package tree: protocol, host_plugins/common,
host_plugins/nuke; its own init.py and menu.py; ``site-packages-cp39``, ``-cp310``, ... with pyzmq
and msgpack, one per Nuke interpreter, see startup.py) and appends one marked block to the
target's ``init.py`` that adds the plugin folder to Nuke's plugin path. ``--python`` names Nuke's
interpreter; without it, every Nuke found in the usual install folders gets its packages. Each is
installed by pip, then imported by that interpreter, which records its ABI beside them. Installing
again for another Nuke adds its folder and keeps the others. Standard library only: any Python
3.9+ runs it.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import List, Mapping, Optional

from ..plugin_install import (
    InstallError, add_dependency_arguments, copy_sources, install_dependencies, read_manifest, write_manifest)
from .startup import ABI_RECORD, SITE_PREFIX

PLUGIN = "infusion_plugin"
BEGIN = "# >>> infusion: added by the Infusion installer; its --uninstall removes this block >>>\n"
END = "# <<< infusion <<<\n"
PLUGIN_INIT = '''"""Added by the Infusion installer: the plugin, then the private packages (pyzmq, msgpack) of this Nuke's Python."""
import sys

if {plugin!r} not in sys.path:
    sys.path.insert(0, {plugin!r})
from infusion.host_plugins.nuke import startup as _infusion_startup

_infusion_startup.add_site_packages({plugin!r})
'''
PLUGIN_MENU = '''"""Added by the Infusion installer: the Infusion menu, and jobs found again when a script opens."""
from infusion.host_plugins.nuke import startup as _infusion_startup

_infusion_startup.register_menu()
'''
# Where Nuke installs its interpreter (README.md beside this file); version folders vary.
NUKE_PYTHONS = {"linux": ("/usr/local/Nuke*/python3*",),
                "darwin": ("/Applications/Nuke*/Nuke*.app/Contents/MacOS/python3*",),
                "win32": ("C:/Program Files/Nuke*/python.exe",)}
INTERPRETER_NAME = re.compile(r"python(3(\.\d+)?)?(\.exe)?")
TAG = "import sys; print(f'cp{sys.version_info[0]}{sys.version_info[1]}')"
# Run by Nuke's interpreter after pip: import the packages from the new folder, print the ABI.
CHECK = ("import json, sys; sys.path[:0] = sys.argv[1:3]; import zmq, msgpack; "
         "from infusion.host_plugins.nuke.startup import interpreter_abi; "
         "print(json.dumps(dict(interpreter_abi(), zmq=zmq.__version__, msgpack=msgpack.version, python=sys.executable)))")


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


def find_nuke_pythons(patterns: Optional[List[str]] = None) -> List[str]:
    """Nuke's interpreters in the usual install folders of this platform (or ``patterns``)."""
    patterns = list(NUKE_PYTHONS.get(sys.platform, ())) if patterns is None else patterns
    found = (path for pattern in patterns for path in sorted(glob.glob(pattern)))
    return [path for path in found if INTERPRETER_NAME.fullmatch(os.path.basename(path)) and os.path.isfile(path)]


def _run(command: List[str], what: str) -> str:
    """Run ``command``; its stdout, or InstallError naming ``what`` with its last words."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise InstallError(f"{what}: could not run {command[0]}: {error}") from None
    if done.returncode != 0:
        raise InstallError(f"{what} failed:\n{(done.stdout + done.stderr)[-3000:]}")
    return done.stdout


def interpreter_tag(python: str, python_version: Optional[str] = None) -> str:
    """``cp310`` for the interpreter ``python`` (or for ``python_version`` when wheels are fetched for another one)."""
    if python_version:
        return "cp" + "".join(python_version.split(".")[:2])
    return _run([python, "-c", TAG], f"asking {python} for its version").strip()


def install_site(plugin: Path, python: str, wheels: Optional[str], python_version: Optional[str]) -> Path:
    """pyzmq and msgpack for ``python`` in ``plugin/site-packages-cpXY`` (replacing that folder only
    once the new one works); returns it. Without ``python_version`` the interpreter itself then
    imports them from there and its ABI is recorded (startup.py checks it in Nuke); with it the
    interpreter is not Nuke's, so nothing can be checked and nothing is recorded."""
    site = plugin / (SITE_PREFIX + interpreter_tag(python, python_version))
    partial = plugin / f".{site.name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    try:
        install_dependencies(python, partial, wheels, python_version)
        if not python_version:
            record = json.loads(_run([python, "-c", CHECK, str(partial), str(plugin)],
                                     f"importing pyzmq and msgpack with {python}").strip().splitlines()[-1])
            (partial / ABI_RECORD).write_text(json.dumps(record, indent=1), encoding="utf-8")
    except (InstallError, ValueError) as error:
        shutil.rmtree(partial)
        raise InstallError(str(error)) from None
    shutil.rmtree(site, ignore_errors=True)
    partial.rename(site)
    return site


def _write_code(plugin: Path) -> None:
    """The ``infusion`` tree, init.py and menu.py of the plugin folder, replacing any older ones."""
    shutil.rmtree(plugin / "infusion", ignore_errors=True)
    copy_sources(plugin, "nuke")
    (plugin / "init.py").write_text(PLUGIN_INIT.format(plugin=str(plugin)), encoding="utf-8")
    (plugin / "menu.py").write_text(PLUGIN_MENU, encoding="utf-8")


def install(target: Path, pythons: List[str], wheels: Optional[str] = None, python_version: Optional[str] = None,
            deps: bool = True) -> Path:
    """Install into ``target`` with pyzmq and msgpack for each interpreter of ``pythons`` (the
    folders of other interpreters installed before stay); returns the plugin folder."""
    target = target.absolute()
    plugin = target / PLUGIN
    manifest = read_manifest(plugin)
    if manifest is None and plugin.exists():
        raise InstallError(f"{plugin} exists but was not made by this installer; move it away first")
    if deps and not pythons:
        raise InstallError("no Nuke interpreter: name it with --python (see README.md for where Nuke keeps it)")
    target_created = manifest["target_created"] if manifest else not target.exists()
    plugin.mkdir(parents=True, exist_ok=True)
    try:
        _write_code(plugin)
        for python in pythons if deps else []:
            install_site(plugin, python, wheels, python_version)
    except (InstallError, OSError):
        if manifest is None:
            shutil.rmtree(plugin)
            if target_created:
                target.rmdir()
        raise
    undo = manifest["init.py"] if manifest else _add_block(target / "init.py", f"import nuke\nnuke.pluginAddPath({str(plugin)!r})\n")
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
    add_dependency_arguments(parser, "", "Nuke", "3.9 Nuke 14, 3.10 Nuke 15, 3.11 Nuke 16")
    parser.add_argument("--uninstall", action="store_true", help="remove what install added")
    args = parser.parse_args(argv)
    try:
        target = args.target or default_target(args.studio)
        if args.uninstall:
            print(f"removed the Infusion node from {target}" if uninstall(target) else f"nothing of Infusion's in {target}")
            return 0
        if args.python_version and not args.python:
            raise InstallError("--python-version needs --python: the interpreter whose pip fetches the wheels")
        pythons = [args.python] if args.python else find_nuke_pythons()
        plugin = install(target, pythons, args.wheels, args.python_version, deps=not args.no_deps)
    except (InstallError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for python in pythons if not args.no_deps else []:
        print(f"pyzmq and msgpack installed for {python}")
    print(f"installed the Infusion node in {plugin}; restart Nuke and find it in the Nodes toolbar under Infusion")
    return 0


if __name__ == "__main__":
    sys.exit(main())
