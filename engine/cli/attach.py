"""``infusion attach JOB_ID``: follow a job again, receiving what was missed, writing its frames."""
from __future__ import annotations

import argparse

from .engine_client import add_engine_arguments, connect, follow


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("job", help="the job id (infusion jobs lists them)")
    add_engine_arguments(parser)
    parser.add_argument("--out", help="where to write the job's frames (omit to follow progress only)")
    parser.add_argument("--since", type=int, default=0, help="skip events up to this sequence number (default 0: all)")


def run(args: argparse.Namespace) -> int:
    with connect(args) as client:
        return follow(client, args.job, args.out, since=args.since)
