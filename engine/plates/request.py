"""What the engine is asked to fill and how: the shot pipeline's request (engine/plates/shot.py)."""
from __future__ import annotations

from dataclasses import field, make_dataclass
from typing import Optional, Tuple

from infusion.protocol.shot import MATTE_CHANNEL, choices

from ..method.settings import Settings

ShotRequest = make_dataclass("ShotRequest", [
    ("plate", str), ("frames", Tuple[int, int]), ("out", str), ("settings", Settings),
    ("matte", Optional[str], field(default=None)), ("matte_channel", str, field(default=MATTE_CHANNEL)),
    *((choice.name, choice.kind, field(default=choice.default)) for choice in choices("options")),
    ("ocio_config", Optional[str], field(default=None)), ("previews", bool, field(default=True)),
], frozen=True, namespace={"__module__": __name__, "__doc__": """What to fill and how.

    plate, matte, out: sequence patterns (``name.####.exr`` or ``name.%04d.exr``); frames: the
    first and last frame, both included. matte None takes ``matte_channel`` from the plate. Then
    one field per shot option of protocol/shot.py (threshold and dilation: engine/plates/matte_rule.py;
    margin: context around the matte's box, in multiples of its longest side; colorspace, encoding:
    OCIO names of the plate's and the network's spaces). ocio_config: a config path (None: $OCIO,
    else the built-in studio config). previews: write preview EXRs after each interval.
    """})
