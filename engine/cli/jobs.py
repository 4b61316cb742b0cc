"""``infusion jobs``: list an engine's jobs, newest first."""
from __future__ import annotations

import argparse
import json
import time

from .engine_client import add_engine_arguments, connect


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_engine_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print the job summaries as JSON")


def run(args: argparse.Namespace) -> int:
    with connect(args) as client:
        jobs = client.jobs()
    if args.json:
        print(json.dumps(jobs, indent=2))
        return 0
    for job in jobs:
        created = time.strftime("%Y-%m-%d %H:%M", time.localtime(job["created"]))
        first, last = job["frames"]
        problem = f"  {job['error']['code']}: {job['error']['message']}" if job["error"] else ""
        print(f"{job['job']}  {job['state']:<9} {job['progress']:4.0%}  frames {first}-{last}  "
              f"{job['preset']}  {created}{problem}")
    return 0
