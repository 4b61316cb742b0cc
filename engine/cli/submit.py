"""``infusion submit``: send a shot to an engine, follow its progress, write the returned frames.

    infusion submit --engine tcp://HOST:PORT --plate P --matte P --frames A-B --out P [--by-reference] [...]

By value (default) the EXR files travel to the engine; with ``--by-reference`` only their paths
do (the engine must be able to read them under one of its ``--allow-root`` folders).
"""
from __future__ import annotations

import argparse
import os
import sys

from infusion.protocol.messages import MAX_LABEL, printable

from .engine_client import add_engine_arguments, connect, follow
from .shot_arguments import add_shot_arguments, chosen


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_engine_arguments(parser)
    add_shot_arguments(parser, "where to write the returned frames (omit with --no-wait)", out_required=False)
    parser.add_argument("--by-reference", action="store_true", help="send paths, not files (the engine reads them)")
    parser.add_argument("--no-wait", action="store_true", help="print the job id and return at once")


def run(args: argparse.Namespace) -> int:
    if args.out is None and not args.no_wait:
        raise ValueError("--out is required unless --no-wait is given")
    absolute = (lambda path: os.path.abspath(path) if path else path) if args.by_reference else (lambda path: path)
    with connect(args) as client:
        accepted = client.submit(absolute(args.plate), args.frames, matte=absolute(args.matte),
                                 matte_channel=args.matte_channel, preset=args.preset, by_reference=args.by_reference,
                                 **chosen(args))
        state = f"existing job, {accepted['state']}" if accepted["existing"] else accepted["state"]
        print(f"job {accepted['job']} ({state}; preset {printable(accepted.get('preset', args.preset), MAX_LABEL)})",
              file=sys.stderr, flush=True)
        if args.no_wait:
            print(accepted["job"])
            return 0
        return follow(client, accepted["job"], args.out)
