"""The panel's fields: their kinds and defaults, the values kept in the comp, and the shot they describe.

Values are plain Python (str and int) keyed by the widgets' IDs. The panel keeps the last values
in the comp's data (``Infusion.Job``, ``Infusion.Engine``, ...: saved with the comp), so a reopened
comp shows the same choices, the job id included. Besides its own fields (the tools, the range,
the engine, the cache, the farm), the panel has one per shot choice of protocol/shot.py, its ID
the choice's ``camel`` name (``TrainSteps``): a ComboBox for a choice of a few values (its blank
entry first: ``preset``), a SpinBox for an integer, a LineEdit otherwise; at its blank value (0 or
``preset`` for the advanced ones, the engine's default for the matte) it sends nothing.
"""
from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Tuple

from infusion.host_plugins.common import Connection, ShotSpec, default_cache_root
from infusion.protocol.shot import DEFAULT_PRESET, choices

DATA_PREFIX = "Infusion."
SOURCE_ALPHA = "(the source's alpha)"  # the Matte choice that reads the matte from the source
COMBOS = ("Source", "Matte", "Preset")
PANEL_SPINS = {"First": (-1_000_000, 10_000_000), "Last": (-1_000_000, 10_000_000), "ShowVariant": (0, 64)}
PANEL_LINES = ("Engine", "Cache", "Job", "FarmFolder", "InfusionCommand", "FarmDevice")


def menus() -> Dict[str, Tuple[str, ...]]:
    """The ComboBox fields of the shot choices and their entries."""
    return {choice.camel: choice.menu for choice in choices() if choice.values}


def combos() -> Tuple[str, ...]:
    """Every ComboBox field: the panel's own, then the shot choices' menus."""
    return COMBOS + tuple(menus())


def spins() -> Dict[str, Tuple[int, int]]:
    """The SpinBox fields and their range."""
    ranges = {choice.camel: choice.form_range for choice in choices() if choice.kind is int and not choice.values}
    return {**PANEL_SPINS, **{name: (int(low), int(high)) for name, (low, high) in ranges.items()}}


def lines() -> Tuple[str, ...]:
    """The LineEdit fields."""
    return PANEL_LINES + tuple(choice.camel for choice in choices() if choice.kind is not int and not choice.values)


def defaults(render_range: Tuple[int, int]) -> Dict[str, Any]:
    """The fields of a comp the panel never saw: its render range, the choices' start values."""
    return {"Source": "", "Matte": SOURCE_ALPHA, "First": render_range[0], "Last": render_range[1],
            "Engine": Connection.from_environment().address, "Preset": DEFAULT_PRESET, "Cache": default_cache_root(),
            "Job": "", "FarmFolder": "", "InfusionCommand": "", "FarmDevice": "cuda:0", "ShowVariant": 1,
            **{choice.camel: choice.start if choice.kind is int else str(choice.start) for choice in choices()}}


def keep(comp: Any, values: Mapping[str, Any]) -> None:
    """Save ``values`` in the comp's data."""
    for name, value in values.items():
        comp.SetData(DATA_PREFIX + name, value)


def kept(comp: Any, base: Mapping[str, Any]) -> Dict[str, Any]:
    """``base`` overlaid with the values the comp keeps, each of its field's type."""
    values = dict(base)
    numbers = spins()
    for name in base:
        value = comp.GetData(DATA_PREFIX + name)
        if value is not None:
            values[name] = int(value) if name in numbers else str(value)
    return values


def read(items: Mapping[str, Any]) -> Dict[str, Any]:
    """The values the window's widgets (``win.GetItems()``) show now."""
    values: Dict[str, Any] = {name: str(items[name].CurrentText) for name in combos()}
    values.update({name: int(items[name].Value) for name in spins()})
    values.update({name: str(items[name].Text).strip() for name in lines()})
    return values


def frame_range(values: Mapping[str, Any]) -> Tuple[int, int]:
    frames = int(values["First"]), int(values["Last"])
    if frames[1] < frames[0]:
        raise ValueError(f"the frame range {frames[0]}-{frames[1]} ends before it starts")
    return frames


def shot_spec(values: Mapping[str, Any], plate: str, matte: Optional[str], frames: Tuple[int, int]) -> ShotSpec:
    """The shot the fields describe: ``plate`` (RGBA EXR), the matte in ``matte``'s alpha or, without
    one, in the plate's. Fields at their blank value are not sent; text that is no number is a ValueError."""
    chosen = {choice.name: choice.read(values[choice.camel]) for choice in choices()}
    return ShotSpec(plate=plate, frames=frames, matte=matte, preset=str(values["Preset"]), **chosen)


def connection(values: Mapping[str, Any]) -> Connection:
    return Connection.from_environment(str(values["Engine"]))


def cache_root(values: Mapping[str, Any]) -> str:
    return str(values["Cache"]) or default_cache_root()
