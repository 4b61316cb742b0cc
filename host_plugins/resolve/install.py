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
private folder stays out of ``Scripts/``, where Fusion would list its modules as scripts. Standard
library only: any Python 3.9+ runs it.
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
from pathlib import Path
from typing import Dict, List, Mapping, Optional

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
    """Install into each Fusion folder of ``targets`` (pip runs once; the others get a copy); the plugin folders."""
    plugins: List[Path] = []
    for folder in targets:
        site_from = plugins[0] / "site-packages" if plugins else None
        plugins.append(_install_one(folder.absolute(), site_from, python, wheels, python_version, deps))
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
    add_dependency_arguments(parser, sys.executable, "Resolve", "the version Resolve's console prints for sys.version, e.g. 3.10")
    parser.add_argument("--uninstall", action="store_true", help="remove what install added")
    args = parser.parse_args(argv)
    try:
        if args.uninstall:
            targets = args.target or list(fusion_folders(platform.system(), Path.home(), os.environ).values())
            for folder in targets:
                print(f"removed Infusion from {folder}" if uninstall(folder) else f"nothing of Infusion's in {folder}")
            return 0
        plugins = install(args.target or default_targets(), args.python, args.wheels, args.python_version, deps=not args.no_deps)
    except (InstallError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for plugin in plugins:
        print(f"installed Infusion in {plugin.parent}: Workspace > Scripts > Infusion on the Fusion page")
    return 0


if __name__ == "__main__":
    sys.exit(main())
