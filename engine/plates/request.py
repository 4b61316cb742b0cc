"""What the engine is asked to fill and how: the shot pipeline's request (engine/plates/shot.py)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

from ..method.settings import Settings


@dataclass(frozen=True)
class ShotRequest:
    """What to fill and how.

    plate, matte, out: sequence patterns (``name.####.exr`` or ``name.%04d.exr``); frames: the
    first and last frame, both included. matte None takes ``matte_channel`` from the plate.
    threshold, dilation: see engine/plates/matte_rule.py (pixels whose dilated matte is above the threshold
    are filled). margin: context around the matte's box on every side, in multiples of the box's
    longest side. colorspace: the plate's (None: the scene_linear role); encoding: the network's
    log-like colourspace (None: the compositing_log role); ocio_config: a config path (None:
    $OCIO, else the built-in studio config). previews: write preview EXRs after each interval.
    """

    plate: str
    frames: Tuple[int, int]
    out: str
    settings: Settings
    matte: Optional[str] = None
    matte_channel: str = "A"
    threshold: float = 0.01
    dilation: int = 0
    margin: float = 1.0
    colorspace: Optional[str] = None
    encoding: Optional[str] = None
    ocio_config: Optional[str] = None
    previews: bool = True
