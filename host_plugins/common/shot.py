"""What a host submits: the EXR sequences it rendered and the user's choices, as engine fields."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple, TypeVar

from infusion.protocol.client import EngineClient

# The engine's own defaults of the matte options (engine/plates/shot.py ShotRequest): a host sends an
# option only when the compositor chose another value, so the shot says only what was chosen.
OPTION_DEFAULTS = {"threshold": 0.01, "dilation": 0, "margin": 1.0}
PRESETS = ("standard", "preview", "paper", "test")  # the engine's presets (engine/method/presets.py), its default first
T = TypeVar("T")


def chosen_option(name: str, value: T) -> Optional[T]:
    """``value``, or None (nothing sent) when it is the engine's default for the option ``name``."""
    return None if value == OPTION_DEFAULTS[name] else value


@dataclass(frozen=True)
class ShotSpec:
    """A shot ready to submit.

    plate: the rendered plate pattern (``/cache/in/plate.####.exr``, scene-linear EXR); matte: a
    separate matte sequence, or None to read ``matte_channel`` from the plate (the Nuke node
    renders the matte as the plate's alpha). Fields left None take the preset's (or the engine's)
    value: threshold, dilation (pixels), margin (ROI context) and colorspace (an OCIO name; None is
    the engine config's scene_linear role) are plate options; intervals, train_steps (per
    interval), sample_steps (per interval) and window_frames override the preset's settings.
    """

    plate: str
    frames: Tuple[int, int]
    matte: Optional[str] = None
    matte_channel: str = "A"
    preset: str = "standard"
    seed: int = 0
    variants: int = 1
    threshold: Optional[float] = None
    dilation: Optional[int] = None
    margin: Optional[float] = None
    colorspace: Optional[str] = None
    intervals: Optional[int] = None
    train_steps: Optional[int] = None
    sample_steps: Optional[int] = None
    window_frames: Optional[int] = None
    by_reference: bool = False

    def settings(self) -> Dict[str, Any]:
        """Overrides of the preset's Settings (engine/method/settings.py)."""
        chosen = {"seed": self.seed, "variants": self.variants, "intervals": self.intervals,
                  "train_steps": self.train_steps, "sample_steps": self.sample_steps, "window_frames": self.window_frames}
        return {key: value for key, value in chosen.items() if value is not None}

    def options(self) -> Dict[str, Any]:
        """Plate handling options (engine/service/intake.py OPTIONS)."""
        chosen = {"threshold": self.threshold, "dilation": self.dilation, "margin": self.margin, "colorspace": self.colorspace}
        return {key: value for key, value in chosen.items() if value is not None}

    def submit(self, client: EngineClient) -> Dict[str, Any]:
        """Send the shot; returns ``{"job", "state", "existing"}`` (see EngineClient.submit)."""
        return client.submit(self.plate, self.frames, matte=self.matte, matte_channel=self.matte_channel,
                             preset=self.preset, settings=self.settings(), options=self.options(),
                             by_reference=self.by_reference)
