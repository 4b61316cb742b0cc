"""What a host submits: the EXR sequences it rendered and the user's choices, as engine fields."""
from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Tuple

from infusion.protocol.client import EngineClient
from infusion.protocol.shot import DEFAULT_PRESET, MATTE_CHANNEL, PRESETS, by_section, choices


def offered_presets(welcome: Mapping[str, Any]) -> Tuple[str, ...]:
    """The presets an engine's welcome names, the default first; without any, this release's."""
    names = list(welcome.get("presets") or ())
    return tuple(sorted(names, key=lambda name: name != DEFAULT_PRESET)) if names else PRESETS


class ShotSpec:
    """A shot ready to submit.

    plate: the rendered plate pattern (``/cache/in/plate.####.exr``, scene-linear EXR); matte: a
    separate matte sequence, or None to read ``matte_channel`` from the plate (the Nuke node
    renders the matte as the plate's alpha). Then the shot choices of protocol/shot.py by name
    (``seed=3, threshold=0.2``; read back as ``spec.seed``): None, or left out, is not set (the
    preset's or the engine's value), except seed and variants, which start at 0 and 1 as the forms do.
    """

    def __init__(self, plate: str, frames: Tuple[int, int], matte: Optional[str] = None,
                 matte_channel: str = MATTE_CHANNEL, preset: str = DEFAULT_PRESET, by_reference: bool = False,
                 **chosen: Any):
        self.plate, self.frames, self.matte, self.matte_channel = plate, frames, matte, matte_channel
        self.preset, self.by_reference = preset, by_reference
        self.chosen: Dict[str, Any] = {choice.name: None if choice.blank else choice.start for choice in choices()}
        by_section(chosen)  # a name that is no choice is an error
        self.chosen.update(chosen)

    def __getattr__(self, name: str) -> Any:
        chosen = self.__dict__.get("chosen", {})
        if name not in chosen:
            raise AttributeError(f"ShotSpec has no attribute {name!r}")
        return chosen[name]

    def settings(self) -> Dict[str, Any]:
        """Overrides of the preset's Settings (engine/method/settings.py)."""
        return by_section(self.chosen)["settings"]

    def options(self) -> Dict[str, Any]:
        """Plate handling options."""
        return by_section(self.chosen)["options"]

    def submit(self, client: EngineClient) -> Dict[str, Any]:
        """Send the shot; returns ``{"job", "state", "existing"}`` (see EngineClient.submit)."""
        return client.submit(self.plate, self.frames, matte=self.matte, matte_channel=self.matte_channel,
                             preset=self.preset, by_reference=self.by_reference, **by_section(self.chosen))
