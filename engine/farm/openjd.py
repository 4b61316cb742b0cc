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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from infusion.protocol.shot import DEFAULT_PRESET, MATTE_CHANNEL, Choice, choices

from ..method.presets import PRESETS, preset

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


def _unset(choice: Choice) -> Any:
    """What a shot choice's parameter holds when nothing was chosen: its default, else its form's start value."""
    return choice.start if choice.default is None else choice.default


def _choice(choice: Choice) -> Dict[str, Any]:
    """The parameter of a shot choice (protocol/shot.py); ``infusion run`` reads a blank value as "not set".
    A choice of a few values is a STRING of their written forms (a drop-down, its blank entry first)."""
    kind = "STRING" if choice.values else {int: "INT", float: "FLOAT", str: "STRING"}[choice.kind]
    limits: Dict[str, Any] = {}
    if choice.values:
        limits = {"allowedValues": list(choice.menu)}
    elif choice.kind is not str:
        limits = dict(zip(("minValue", "maxValue"), choice.form_range))
    label, description = choice.label[0].upper() + choice.label[1:], choice.tip[0].upper() + choice.tip[1:] + "."
    return _value(choice.camel, kind, label, description, choice.group, default=_unset(choice), **limits)


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
        _value("MatteChannel", "STRING", "Matte channel", "Channel holding the matte.", "Shot", default=MATTE_CHANNEL,
               minLength=1),
        _value("FrameStart", "INT", "First frame", "First frame of the range.", "Shot"),
        _value("FrameEnd", "INT", "Last frame", "Last frame of the range.", "Shot"),
        _path("OutputDir", "DIRECTORY", "OUT", "Output folder", "Folder the inpainted EXRs are written to.", "CHOOSE_DIRECTORY"),
        _value("OutputName", "STRING", "Output file pattern", "File pattern of the output, e.g. fill.####.exr.", "Shot",
               minLength=1),
        _path("WorkDir", "DIRECTORY", "INOUT", "Work folder (shared storage)",
              "Checkpoints of the run; on shared storage so that a requeued task resumes.", "CHOOSE_DIRECTORY"),
        _value("Preset", "STRING", "Preset", "Training and sampling budget.", "Infusion",
               allowedValues=sorted(PRESETS), default=DEFAULT_PRESET),
        *(_choice(choice) for choice in choices()),
        _value("Device", "STRING", "Device", "cpu or cuda:N on the worker.", "Infusion", default="cuda:0"),
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
        "--work-dir", value("WorkDir"), "--preset", value("Preset"), "--device", value("Device"),
        *(word for choice in choices() for word in (choice.flag, value(choice.camel))),
    ]


TEMPLATE_FILES = {True: "infusion-job.template.json", False: "infusion-job-matte-channel.template.json"}


@dataclass(frozen=True)
class FarmShot:
    """What one farm job needs: file patterns split into folder + name, as the template wants.

    chosen: the shot choices set (protocol/shot.py, by name); the others go to the task as their
    form values, which ``infusion run`` reads as "not set", or, for those without one (seed,
    variants), as the preset's.
    """

    plate: Path
    frames: Tuple[int, int]
    out: Path
    work_dir: Path
    matte: Optional[Path] = None
    matte_channel: str = MATTE_CHANNEL
    preset: str = DEFAULT_PRESET
    chosen: Mapping[str, Any] = field(default_factory=dict)
    device: str = "cuda:0"
    infusion_command: str = "infusion"

    def choice_value(self, choice: Choice) -> Any:
        """The value the task gets for ``choice``."""
        value = self.chosen.get(choice.name)
        if value is None and choice.default is None and not choice.blank:  # no blank value to say "the preset's"
            value = preset(self.preset).to_dict()[choice.name]
        if value is None:
            return _unset(choice)
        return choice.write(value) if choice.values else value

    def parameter_values(self) -> List[Dict[str, Any]]:
        values: Dict[str, Any] = {"PlateDir": str(self.plate.parent), "PlateName": self.plate.name}
        if self.matte is not None:
            values.update(MatteDir=str(self.matte.parent), MatteName=self.matte.name)
        values.update({
            "MatteChannel": self.matte_channel,
            "FrameStart": int(self.frames[0]), "FrameEnd": int(self.frames[1]),
            "OutputDir": str(self.out.parent), "OutputName": self.out.name,
            "WorkDir": str(self.work_dir), "Preset": self.preset,
            **{choice.camel: self.choice_value(choice) for choice in choices()},
            "Device": self.device, "InfusionCommand": self.infusion_command,
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
