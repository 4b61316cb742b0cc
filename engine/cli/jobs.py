"""``infusion jobs``: list an engine's jobs, newest first, or purge its finished ones.

Every text an engine sends is printed through ``printable``: a label or an error message holding
control characters cannot clear the terminal or forge a row.
"""
from __future__ import annotations

import argparse
import json
import re
import time
from typing import Any, Dict

from infusion.protocol.messages import MAX_AGE, MAX_LABEL, MAX_SUMMARY_MESSAGE, printable

from .engine_client import add_engine_arguments, connect

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
AGE = re.compile(r"(\d+(?:\.\d+)?)([smhdw]?)")


def age_seconds(text: str) -> float:
    """``30d``, ``12h``, ``90m``, ``45s`` (or bare seconds) as seconds; argparse says what is wrong."""
    found = AGE.fullmatch(text.strip())
    if not found:
        raise argparse.ArgumentTypeError(f"{text!r} is not an age such as 30d, 12h, 90m or 45s")
    seconds = float(found.group(1)) * UNITS[found.group(2) or "s"]
    if seconds > MAX_AGE:
        raise argparse.ArgumentTypeError(f"{text!r} exceeds {MAX_AGE / 86400:.0f} days")
    return seconds


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_engine_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print the job summaries as JSON")
    parser.add_argument("--limit", type=int, help="list only the newest LIMIT jobs (default: every job)")
    parser.add_argument("--purge-older-than", metavar="AGE", type=age_seconds,
                        help="delete the finished jobs (done, failed, cancelled) that ended more than AGE ago "
                             "(30d, 12h, 90m, 45s), their files included, instead of listing")


def row(job: Dict[str, Any]) -> str:
    """One line of the listing, every engine-sent text made printable."""
    created = time.strftime("%Y-%m-%d %H:%M", time.localtime(job["created"]))
    first, last = job["frames"]
    error = job["error"]
    problem = (f"  {printable(error['code'], MAX_LABEL)}: {printable(error['message'], MAX_SUMMARY_MESSAGE)}"
               if error else "")
    return (f"{printable(job['job'], MAX_LABEL)}  {printable(job['state'], MAX_LABEL):<9} {job['progress']:4.0%}  "
            f"frames {first}-{last}  {printable(job['preset'], MAX_LABEL)}  {created}{problem}")


def run(args: argparse.Namespace) -> int:
    if args.limit is not None and args.limit < 1:
        raise ValueError(f"--limit must be at least 1, got {args.limit}")
    with connect(args) as client:
        if args.purge_older_than is not None:
            purged = client.purge(args.purge_older_than)
            print(f"purged {purged} finished job{'s' if purged != 1 else ''}")
            return 0
        jobs = client.jobs(args.limit)
    if args.json:
        print(json.dumps(jobs, indent=2))
        return 0
    for job in jobs:
        print(row(job))
    return 0
