"""A tiny Fusion comp for the Resolve panel tests: Plate and Roto Loaders of a shot, the user's own
Saver (which a panel render must leave alone), and the panel opened on it."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Tuple

from fake_fusion import Composition, Host
from service_support import FIRST, LAST

PLATE_POSITION = (3.0, 2.0)


def shot_comp(shot: Path, deliver: Path) -> Composition:
    """Plate (RGB) and Roto (the matte in A) Loaders over FIRST-LAST, and a Saver "Deliver" of the Plate."""
    comp = Composition(frames=(FIRST, LAST))
    plate = comp.add("Loader", str(shot / f"plate.{FIRST}.exr"), PLATE_POSITION, "Plate")
    comp.add("Loader", str(shot / f"matte.{FIRST}.exr"), (3.0, 5.0), "Roto")
    saver = comp.add("Saver", position=(6.0, 2.0), name="Deliver")
    saver._sources["Input"] = plate
    saver._inputs.update({"Clip": str(deliver / "deliver.0000.exr"), "OutputFormat": "OpenEXRFormat"})
    return comp


def open_panel(comp: Composition, endpoint: str, cache: Path, **chosen: Any) -> Tuple[Host, Any]:
    """The panel on ``comp``, its Matte the Roto, the test preset, and the ``chosen`` fields."""
    host = Host(comp)
    panel = host.open()
    host.choose("Matte", "Roto")
    host.choose("Preset", "test")
    for name, value in {"Engine": endpoint, "Cache": str(cache), **chosen}.items():
        if name in ("Source", "Matte", "Preset"):
            host.choose(name, value)
        else:
            host.type(name, value)
    return host, panel
