"""``infusion run``: fill the matte of a shot from EXR sequences, writing EXR sequences.

Checkpoints live in the work dir (by default ``.infusion/<name>`` beside the outputs), so the same
command run again after a crash resumes from the last finished interval.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

import torch

from .console import ConsoleProgress
from .shot_arguments import add_shot_arguments, chosen
from ..method.presets import preset
from ..plates.sequence import FramePattern
from ..plates.divergence import check_event
from ..plates.overwrite import check_outputs_apart
from ..plates.request import ShotRequest
from ..plates.shot import run_shot


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_shot_arguments(parser, "output sequence; with --variants K > 1, _v1.._vK and _mean are added")
    parser.add_argument("--device", help="cpu, cuda:0, ... (default: cuda:0 if available, else cpu)")
    parser.add_argument("--work-dir", type=Path, help="checkpoints and previews (default: .infusion/NAME beside --out)")


def default_work_dir(out: str) -> Path:
    """``.infusion/<sequence name>`` in the output folder: the same command finds it again."""
    head = FramePattern.parse(out).head
    name = os.path.basename(head).rstrip("._-") or "shot"
    return Path(os.path.dirname(head) or ".") / ".infusion" / name


def run(args: argparse.Namespace) -> int:
    sections = chosen(args)
    settings = preset(args.preset, **sections["settings"])
    request = ShotRequest(plate=args.plate, frames=args.frames, out=args.out, settings=settings, matte=args.matte,
                          matte_channel=args.matte_channel, **sections["options"])
    check_outputs_apart(request)
    device = args.device or ("cuda:0" if torch.cuda.is_available() else "cpu")
    work_dir = args.work_dir or default_work_dir(args.out)
    console = ConsoleProgress(request.settings)

    def progress(event: object) -> None:
        check_event(event)  # a diverged run stops before it writes frames
        console(event)

    result = run_shot(request, work_dir, device=device, progress=progress)
    for pattern in result.outputs + ((result.mean,) if result.mean else ()):
        print(pattern)
    return 0
