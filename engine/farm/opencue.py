"""OpenCue (the ASWF render manager): a job spec for one shot, built with ``opencue-pyoutline``.

The spec is serialized to OpenCue's XML job specification without contacting a Cuebot, so it can
be written here and launched later (``opencue.api.launchSpec``, or ``cuerun`` / CueGUI). Needs
the optional extra ``farm-opencue`` (opencue-pyoutline, opencue-pycue and packaging, which
pyoutline imports without declaring it).
"""
from __future__ import annotations

import getpass
import shlex
from pathlib import Path

from .openjd import FarmShot, run_arguments

SPEC_NAME = "opencue_job.xml"


def opencue_spec(shot: FarmShot, show: str, shot_name: str, service: str = "infusion") -> str:
    """The OpenCue XML job spec: one layer, one frame, one GPU, running ``infusion run``."""
    try:
        import outline
        import outline.cuerun
        from outline.backend import cue
        from outline.modules.shell import Shell
    except ImportError as error:
        raise ValueError(f"the OpenCue path needs the farm-opencue extra (pip install 'infusion-compositors[farm-opencue]'): {error}") from None
    values = {item["name"]: str(item["value"]) for item in shot.parameter_values()}
    command = [shot.infusion_command, *run_arguments(values.__getitem__, shot.matte is not None)]
    job = outline.Outline(f"infusion_{shot_name}", shot=shot_name, show=show, user=getpass.getuser())
    gpus = 1 if shot.device.startswith("cuda") else 0
    # pyoutline joins the command with spaces when it serializes; quote each word for the shell.
    job.add_layer(Shell("inpaint", command=[shlex.quote(word) for word in command], range="1", chunk=1,
                        gpus=gpus, service=service))
    launcher = outline.cuerun.OutlineLauncher(job, show=show, shot=shot_name, user=getpass.getuser(), nomail=True)
    return cue.serialize_simple(launcher)


def write_opencue_spec(shot: FarmShot, folder: Path, show: str, shot_name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SPEC_NAME
    path.write_text(opencue_spec(shot, show, shot_name))
    return path
