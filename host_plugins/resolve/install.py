"""Install the Infusion script into DaVinci Resolve's and Fusion Studio's Scripts/Comp folders;
``--uninstall`` removes only what it added.

    python -m infusion.host_plugins.resolve.install [--target FUSION_FOLDER ...] [--python RESOLVE_PYTHON]
        [--python-version 3.10] [--wheels DIR] [--no-deps]
    python -m infusion.host_plugins.resolve.install --uninstall [--target FUSION_FOLDER ...]

A Fusion folder is the per-user folder that holds ``Scripts/``: by default Resolve's and Fusion
Studio's of this OS (:func:`fusion_folders`), those that exist. Into each it writes
``Scripts/Comp/Infusion.py``, the script Workspace > Scripts lists (it puts the private folder first
on ``sys.path`` and opens the panel), and ``InfusionPlugin/`` beside ``Scripts/``: the ``infusion``
package tree (protocol, host_plugins/common, host_plugins/resolve), ``site-packages/`` with pyzmq
and msgpack installed by the Python that Resolve uses, and ``install.json`` (what to undo). The
private folder stays out of ``Scripts/``, where Fusion would list its modules as scripts.

Without ``--python`` it finds the Python 3 that Resolve and Fusion load where fusionscript looks
for it (:func:`host_python`), and after installing it checks that this Python imports pyzmq and
msgpack from the private folder. Standard library only: any Python 3.9+ runs it.
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable, Dict, List, Mapping, Optional

from ..plugin_install import (
    InstallError, add_dependency_arguments, copy_sources, install_dependencies, read_manifest, write_manifest)

PLUGIN = "InfusionPlugin"
SCRIPT = "Infusion.py"
HEADER = '"""Infusion: the Infusion panel (Workspace > Scripts > Infusion), added by the Infusion installer.\n'
LAUNCHER = HEADER + '''
Its private packages (pyzmq, msgpack) and the infusion package come first on sys.path. Fusion gives
this script fu, comp and bmd. ``python -m infusion.host_plugins.resolve.install --uninstall`` removes it.
"""
import sys

for _path in ({plugin!r}, {site!r}):  # the site-packages end up first
    if _path not in sys.path:
        sys.path.insert(0, _path)

from infusion.host_plugins.resolve import panel as _infusion_panel

_infusion_panel.main(globals().get("fu") or globals().get("fusion"), globals().get("comp"), bmd)
'''


PYTHON_HOMES = ("FUSION_PYTHON3_HOME", "FUSION_Python3_Home", "PYTHON3HOME")  # as fusionscript reads them, in order
UNIX_PYTHON = "/usr/local/bin/python3"  # where fusionscript looks last on macOS and Linux
IMPORT_CHECK = "import sys; sys.path.insert(0, sys.argv[1]); import zmq, msgpack; print(zmq.__version__)"


def _registry_pythons() -> Dict[str, str]:
    """``{version: InstallPath}`` of the Python 3 installs the Windows registry lists (PEP 514)."""
    import winreg  # Windows only

    found: Dict[str, str] = {}
    for hive in (winreg.HKEY_CURRENT_USER, winreg.HKEY_LOCAL_MACHINE):
        try:
            core = winreg.OpenKey(hive, r"SOFTWARE\Python\PythonCore")
        except OSError:
            continue
        with core:
            for index in range(winreg.QueryInfoKey(core)[0]):
                version = winreg.EnumKey(core, index)
                try:
                    found.setdefault(version, winreg.QueryValue(core, version + r"\InstallPath"))
                except OSError:
                    continue
    return found


def _version_key(version: str) -> List[int]:
    return [int(part) if part.isdigit() else 0 for part in version.split("-")[0].split(".")]


def host_python(system: str, environ: Mapping[str, str], registry: Callable[[], Dict[str, str]] = _registry_pythons,
                is_file: Callable[[str], bool] = os.path.isfile) -> Optional[str]:
    """The Python 3 interpreter Resolve and Fusion load, found as fusionscript finds it: the first home
    in ``FUSION_PYTHON3_HOME``, then ``PYTHON3HOME`` (each may list several, ``;`` or ``:`` apart) that holds one, then
    on Windows the newest Python 3 the registry lists, elsewhere ``/usr/local/bin/python3``; None when
    there is none."""
    windows = system == "Windows"
    separator = ";" if windows else ":"
    homes = [home for name in PYTHON_HOMES for home in environ.get(name, "").split(separator) if home]
    if windows:
        listed = registry()
        homes += [listed[version] for version in sorted(listed, key=_version_key, reverse=True) if _version_key(version)[:1] == [3]]
    candidates = [os.path.join(home, "python.exe") if windows else os.path.join(home, "bin", "python3") for home in homes]
    return next((path for path in candidates + ([] if windows else [UNIX_PYTHON]) if is_file(path)), None)


def check_import(python: str, site: Path) -> str:
    """Run ``python`` importing pyzmq and msgpack with ``site`` first on its path; pyzmq's version, or
    InstallError with what Python said."""
    try:
        done = subprocess.run([python, "-c", IMPORT_CHECK, str(site)], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise InstallError(f"could not run {python} to check the install: {error}") from error
    if done.returncode != 0:
        raise InstallError(f"{python} cannot import pyzmq and msgpack from {site} (is it the Python Resolve uses? "
                           f"name it with --python):\n{(done.stdout + done.stderr)[-2000:]}")
    return done.stdout.strip()


def fusion_folders(system: str, home: Path, environ: Mapping[str, str]) -> Dict[str, Path]:
    """The per-user Fusion folders (the parents of ``Scripts/``) of Resolve and Fusion Studio on ``system``."""
    if system == "Windows":
        design = Path(environ.get("APPDATA") or home / "AppData" / "Roaming") / "Blackmagic Design"
        return {"DaVinci Resolve": design / "DaVinci Resolve" / "Support" / "Fusion", "Fusion Studio": design / "Fusion"}
    if system == "Darwin":
        design = home / "Library" / "Application Support" / "Blackmagic Design"
        return {"DaVinci Resolve": design / "DaVinci Resolve" / "Fusion", "Fusion Studio": design / "Fusion"}
    return {"DaVinci Resolve": home / ".local" / "share" / "DaVinciResolve" / "Fusion",
            "Fusion Studio": home / ".fusion" / "BlackmagicDesign" / "Fusion"}


def default_targets(system: Optional[str] = None, home: Optional[Path] = None,
                    environ: Optional[Mapping[str, str]] = None) -> List[Path]:
    """The Fusion folders of this OS that exist (Resolve and Fusion Studio make theirs on first start)."""
    folders = fusion_folders(system or platform.system(), home or Path.home(), os.environ if environ is None else environ)
    found = [folder for folder in folders.values() if folder.is_dir()]
    if not found:
        raise InstallError("found neither " + " nor ".join(f"{host}'s {folder}" for host, folder in folders.items())
                           + ": start Resolve or Fusion once, or name the folder with --target")
    return found


def _remove_created(created: List[str]) -> None:
    for path in map(Path, reversed(created)):
        if path.is_dir() and not any(path.iterdir()):
            path.rmdir()


def _install_one(folder: Path, site_from: Optional[Path], python: str, wheels: Optional[str],
                 python_version: Optional[str], deps: bool) -> Path:
    """Install into the Fusion folder ``folder``; pyzmq and msgpack copied from ``site_from`` or
    installed by ``python`` (``deps``). Returns the plugin folder."""
    plugin, launcher = folder / PLUGIN, folder / "Scripts" / "Comp" / SCRIPT
    if read_manifest(plugin) is not None:
        uninstall(folder)
    for path in (plugin, launcher):
        if path.exists():
            raise InstallError(f"{path} exists but was not made by this installer; move it away first")
    created = [str(p) for p in (folder, folder / "Scripts", launcher.parent) if not p.exists()]
    try:
        launcher.parent.mkdir(parents=True, exist_ok=True)
        copy_sources(plugin, "resolve")
        site = plugin / "site-packages"
        if site_from is not None:
            shutil.copytree(site_from, site)
        else:
            site.mkdir()
            if deps:
                install_dependencies(python, site, wheels, python_version)
        launcher.write_text(LAUNCHER.format(site=str(site), plugin=str(plugin)), encoding="utf-8")
    except BaseException:
        shutil.rmtree(plugin, ignore_errors=True)
        if launcher.exists():
            launcher.unlink()
        _remove_created(created)
        raise
    write_manifest(plugin, {"launcher": str(launcher), "created": created})
    return plugin


def install(targets: List[Path], python: str, wheels: Optional[str] = None, python_version: Optional[str] = None,
            deps: bool = True) -> List[Path]:
    """Install into each Fusion folder of ``targets`` (pip runs once; the others get a copy); the plugin
    folders. Then ``python`` must import pyzmq and msgpack from them (not checked with ``python_version``:
    that Python fetched wheels for another), else everything installed is removed and InstallError."""
    plugins: List[Path] = []
    try:
        for folder in targets:
            site_from = plugins[0] / "site-packages" if plugins else None
            plugins.append(_install_one(folder.absolute(), site_from, python, wheels, python_version, deps))
        if plugins and not python_version:
            check_import(python, plugins[0] / "site-packages")
    except BaseException:
        for plugin in plugins:
            uninstall(plugin.parent)
        raise
    return plugins


def uninstall(folder: Path) -> bool:
    """Remove the script and the plugin folder from ``folder``; False when nothing was installed there."""
    plugin = folder.absolute() / PLUGIN
    undo = read_manifest(plugin)
    if undo is None:
        return False
    launcher = Path(undo["launcher"])
    if launcher.exists() and launcher.read_text(encoding="utf-8").startswith(HEADER):
        launcher.unlink()
    shutil.rmtree(plugin)
    _remove_created(undo["created"])
    return True


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infusion.host_plugins.resolve.install", description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", type=Path, action="append",
                        help="a Fusion folder (the one holding Scripts/); repeatable; default: Resolve's and Fusion Studio's")
    add_dependency_arguments(parser, "", "Resolve", "the version Resolve's console prints for sys.version, e.g. 3.10")
    parser.add_argument("--uninstall", action="store_true", help="remove what install added")
    args = parser.parse_args(argv)
    try:
        if args.uninstall:
            targets = args.target or list(fusion_folders(platform.system(), Path.home(), os.environ).values())
            for folder in targets:
                print(f"removed Infusion from {folder}" if uninstall(folder) else f"nothing of Infusion's in {folder}")
            return 0
        python = args.python or host_python(platform.system(), os.environ)
        if not python:
            raise InstallError("found no Python 3 where Resolve looks (FUSION_PYTHON3_HOME, PYTHON3HOME, "
                               f"{'the registry' if platform.system() == 'Windows' else UNIX_PYTHON}): name it with --python")
        plugins = install(args.target or default_targets(), python, args.wheels, args.python_version, deps=not args.no_deps)
    except (InstallError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not args.python_version:
        print(f"checked: {python} imports pyzmq and msgpack")
    for plugin in plugins:
        print(f"installed Infusion in {plugin.parent}: Workspace > Scripts > Infusion on the Fusion page")
    return 0


if __name__ == "__main__":
    sys.exit(main())
