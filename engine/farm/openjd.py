"""Open Job Description for the farm: the job template and job bundles for one shot.

One job per shot, one step, one task: ``infusion run`` with its work dir on shared storage, so a
task the scheduler requeues resumes from its last finished interval. The template follows the
conventions of AWS Deadline Cloud job bundles (``template.json``, ``parameter_values.json``,
``asset_references.json``; PATH parameters with ``dataFlow`` so job attachments and path
mapping know what to move, ``userInterface`` hints for the submitter GUI), and runs under any
OpenJD scheduler (``openjd run`` locally, ``deadline bundle submit`` on Deadline Cloud).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from ..method.presets import PRESETS

TEMPLATE_NAME = "template.json"
PARAMETER_VALUES_NAME = "parameter_values.json"
ASSET_REFERENCES_NAME = "asset_references.json"


def _path(name: str, kind: str, flow: str, label: str, description: str, control: str, default: Optional[str] = None) -> Dict[str, Any]:
    parameter: Dict[str, Any] = {
        "name": name, "type": "PATH", "objectType": kind, "dataFlow": flow, "description": description,
        "userInterface": {"control": control, "label": label, "groupLabel": "Shot"},
    }
    if default is not None:
        parameter["default"] = default
    return parameter


def _value(name: str, kind: str, label: str, description: str, group: str, **extra: Any) -> Dict[str, Any]:
    control = "DROPDOWN_LIST" if "allowedValues" in extra else ("SPIN_BOX" if kind in ("INT", "FLOAT") else "LINE_EDIT")
    return {"name": name, "type": kind, "description": description,
            "userInterface": {"control": control, "label": label, "groupLabel": group}, **extra}


def job_template(separate_matte: bool) -> Dict[str, Any]:
    """The OpenJD job template (jobtemplate-2023-09) for one shot.

    With ``separate_matte`` the matte is its own EXR sequence; without, it is a channel of the
    plate. (Plain OpenJD has no conditional arguments, hence two templates from this one source.)
    """
    parameters: List[Dict[str, Any]] = [
        _path("PlateDir", "DIRECTORY", "IN", "Plate folder", "Folder of the source plate EXR sequence.", "CHOOSE_DIRECTORY"),
        _value("PlateName", "STRING", "Plate file pattern", "File pattern of the plate, e.g. plate.####.exr.", "Shot",
               minLength=1),
    ]
    if separate_matte:
        parameters += [
            _path("MatteDir", "DIRECTORY", "IN", "Matte folder", "Folder of the matte EXR sequence.", "CHOOSE_DIRECTORY"),
            _value("MatteName", "STRING", "Matte file pattern", "File pattern of the matte, e.g. matte.####.exr.",
                   "Shot", minLength=1),
        ]
    parameters += [
        _value("MatteChannel", "STRING", "Matte channel", "Channel holding the matte.", "Shot", default="A", minLength=1),
        _value("FrameStart", "INT", "First frame", "First frame of the range.", "Shot"),
        _value("FrameEnd", "INT", "Last frame", "Last frame of the range.", "Shot"),
        _path("OutputDir", "DIRECTORY", "OUT", "Output folder", "Folder the inpainted EXRs are written to.", "CHOOSE_DIRECTORY"),
        _value("OutputName", "STRING", "Output file pattern", "File pattern of the output, e.g. fill.####.exr.", "Shot",
               minLength=1),
        _path("WorkDir", "DIRECTORY", "INOUT", "Work folder (shared storage)",
              "Checkpoints of the run; on shared storage so that a requeued task resumes.", "CHOOSE_DIRECTORY"),
        _value("Preset", "STRING", "Preset", "Training and sampling budget.", "Infusion",
               allowedValues=sorted(PRESETS), default="standard"),
        _value("Seed", "INT", "Seed", "Random seed; the same seed gives the same fill.", "Infusion", default=0, minValue=0),
        _value("Variants", "INT", "Variants", "Number of fills sampled with different seeds.", "Infusion",
               default=1, minValue=1, maxValue=16),
        _value("Device", "STRING", "Device", "cpu or cuda:N on the worker.", "Infusion", default="cuda:0"),
        _value("Threshold", "FLOAT", "Matte threshold", "Matte values above this are filled.", "Matte",
               default=0.01, minValue=0.0, maxValue=1.0),
        _value("Dilation", "INT", "Dilation (pixels)", "Grow the matte by this many pixels.", "Matte",
               default=0, minValue=0),
        _value("Margin", "FLOAT", "Context margin", "Context around the matte, in multiples of its box's longest side.",
               "Matte", default=1.0, minValue=0.0),
        _value("Colorspace", "STRING", "Plate colourspace", "OCIO colourspace or role of the plate.", "Colour",
               default="scene_linear", minLength=1),
        _value("Encoding", "STRING", "Network encoding", "OCIO log colourspace or role the network works in.",
               "Colour", default="compositing_log", minLength=1),
        _value("InfusionCommand", "STRING", "infusion command", "The infusion executable on the workers.", "Infusion",
               default="infusion"),
    ]
    arguments = run_arguments(lambda name: "{{Param.%s}}" % name, separate_matte)
    return {
        "specificationVersion": "jobtemplate-2023-09",
        "name": "Infusion {{Param.OutputName}} {{Param.FrameStart}}-{{Param.FrameEnd}}",
        "description": "Inpaint one shot with Infusion; a requeued task resumes from its last finished interval.",
        "parameterDefinitions": parameters,
        "steps": [{
            "name": "Inpaint",
            "script": {
                "actions": {"onRun": {
                    "command": "{{Param.InfusionCommand}}",
                    "args": arguments,
                    "cancelation": {"mode": "NOTIFY_THEN_TERMINATE", "notifyPeriodInSeconds": 30},
                }},
            },
        }],
    }


def run_arguments(value: Callable[[str], str], separate_matte: bool) -> List[str]:
    """The ``infusion run`` arguments of a farm task, each job parameter given by ``value(name)``."""
    matte = ["--matte", f"{value('MatteDir')}/{value('MatteName')}"] if separate_matte else []
    return [
        "run", "--plate", f"{value('PlateDir')}/{value('PlateName')}", *matte,
        "--matte-channel", value("MatteChannel"),
        "--frames", f"{value('FrameStart')}-{value('FrameEnd')}",
        "--out", f"{value('OutputDir')}/{value('OutputName')}",
        "--work-dir", value("WorkDir"),
        "--preset", value("Preset"), "--seed", value("Seed"), "--variants", value("Variants"),
        "--device", value("Device"),
        "--threshold", value("Threshold"), "--dilation", value("Dilation"), "--margin", value("Margin"),
        "--colorspace", value("Colorspace"), "--encoding", value("Encoding"),
    ]


TEMPLATE_FILES = {True: "infusion-job.template.json", False: "infusion-job-matte-channel.template.json"}


@dataclass(frozen=True)
class FarmShot:
    """What one farm job needs: file patterns split into folder + name, as the template wants."""

    plate: Path
    frames: Tuple[int, int]
    out: Path
    work_dir: Path
    matte: Optional[Path] = None
    matte_channel: str = "A"
    preset: str = "standard"
    seed: int = 0
    variants: int = 1
    device: str = "cuda:0"
    threshold: float = 0.01
    dilation: int = 0
    margin: float = 1.0
    colorspace: str = "scene_linear"
    encoding: str = "compositing_log"
    infusion_command: str = "infusion"

    def parameter_values(self) -> List[Dict[str, Any]]:
        values: Dict[str, Any] = {"PlateDir": str(self.plate.parent), "PlateName": self.plate.name}
        if self.matte is not None:
            values.update(MatteDir=str(self.matte.parent), MatteName=self.matte.name)
        values.update({
            "MatteChannel": self.matte_channel,
            "FrameStart": int(self.frames[0]), "FrameEnd": int(self.frames[1]),
            "OutputDir": str(self.out.parent), "OutputName": self.out.name,
            "WorkDir": str(self.work_dir), "Preset": self.preset, "Seed": self.seed,
            "Variants": self.variants, "Device": self.device, "Threshold": self.threshold,
            "Dilation": self.dilation, "Margin": self.margin, "Colorspace": self.colorspace,
            "Encoding": self.encoding, "InfusionCommand": self.infusion_command,
        })
        return [{"name": name, "value": value} for name, value in values.items()]

    def asset_references(self) -> Dict[str, Any]:
        inputs = sorted({str(self.plate.parent), str((self.matte or self.plate).parent)})
        return {"assetReferences": {
            "inputs": {"directories": inputs, "filenames": []},
            "outputs": {"directories": [str(self.out.parent)]},
            "referencedPaths": [str(self.work_dir)],
        }}


def write_bundle(shot: FarmShot, bundle_dir: Path) -> Path:
    """Write a job bundle (template, parameter values, asset references) into ``bundle_dir``."""
    bundle_dir.mkdir(parents=True, exist_ok=True)
    files = {
        TEMPLATE_NAME: job_template(separate_matte=shot.matte is not None),
        PARAMETER_VALUES_NAME: {"parameterValues": shot.parameter_values()},
        ASSET_REFERENCES_NAME: shot.asset_references(),
    }
    for name, content in files.items():
        (bundle_dir / name).write_text(json.dumps(content, indent=2) + "\n")
    return bundle_dir


def template_text(separate_matte: bool) -> str:
    """A template as committed under install/farm/openjd/ (see TEMPLATE_FILES)."""
    return json.dumps(job_template(separate_matte), indent=2) + "\n"
