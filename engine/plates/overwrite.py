"""Outputs never overwrite inputs: an output frame that resolves to a plate or matte frame is refused."""
from __future__ import annotations

import os
from typing import Dict

from .request import ShotRequest
from .sequence import FramePattern
from .shot import output_patterns


def check_outputs_apart(request: ShotRequest) -> None:
    """A ValueError naming both files if an output frame of ``request`` (any variant, the mean)
    is one of its plate or matte frames, symlinks resolved."""
    first, last = request.frames
    inputs: Dict[str, str] = {}
    for role, pattern in (("plate", request.plate), ("matte", request.matte)):
        for frame in range(first, last + 1) if pattern else ():
            path = FramePattern.parse(pattern).path(frame)
            inputs[os.path.realpath(path)] = f"{role} frame {frame} {path}"
    patterns, mean = output_patterns(request.out, request.settings.variants)
    for pattern in patterns + ([mean] if mean else []):
        for frame in range(first, last + 1):
            found = inputs.get(os.path.realpath(pattern.path(frame)))
            if found:
                raise ValueError(f"the output frame {pattern.path(frame)} would overwrite the {found}: "
                                 "outputs must not be inputs")
