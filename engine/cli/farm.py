"""``infusion farm``: write Open Job Description job bundles (and OpenCue specs) for shots.

    infusion farm submit --plate P --frames A-B --out P --work-dir DIR --bundle DIR [...]
    infusion farm template [--matte-channel-only]

The bundle is ready for ``deadline bundle submit DIR`` (AWS Deadline Cloud) or, on any machine,
``openjd run DIR/template.json -p file://DIR/openjd_parameters.json``.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from ..farm.openjd import FarmShot, template_text, write_bundle
from ..farm.opencue import write_opencue_spec
from .shot_arguments import add_shot_arguments, chosen

OPENJD_PARAMETERS_NAME = "openjd_parameters.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="farm_action", metavar="ACTION", required=True)
    submit = actions.add_parser("submit", help="write a job bundle for one shot (paths on shared storage)")
    add_shot_arguments(submit, "output sequence on shared storage; with --variants K > 1, _v1.._vK and _mean are added")
    submit.add_argument("--device", help="cpu or cuda:N on the workers (default cuda:0)")
    submit.add_argument("--work-dir", required=True, help="checkpoint folder on shared storage (a requeued task resumes)")
    submit.add_argument("--bundle", required=True, help="folder to write the job bundle into")
    submit.add_argument("--infusion-command", default="infusion", help="the infusion executable on the workers")
    submit.add_argument("--opencue-show", help="also write an OpenCue job spec for this show (needs the farm-opencue extra)")
    submit.add_argument("--shot-name", default="shot", help="shot name for OpenCue")
    template = actions.add_parser("template", help="print the OpenJD job template")
    template.add_argument("--matte-channel-only", action="store_true", help="the template whose matte is a plate channel")


def shot_from_arguments(args: argparse.Namespace) -> FarmShot:
    """The shot the arguments describe; the device, when unset, is FarmShot's."""
    sections = chosen(args)
    return FarmShot(
        plate=Path(args.plate).absolute(), frames=args.frames, out=Path(args.out).absolute(),
        work_dir=Path(args.work_dir).absolute(), matte=Path(args.matte).absolute() if args.matte else None,
        matte_channel=args.matte_channel, preset=args.preset, chosen={**sections["settings"], **sections["options"]},
        infusion_command=args.infusion_command, **({"device": args.device} if args.device else {}),
    )


def run(args: argparse.Namespace) -> int:
    if args.farm_action == "template":
        sys.stdout.write(template_text(separate_matte=not args.matte_channel_only))
        return 0
    shot = shot_from_arguments(args)
    bundle = write_bundle(shot, Path(args.bundle))
    plain = {item["name"]: item["value"] for item in shot.parameter_values()}
    (bundle / OPENJD_PARAMETERS_NAME).write_text(json.dumps(plain, indent=2) + "\n")
    print(f"job bundle written to {bundle}")
    print(f"  AWS Deadline Cloud: deadline bundle submit {bundle}")
    print(f"  any OpenJD runner:  openjd run {bundle / 'template.json'} -p file://{bundle / OPENJD_PARAMETERS_NAME}")
    if args.opencue_show:
        spec = write_opencue_spec(shot, bundle, args.opencue_show, args.shot_name)
        print(f"  OpenCue:            {spec} (launch with opencue.api.launchSpec or cuerun)")
    return 0
