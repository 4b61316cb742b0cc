"""``infusion cancel JOB_ID``: stop a job (submitting it again resumes it)."""
from __future__ import annotations

import argparse

from .engine_client import add_engine_arguments, connect


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("job", help="the job id (infusion jobs lists them)")
    add_engine_arguments(parser)


def run(args: argparse.Namespace) -> int:
    with connect(args) as client:
        summary = client.cancel(args.job)
    print(f"job {summary['job']}: {summary['state']}")
    return 0
