"""The ``infusion`` command: one subcommand per module, imported only when it runs.

Each command module has ``add_arguments(parser)`` and ``run(args) -> int`` (the exit status).
"""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import Dict, List, Optional, Tuple

from infusion.protocol.messages import MAX_TEXT, printable

COMMANDS: Dict[str, Tuple[str, str]] = {
    "bench": ("infusion.engine.cli.bench", "time training and sampling steps at a shape, preset and device"),
    "eval": ("infusion.engine.cli.eval", "score Infusion and baselines inside synthetic mattes on clips with known truth"),
    "farm": ("infusion.engine.cli.farm", "write Open Job Description job bundles for a render farm"),
    "run": ("infusion.engine.cli.run", "fill the matte of a shot: EXR sequences in, EXR sequences out"),
    "demo": ("infusion.engine.cli.demo", "make the built-in sample shot, fill it on the CPU, write EXRs and a contact sheet"),
    "serve": ("infusion.engine.cli.serve", "run the engine service: jobs over ZeroMQ, a job store on disk"),
    "submit": ("infusion.engine.cli.submit", "send a shot to an engine, follow it, write the returned frames"),
    "jobs": ("infusion.engine.cli.jobs", "list an engine's jobs, or purge finished ones"),
    "cancel": ("infusion.engine.cli.cancel", "cancel a job on an engine"),
    "attach": ("infusion.engine.cli.attach", "follow a job on an engine again, receiving what was missed"),
    "keys": ("infusion.engine.cli.keys", "make a CurveZMQ key pair for an engine or a client"),
}
CLIENT_COMMANDS = ("submit", "jobs", "cancel", "attach")  # they end on error with ``error: CODE: message``


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="infusion", description="Infusion video inpainting engine")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module, help_text) in COMMANDS.items():
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(module=module)
        importlib.import_module(module).add_arguments(sub)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(importlib.import_module(args.module).run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        if args.command in CLIENT_COMMANDS:  # whatever stopped it: one line with its code, no traceback
            from .engine_client import command_error
            print(f"infusion {args.command}: error: {printable(command_error(error), MAX_TEXT)}", file=sys.stderr)
            return 2
        if isinstance(error, ValueError):  # bad input: say what is wrong, no traceback
            print(f"infusion {args.command}: error: {error}", file=sys.stderr)
            return 2
        raise

