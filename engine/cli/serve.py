"""``infusion serve``: run the engine service (see engine/service/server.py and protocol/README.md).

    infusion serve --bind tcp://127.0.0.1:5557 --store DIR [--device cpu | --device cuda:0,cuda:1]
                   [--allow-root DIR ...] [--curve-secret-key FILE --curve-allowed-clients DIR | --insecure]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List

import torch

from ..service.curve import CurveServer
from ..service.server import Service, ServiceConfig


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bind", default="tcp://127.0.0.1:5557", help="ZeroMQ endpoint (default tcp://127.0.0.1:5557; "
                        "tcp://127.0.0.1:* picks a free port)")
    parser.add_argument("--store", required=True, type=Path, help="job store folder (jobs survive restarts here)")
    parser.add_argument("--device", action="append", help="cpu, cuda:0 or a list cuda:0,cuda:1: one worker each "
                        "(default: every CUDA device, else cpu)")
    parser.add_argument("--allow-root", action="append", type=Path, default=[],
                        help="folder whose files may be submitted by reference (repeatable; none: by value only)")
    parser.add_argument("--curve-secret-key", type=Path, help="the engine's CURVE secret key file (infusion keys)")
    parser.add_argument("--curve-allowed-clients", type=Path, help="folder of allowed client public keys (*.key)")
    parser.add_argument("--curve-admin-key", action="append", type=Path, default=[],
                        help="a client public key file whose holder sees and manages every job (repeatable; "
                             "others see only the jobs their key submitted)")
    parser.add_argument("--insecure", action="store_true", help="allow a non-loopback bind without CURVE (trusted networks only)")
    parser.add_argument("--heartbeat", type=float, default=2.0, help="heartbeat interval in seconds (default 2)")
    parser.add_argument("--max-frame-mb", type=float, default=1024, help="largest message frame accepted, MiB (default 1024)")


def devices(requested: List[str]) -> List[str]:
    names = [name.strip() for item in requested for name in item.split(",") if name.strip()]
    if not names:
        names = [f"cuda:{i}" for i in range(torch.cuda.device_count())] or ["cpu"]
    for name in names:
        if name != "cpu" and not (name.startswith("cuda:") and name[5:].isdigit()):
            raise ValueError(f"device {name!r} must be cpu or cuda:N")
    if len(set(names)) != len(names):
        raise ValueError(f"a device is listed twice: {', '.join(names)}")
    return names


def run(args: argparse.Namespace) -> int:
    if bool(args.curve_secret_key) != bool(args.curve_allowed_clients):
        raise ValueError("--curve-secret-key and --curve-allowed-clients go together")
    if args.curve_admin_key and not args.curve_secret_key:
        raise ValueError("--curve-admin-key needs --curve-secret-key and --curve-allowed-clients")
    curve = (CurveServer.load(args.curve_secret_key, args.curve_allowed_clients, args.curve_admin_key)
             if args.curve_secret_key else None)
    for root in args.allow_root:
        if not root.is_dir():
            raise ValueError(f"allowed root {root} is not a folder")
    config = ServiceConfig(bind=args.bind, store=args.store, devices=devices(args.device or []),
                           roots=[root.resolve() for root in args.allow_root], curve=curve, insecure=args.insecure,
                           heartbeat=args.heartbeat, max_payload_bytes=int(args.max_frame_mb * (1 << 20)))
    service = Service(config)
    service.install_signal_handlers()
    if args.insecure:
        print(f"infusion serve: warning: --insecure: no CurveZMQ on {args.bind}; any machine that reaches it can "
              "submit, list, fetch and cancel jobs, and every frame travels unencrypted (trusted networks only)",
              file=sys.stderr, flush=True)

    def ready(endpoint: str) -> None:
        security = "CURVE" if curve else ("insecure" if args.insecure else "local only")
        print(f"infusion engine listening on {endpoint} ({security}; devices {', '.join(config.devices)}; "
              f"store {args.store})", flush=True)

    service.serve(ready)
    return 0
