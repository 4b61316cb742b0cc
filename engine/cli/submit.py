"""``infusion submit``: send a shot to an engine, follow its progress, write the returned frames.

    infusion submit --engine tcp://HOST:PORT --plate P --matte P --frames A-B --out P [--by-reference] [...]

By value (default) the EXR files travel to the engine; with ``--by-reference`` only their paths
do (the engine must be able to read them under one of its ``--allow-root`` folders).
"""
from __future__ import annotations

import argparse
import os
import sys

from ..method.presets import PRESETS
from .engine_client import add_engine_arguments, connect, follow
from ..plates.sequence import frame_range_argument

# Settings and plate options of ``infusion run`` that travel with a submit: (flag, type, key, where).
SHOT_FLAGS = (
    ("--seed", int, "seed", "settings"), ("--variants", int, "variants", "settings"),
    ("--train-steps", int, "train_steps", "settings"), ("--threshold", float, "threshold", "options"),
    ("--dilation", int, "dilation", "options"), ("--margin", float, "margin", "options"),
    ("--colorspace", str, "colorspace", "options"), ("--encoding", str, "encoding", "options"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_engine_arguments(parser)
    parser.add_argument("--plate", required=True, help="plate sequence, e.g. shot.####.exr")
    parser.add_argument("--matte", help="matte sequence (default: --matte-channel of the plate)")
    parser.add_argument("--matte-channel", default="A", help="channel holding the matte (default A)")
    parser.add_argument("--frames", required=True, type=frame_range_argument, help="first-last frame, e.g. 1001-1048")
    parser.add_argument("--out", help="where to write the returned frames (omit with --no-wait)")
    parser.add_argument("--preset", default="standard", choices=list(PRESETS), help="settings preset (default standard)")
    for flag, kind, key, where in SHOT_FLAGS:
        parser.add_argument(flag, type=kind, dest=key, help=f"{key.replace('_', ' ')} (default: the engine's)")
    parser.add_argument("--by-reference", action="store_true", help="send paths, not files (the engine reads them)")
    parser.add_argument("--no-wait", action="store_true", help="print the job id and return at once")


def run(args: argparse.Namespace) -> int:
    if args.out is None and not args.no_wait:
        raise ValueError("--out is required unless --no-wait is given")
    sections = {"settings": {}, "options": {}}
    for flag, kind, key, where in SHOT_FLAGS:
        if getattr(args, key) is not None:
            sections[where][key] = getattr(args, key)
    absolute = (lambda path: os.path.abspath(path) if path else path) if args.by_reference else (lambda path: path)
    with connect(args) as client:
        accepted = client.submit(absolute(args.plate), args.frames, matte=absolute(args.matte),
                                 matte_channel=args.matte_channel, preset=args.preset, by_reference=args.by_reference,
                                 **sections)
        state = f"existing job, {accepted['state']}" if accepted["existing"] else accepted["state"]
        print(f"job {accepted['job']} ({state})", file=sys.stderr, flush=True)
        if args.no_wait:
            print(accepted["job"])
            return 0
        return follow(client, accepted["job"], args.out)
