"""**Send to farm**: where a shot goes on shared storage, and the ``infusion farm submit`` call.

The host renders its inputs to :attr:`FarmPaths.plate` (and ``matte``), then runs
:func:`farm_argv`'s command line with :func:`send_to_farm`; the farm CLI writes an OpenJD job
bundle (install/farm/README.md). It carries every choice of the shot, as ``infusion run`` does.
"""
from __future__ import annotations

import os
import shlex
import subprocess
from dataclasses import dataclass
from typing import List, Mapping, Optional

from infusion.protocol.shot import choices

from .shot import ShotSpec

BUNDLE_LINE = "job bundle written to "


class FarmError(RuntimeError):
    """The farm command could not be run or failed; the message holds its own words."""


@dataclass(frozen=True)
class FarmPaths:
    """The shot's folders on shared storage: rendered inputs, outputs, checkpoints, job bundle."""

    plate: str
    matte: str
    out: str
    work_dir: str
    bundle: str

    @classmethod
    def under(cls, folder: str, name: str) -> "FarmPaths":
        """``folder/name/{plate,matte,out}/NAME.####.exr``, ``work/`` and ``bundle/``."""
        root = os.path.join(os.path.abspath(folder), name)
        return cls(os.path.join(root, "plate", "plate.####.exr"), os.path.join(root, "matte", "matte.####.exr"),
                   os.path.join(root, "out", "fill.####.exr"), os.path.join(root, "work"), os.path.join(root, "bundle"))


def infusion_command(explicit: str = "", environ: Optional[Mapping[str, str]] = None) -> List[str]:
    """The local ``infusion`` command as argv: ``explicit``, else ``$INFUSION_COMMAND``, else ``infusion``.

    A path to an existing file is the command itself (spaces and all); anything else is split like
    a shell would, so ``/opt/venv/bin/python -m infusion.engine.cli`` works.
    """
    environ = os.environ if environ is None else environ
    text = explicit.strip() or environ.get("INFUSION_COMMAND", "").strip() or "infusion"
    if os.path.isfile(text):
        return [text]
    if os.name == "nt":
        return [token.strip('"') for token in shlex.split(text, posix=False)]
    return shlex.split(text)


def farm_argv(spec: ShotSpec, paths: FarmPaths, command: List[str], device: str = "",
              worker_command: str = "") -> List[str]:
    """``infusion farm submit`` for ``spec`` (whose plate and matte lie on shared storage)."""
    argv = [*command, "farm", "submit", "--plate", spec.plate, "--frames", f"{spec.frames[0]}-{spec.frames[1]}",
            "--out", paths.out, "--work-dir", paths.work_dir, "--bundle", paths.bundle, "--preset", spec.preset,
            "--matte-channel", spec.matte_channel]
    if spec.matte:
        argv += ["--matte", spec.matte]
    for choice in choices():
        if spec.chosen[choice.name] is not None:
            argv += [choice.flag, choice.write(spec.chosen[choice.name])]
    if device:
        argv += ["--device", device]
    if worker_command:
        argv += ["--infusion-command", worker_command]
    return argv


def send_to_farm(argv: List[str], timeout: float = 300.0) -> str:
    """Run the farm command; returns the bundle folder it wrote. FarmError on any failure."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise FarmError(f"could not run {argv[0]!r}: {error}") from None
    if done.returncode != 0:
        raise FarmError(f"{' '.join(argv[:3])} failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")
    for line in done.stdout.splitlines():
        if line.startswith(BUNDLE_LINE):
            return line[len(BUNDLE_LINE):].strip()
    raise FarmError(f"the farm command did not say where it wrote the bundle: {done.stdout.strip()[-2000:]}")
