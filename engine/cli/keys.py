"""``infusion keys``: make a CurveZMQ key pair for an engine or a client.

    infusion keys --dir keys --name engine        # engine.key (give to clients), engine.key_secret
    infusion keys --dir keys --name nuke-ws12     # copy nuke-ws12.key into the engine's allowed folder
"""
from __future__ import annotations

import argparse
from pathlib import Path

from ..service.curve import create_keys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dir", type=Path, required=True, help="folder to write the key pair into")
    parser.add_argument("--name", required=True, help="key name: NAME.key (public) and NAME.key_secret")


def run(args: argparse.Namespace) -> int:
    for path in create_keys(args.dir, args.name):
        print(path)
    return 0
