"""The panel's fields: their kinds and defaults, the values kept in the comp, and the shot they describe.

Values are plain Python (str and int) keyed by the widgets' IDs. The panel keeps the last values
in the comp's data (``Infusion.Job``, ``Infusion.Engine``, ...: saved with the comp), so a reopened
comp shows the same choices, the job id included. The advanced fields (``OVERRIDES``) at 0 leave the
preset's value.
"""
from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Tuple

from infusion.host_plugins.common import (
    OPTION_DEFAULTS, PRESETS, Connection, ShotSpec, chosen_option, default_cache_root)

DATA_PREFIX = "Infusion."
SOURCE_ALPHA = "(the source's alpha)"  # the Matte choice that reads the matte from the source
COMBOS = ("Source", "Matte", "Preset")
# the advanced fields: the ShotSpec setting each overrides (0: the preset's)
OVERRIDES = {"Intervals": "intervals", "TrainSteps": "train_steps", "SampleSteps": "sample_steps",
             "WindowFrames": "window_frames"}
# SpinBox fields and their range
SPINS = {"First": (-1_000_000, 10_000_000), "Last": (-1_000_000, 10_000_000), "Seed": (0, 2_147_483_647),
         "Variants": (1, 64), "ShowVariant": (0, 64), "Dilation": (0, 10_000),
         **{name: (0, 1_000_000) for name in OVERRIDES}}
LINES = ("Engine", "Threshold", "Margin", "Colorspace", "Cache", "Job", "FarmFolder", "InfusionCommand", "FarmDevice")


def defaults(render_range: Tuple[int, int]) -> Dict[str, Any]:
    """The fields of a comp the panel never saw: its render range, the engine's defaults."""
    return {"Source": "", "Matte": SOURCE_ALPHA, "First": render_range[0], "Last": render_range[1],
            "Engine": Connection.from_environment().address, "Preset": PRESETS[0], "Seed": 0, "Variants": 1,
            "Threshold": str(OPTION_DEFAULTS["threshold"]), "Dilation": OPTION_DEFAULTS["dilation"],
            "Margin": str(OPTION_DEFAULTS["margin"]), "Colorspace": "", "Cache": default_cache_root(), "Job": "",
            "FarmFolder": "", "InfusionCommand": "", "FarmDevice": "cuda:0", "ShowVariant": 1,
            **{name: 0 for name in OVERRIDES}}


def keep(comp: Any, values: Mapping[str, Any]) -> None:
    """Save ``values`` in the comp's data."""
    for name, value in values.items():
        comp.SetData(DATA_PREFIX + name, value)


def kept(comp: Any, base: Mapping[str, Any]) -> Dict[str, Any]:
    """``base`` overlaid with the values the comp keeps, each of its field's type."""
    values = dict(base)
    for name in base:
        value = comp.GetData(DATA_PREFIX + name)
        if value is not None:
            values[name] = int(value) if name in SPINS else str(value)
    return values


def read(items: Mapping[str, Any]) -> Dict[str, Any]:
    """The values the window's widgets (``win.GetItems()``) show now."""
    values: Dict[str, Any] = {name: str(items[name].CurrentText) for name in COMBOS}
    values.update({name: int(items[name].Value) for name in SPINS})
    values.update({name: str(items[name].Text).strip() for name in LINES})
    return values


def frame_range(values: Mapping[str, Any]) -> Tuple[int, int]:
    frames = int(values["First"]), int(values["Last"])
    if frames[1] < frames[0]:
        raise ValueError(f"the frame range {frames[0]}-{frames[1]} ends before it starts")
    return frames


def _number(values: Mapping[str, Any], name: str) -> float:
    try:
        return float(values[name])
    except ValueError:
        raise ValueError(f"{name.lower()} {values[name]!r} is not a number") from None


def _overrides(values: Mapping[str, Any]) -> Dict[str, Optional[int]]:
    """The advanced fields as ShotSpec settings; None (the preset's) at 0."""
    return {setting: int(values[name]) or None for name, setting in OVERRIDES.items()}


def shot_spec(values: Mapping[str, Any], plate: str, matte: Optional[str], frames: Tuple[int, int]) -> ShotSpec:
    """The shot the fields describe: ``plate`` (RGBA EXR), the matte in ``matte``'s alpha or, without
    one, in the plate's. Options left at the engine's defaults, and advanced fields at 0, are not sent."""
    return ShotSpec(
        plate=plate, frames=frames, matte=matte, matte_channel="A", preset=str(values["Preset"]),
        seed=int(values["Seed"]), variants=max(1, int(values["Variants"])),
        threshold=chosen_option("threshold", _number(values, "Threshold")),
        dilation=chosen_option("dilation", int(values["Dilation"])),
        margin=chosen_option("margin", _number(values, "Margin")), colorspace=str(values["Colorspace"]) or None,
        **_overrides(values))


def connection(values: Mapping[str, Any]) -> Connection:
    return Connection.from_environment(str(values["Engine"]))


def cache_root(values: Mapping[str, Any]) -> str:
    return str(values["Cache"]) or default_cache_root()
