"""Shared by the client commands (submit, jobs, cancel, attach): the engine address and keys,
following a job while writing its frames, and the one line a command that fails ends with."""
from __future__ import annotations

import argparse
import errno
import sys
from typing import Any, Optional, TextIO, Tuple

from infusion.protocol.client import CurveKeys, EngineClient
from infusion.protocol.files import write_atomically
from infusion.protocol.messages import MAX_LABEL, MAX_TEXT, ErrorCode, ProtocolError, printable
from infusion.protocol.progress import preview_text, progress_text

from ..plates.shot import output_patterns


def add_engine_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--engine", default="tcp://127.0.0.1:5557", help="engine address (default tcp://127.0.0.1:5557)")
    parser.add_argument("--server-key", help="the engine's CURVE public key file (engines beyond loopback)")
    parser.add_argument("--client-key", help="this client's CURVE secret key file (infusion keys)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for an answer (default 10)")


def connect(args: argparse.Namespace) -> EngineClient:
    if bool(args.server_key) != bool(args.client_key):
        raise ValueError("--server-key and --client-key go together")
    curve = CurveKeys.load(args.server_key, args.client_key) if args.server_key else None
    client = EngineClient(args.engine, timeout=args.timeout, curve=curve, name="infusion-cli")
    client.connect()
    return client


def follow(client: EngineClient, job: str, out: Optional[str], since: int = 0, log: Optional[TextIO] = None) -> int:
    """Print the job's progress and write its frames to ``out`` until it ends: 0 done, 1 failed, 3 cancelled.

    Frames go where ``infusion run`` would put them: ``out`` itself for one variant, ``_vK`` and
    ``_mean`` added to its name for several. Without ``out`` frames are not fetched.
    """
    log = log or sys.stderr
    shown: Optional[Tuple[Any, Any]] = None
    for event in client.events(job, since=since, fetch_frames=out is not None):
        fields = event.fields
        if event.type == "progress":
            if (fields["phase"], fields["interval"]) != shown:  # a line per phase of each interval
                shown = fields["phase"], fields["interval"]
                print(progress_text(fields), file=log, flush=True)
        elif event.type == "preview":
            print(preview_text(fields), file=log, flush=True)
        elif event.type == "frame" and out is not None:
            patterns, mean = output_patterns(out, fields["variants"])
            pattern = mean if fields["variant"] == 0 else patterns[fields["variant"] - 1]
            path = pattern.path(fields["frame"])
            write_atomically(path, event.payloads[0])
            print(path, flush=True)
        elif event.type == "done":
            return 0
        elif event.type == "failed":
            print(f"job {job} failed: {printable(fields['code'], MAX_LABEL)}: {printable(fields['message'], MAX_TEXT)}",
                  file=log, flush=True)
            return 1
        elif event.type == "cancelled":
            print(f"job {job} was cancelled", file=log, flush=True)
            return 3
    return 1


def command_error(error: Exception) -> ProtocolError:
    """What a client command that stopped on ``error`` says, as ``error: CODE: message``: the
    engine's error (or the client's: engine_unavailable, too_large) as it is; a file of the user's
    that is missing (not_found), on a full disk (store_full) or otherwise unusable (bad_input),
    named; bad input (a ValueError) as bad_input; anything else as internal."""
    if isinstance(error, ProtocolError):
        return error
    if isinstance(error, OSError):
        where = f"{error.filename}: " if error.filename else ""
        code = {errno.ENOENT: ErrorCode.NOT_FOUND, errno.ENOSPC: ErrorCode.STORE_FULL,
                errno.EDQUOT: ErrorCode.STORE_FULL}.get(error.errno, ErrorCode.BAD_INPUT)
        return ProtocolError(code, f"{where}{error.strerror or error}")
    if isinstance(error, ValueError):
        return ProtocolError(ErrorCode.BAD_INPUT, str(error))
    return ProtocolError(ErrorCode.INTERNAL, f"internal error: {type(error).__name__}: {error}")
