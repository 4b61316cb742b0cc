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
from ..method.presets import PRESETS, preset
from ..plates.sequence import FramePattern, frame_range_argument
from ..plates.request import ShotRequest
from ..plates.shot import run_shot


def add_shot_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that describe a shot and how to fill it (shared with ``infusion farm submit``)."""
    parser.add_argument("--plate", required=True, help="plate sequence, e.g. shot.####.exr or shot.%%04d.exr")
    parser.add_argument("--matte", help="matte sequence (default: --matte-channel of the plate)")
    parser.add_argument("--frames", required=True, type=frame_range_argument, help="first-last frame, e.g. 1001-1048")
    parser.add_argument("--out", required=True, help="output sequence; with --variants K > 1, _v1.._vK and _mean are added")
    parser.add_argument("--matte-channel", default="A", help="channel holding the matte (default A)")
    parser.add_argument("--preset", default="standard", choices=list(PRESETS), help="settings preset (default standard)")
    parser.add_argument("--seed", type=int, help="random seed (default: the preset's)")
    parser.add_argument("--variants", type=int, help="number of fills to sample (default 1)")
    parser.add_argument("--device", help="cpu, cuda:0, ... (default: cuda:0 if available, else cpu)")
    parser.add_argument("--threshold", type=float, default=0.01, help="matte values above this are filled (default 0.01)")
    parser.add_argument("--dilation", type=int, default=0, help="grow the matte by this many pixels (default 0)")
    parser.add_argument("--margin", type=float, default=1.0,
                        help="context around the matte, in multiples of its box's longest side (default 1.0)")
    parser.add_argument("--colorspace", help="OCIO colourspace of the plate (default: the scene_linear role)")
    parser.add_argument("--encoding", help="OCIO log colourspace the network works in (default: compositing_log role)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_shot_arguments(parser)
    parser.add_argument("--train-steps", type=int, help="training steps per interval (default: the preset's)")
    parser.add_argument("--work-dir", type=Path, help="checkpoints and previews (default: .infusion/NAME beside --out)")


def default_work_dir(out: str) -> Path:
    """``.infusion/<sequence name>`` in the output folder: the same command finds it again."""
    head = FramePattern.parse(out).head
    name = os.path.basename(head).rstrip("._-") or "shot"
    return Path(os.path.dirname(head) or ".") / ".infusion" / name


def run(args: argparse.Namespace) -> int:
    overrides = {key: value for key, value in (("seed", args.seed), ("variants", args.variants),
                                               ("train_steps", args.train_steps)) if value is not None}
    request = ShotRequest(
        plate=args.plate, frames=args.frames, out=args.out, settings=preset(args.preset, **overrides),
        matte=args.matte, matte_channel=args.matte_channel, threshold=args.threshold, dilation=args.dilation,
        margin=args.margin, colorspace=args.colorspace, encoding=args.encoding,
    )
    device = args.device or ("cuda:0" if torch.cuda.is_available() else "cpu")
    work_dir = args.work_dir or default_work_dir(args.out)
    result = run_shot(request, work_dir, device=device, progress=ConsoleProgress())
    for pattern in result.outputs + ((result.mean,) if result.mean else ()):
        print(pattern)
    return 0
