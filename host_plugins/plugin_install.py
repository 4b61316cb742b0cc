"""What the host installers share: the ``infusion`` package tree a host imports, and pyzmq and
msgpack installed by the host's own Python into a private folder. Standard library only: any
Python 3.9+ runs it; nothing here is copied into a host."""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any, Dict, List, Optional

DEPENDENCIES = ("pyzmq>=25", "msgpack>=1.0")
HOST_PLUGINS = Path(__file__).resolve().parent
INSTALLER_NAME = "install.py"  # each host folder's installer, left out of the copied tree
MANIFEST = "install.json"  # in the plugin folder: what install did, for uninstall to undo


class InstallError(RuntimeError):
    pass


def copy_sources(folder: Path, host: str) -> None:
    """``folder/infusion``: the protocol, host_plugins/common and host_plugins/``host``; Python
    files only, the installers left out."""
    trees = ((HOST_PLUGINS.parent / "protocol", "protocol"), (HOST_PLUGINS / "common", "host_plugins/common"),
             (HOST_PLUGINS / host, f"host_plugins/{host}"))
    (folder / "infusion" / "host_plugins").mkdir(parents=True)
    shutil.copy2(HOST_PLUGINS / "__init__.py", folder / "infusion" / "host_plugins" / "__init__.py")
    for source, inside in trees:
        destination = folder / "infusion" / inside
        destination.mkdir(parents=True)
        for path in sorted(source.glob("*.py")):
            if path.name != INSTALLER_NAME:
                shutil.copy2(path, destination / path.name)


def write_manifest(plugin: Path, undo: Dict[str, Any]) -> None:
    (plugin / MANIFEST).write_text(json.dumps(undo, indent=1), encoding="utf-8")


def read_manifest(plugin: Path) -> Optional[Dict[str, Any]]:
    """What install wrote in ``plugin`` for uninstall; None when this installer made no ``plugin``."""
    path = plugin / MANIFEST
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def pip_command(python: str, site: Path, wheels: Optional[str], python_version: Optional[str]) -> List[str]:
    """pip of ``python`` installing pyzmq and msgpack into ``site`` (offline from ``wheels``; binary
    wheels for ``python_version`` when the interpreter is not the host's own)."""
    command = [python, "-m", "pip", "install", "--target", str(site), "--upgrade", "--disable-pip-version-check"]
    if wheels:
        command += ["--no-index", "--find-links", wheels]
    if python_version:
        command += ["--python-version", python_version, "--only-binary=:all:"]
    return command + list(DEPENDENCIES)


def install_dependencies(python: str, site: Path, wheels: Optional[str], python_version: Optional[str]) -> None:
    """Run :func:`pip_command`; InstallError with pip's last words when it fails."""
    done = subprocess.run(pip_command(python, site, wheels, python_version), capture_output=True, text=True)
    if done.returncode != 0:
        raise InstallError(f"installing pyzmq and msgpack with {python} failed:\n{(done.stdout + done.stderr)[-3000:]}")


def add_dependency_arguments(parser: argparse.ArgumentParser, default_python: str, host: str, versions: str) -> None:
    """``--python``, ``--python-version``, ``--wheels`` and ``--no-deps``; ``versions`` lists the
    host's Python per release, for the help."""
    parser.add_argument("--python", default=default_python, help=f"{host}'s Python interpreter, to install pyzmq and msgpack with")
    parser.add_argument("--python-version", help=f"fetch binary wheels for this Python ({versions})")
    parser.add_argument("--wheels", help="install pyzmq and msgpack offline from this folder of wheels")
    parser.add_argument("--no-deps", action="store_true", help=f"do not install pyzmq and msgpack (they are on {host}'s path)")
