"""The flags that describe a shot, shared by ``infusion run``, ``submit`` and ``farm submit``: the
plate, matte, range, output and preset, then one flag per shot choice of protocol/shot.py."""
from __future__ import annotations

import argparse
from typing import Any, Callable, Dict

from infusion.protocol.messages import ProtocolError, choice_check
from infusion.protocol.shot import DEFAULT_PRESET, MATTE_CHANNEL, Choice, by_section, choices

from ..method.presets import PRESETS
from ..plates.sequence import frame_range_argument

METAVARS = {int: "N", float: "X", str: "NAME"}


def _reader(choice: Choice) -> Callable[[str], Any]:
    """argparse ``type=`` of a choice: its value, checked as the wire checks it; None at its blank value."""
    def read(text: str) -> Any:
        try:
            value = choice.read(text)
            return None if value is None else choice_check(choice)(value, choice.name)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
        except ProtocolError as error:
            raise argparse.ArgumentTypeError(error.message) from None
    return read


def add_shot_arguments(parser: argparse.ArgumentParser, out_help: str, out_required: bool = True) -> None:
    parser.add_argument("--plate", required=True, help="plate sequence, e.g. shot.####.exr or shot.%%04d.exr")
    parser.add_argument("--matte", help="matte sequence (default: --matte-channel of the plate)")
    parser.add_argument("--frames", required=True, type=frame_range_argument, help="first-last frame, e.g. 1001-1048")
    parser.add_argument("--out", required=out_required, help=out_help)
    parser.add_argument("--matte-channel", default=MATTE_CHANNEL,
                        help=f"channel holding the matte (default {MATTE_CHANNEL})")
    parser.add_argument("--preset", default=DEFAULT_PRESET, choices=list(PRESETS),
                        help=f"settings preset (default {DEFAULT_PRESET})")
    for choice in choices():
        metavar = "|".join(choice.write(value) for value in choice.values) or METAVARS[choice.kind]
        parser.add_argument(choice.flag, dest=choice.name, type=_reader(choice), metavar=metavar,
                            help=choice.tip.replace("%", "%%"))


def chosen(args: argparse.Namespace) -> Dict[str, Dict[str, Any]]:
    """``{"settings": {...}, "options": {...}}``: the shot choices the flags set."""
    return by_section({choice.name: getattr(args, choice.name) for choice in choices()})
