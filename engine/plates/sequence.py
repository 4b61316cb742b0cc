"""Frame-numbered file patterns (``name.####.exr``, ``name.%04d.exr``) and frame ranges."""
from __future__ import annotations

import argparse
import os
import re
from dataclasses import dataclass
from typing import Tuple

_TOKEN = re.compile(r"#+|%(0\d+)?d")


@dataclass(frozen=True)
class FramePattern:
    """A path with one frame-number token: ``head`` + the zero-padded frame + ``tail``."""

    head: str
    padding: int
    tail: str

    @classmethod
    def parse(cls, pattern: str) -> "FramePattern":
        """``####`` pads to the number of hashes, ``%04d`` to 4 digits, ``%d`` not at all."""
        tokens = list(_TOKEN.finditer(os.path.basename(pattern)))
        if len(tokens) != 1:
            raise ValueError(f"pattern {pattern!r} must hold exactly one frame token (#### or %04d), found {len(tokens)}")
        offset = len(pattern) - len(os.path.basename(pattern))
        start, end = tokens[0].start() + offset, tokens[0].end() + offset
        token = tokens[0].group(0)
        padding = len(token) if token.startswith("#") else int(tokens[0].group(1) or "1")
        return cls(pattern[:start], padding, pattern[end:])

    def path(self, frame: int) -> str:
        return f"{self.head}{frame:0{self.padding}d}{self.tail}"

    def renamed(self, label: str) -> "FramePattern":
        """The same sequence with ``_label`` added to its name: ``fill.####.exr`` -> ``fill_v2.####.exr``.

        A name that is only the frame number (``out/####.exr``) becomes ``out/v2.####.exr``.
        """
        stem = self.head.rstrip("._-")
        separator = self.head[len(stem):]
        if not stem or stem.endswith(("/", os.sep)):
            return FramePattern(f"{stem}{label}{separator or '.'}", self.padding, self.tail)
        return FramePattern(f"{stem}_{label}{separator}", self.padding, self.tail)

    def __str__(self) -> str:
        return f"{self.head}{'#' * self.padding}{self.tail}"


def parse_frame_range(text: str) -> Tuple[int, int]:
    """``"1001-1048"`` -> (1001, 1048), both ends included; ``"1001"`` is a single frame."""
    match = re.fullmatch(r"\s*(-?\d+)\s*(?:-\s*(-?\d+)\s*)?", text)
    if not match:
        raise ValueError(f"frame range {text!r} must look like 1001-1048 or 1001")
    first = int(match.group(1))
    last = int(match.group(2)) if match.group(2) is not None else first
    return check_frame_range((first, last))


def frame_range_argument(text: str) -> Tuple[int, int]:
    """``parse_frame_range`` for argparse ``type=``: its message reaches the user as it is."""
    try:
        return parse_frame_range(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def check_frame_range(frames: Tuple[int, int]) -> Tuple[int, int]:
    """The range itself, or a ValueError if its last frame comes before its first."""
    first, last = int(frames[0]), int(frames[1])
    if last < first:
        raise ValueError(f"frame range {first}-{last} ends before it starts")
    return first, last
