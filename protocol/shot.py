"""The one declaration of a shot's choices: what a client may set, its type, default, limits and help.

Everything else is derived from :data:`CHOICES`: the wire's checks of ``shot.settings`` and
``shot.options`` (messages.py), the flags of ``infusion run``, ``submit`` and ``farm submit``, the
farm template's parameters, the Nuke knobs, the Resolve fields, and the engine's ShotRequest.
A choice in the ``settings`` section overrides the preset's Settings field of the same name (not
set: the preset's value); one in ``options`` is plate handling, with a default of its own. Adding
one is one line here (a settings override needs nothing else). A choice is a number, free text, or
one of a few ``values`` (a menu: forms show it as one, its blank entry :data:`UNSET` first; a
switch is a bool written ``on``/``off``). Pure Python (the standard library only), 3.7+: the
method's Settings imports :data:`CAMERAS` from here, their one home.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Tuple

MATTE_CHANNEL = "A"  # the channel holding the matte (in the matte sequence, else in the plate)
DEFAULT_PRESET = "standard"
# This release's engine presets, the default first: what hosts offer until an engine's welcome names its own.
PRESETS = (DEFAULT_PRESET, "preview", "paper", "test")
SECTIONS = ("settings", "options")
ADVANCED = "Advanced"  # the group hosts show on a tab (Nuke) or under a heading (Resolve) of its own
# How the reveal prior follows the camera (Settings.camera, engine/method/camera.py): "still" looks a
# place up at the same pixel in every frame, "auto" measures the camera's pan and follows it.
CAMERAS = ("still", "auto")
UNSET = "preset"  # a menu's blank entry (the CLI's word too): the preset's value
SWITCH = {True: "on", False: "off"}  # how a bool choice is written on the CLI, in forms and farm parameters


@dataclass(frozen=True)
class Choice:
    """One thing a shot may set.

    name: the key on the wire, the Settings or ShotRequest field, the Nuke knob; ``flag`` and
    ``camel`` are its CLI flag and its Resolve field / farm parameter name. kind: int, float, str
    or bool. section: "settings" or "options". group: where forms put it (the farm template's
    group; ``ADVANCED`` apart in the hosts). label, help: a form's label, the help of the CLI and
    of forms. default: the engine's value when it is not set (None: the preset's). low, high:
    inclusive limits of a number. initial: the value a form (knob, panel field, farm parameter)
    starts at, None for ``default``; with ``blank`` that value means "not set" and is sent as
    nothing, without it (a seed of 0) it is a choice like any other. values: the few values it
    may take (a menu, its entries :attr:`menu`; a bool's are True, False); () for any number
    within its limits or any text.
    """

    name: str
    kind: type
    section: str
    group: str
    label: str
    help: str
    default: Any = None
    low: Optional[float] = None
    high: Optional[float] = None
    initial: Any = None
    blank: bool = True
    values: Tuple[Any, ...] = ()

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def camel(self) -> str:
        return "".join(part.capitalize() for part in self.name.split("_"))

    @property
    def menu(self) -> Tuple[str, ...]:
        """A form's entries for a choice of a few values (the blank one first), as written; () for the others."""
        if not self.values:
            return ()
        return ((self.start,) if self.blank else ()) + tuple(self.write(value) for value in self.values)

    def write(self, value: Any) -> str:
        """``value`` as the CLI, a form or a farm parameter writes it (``on``/``off`` for a bool)."""
        return SWITCH[value] if self.kind is bool else str(value)

    @property
    def start(self) -> Any:
        """What a form shows before anyone chooses."""
        return self.default if self.initial is None else self.initial

    @property
    def form_range(self) -> Tuple[float, float]:
        """The least and greatest value a form of this number takes: its limits, its blank start value included."""
        if self.low is None or self.high is None:
            raise ValueError(f"the shot choice {self.name} has no limits")
        return (min(self.low, self.start) if self.blank else self.low), self.high

    @property
    def tip(self) -> str:
        """The help, with what the blank value means or the default."""
        unset = "the preset's" if self.default is None else str(self.default)
        if self.values:
            words = " or ".join(self.write(value) for value in self.values)
            return f"{self.help}: {words}" + (f" ({self.start}: {unset})" if self.blank else "")
        if self.blank and self.start != self.default:
            return f"{self.help} ({'empty' if self.start == '' else self.start}: {unset})"
        return self.help if self.default is None else f"{self.help} (default: {unset})"

    def read(self, value: Any) -> Any:
        """A form's value (a number, text typed into a field, a menu's entry) or a CLI word as this
        choice's; None when not set (a menu's blank entry, or empty)."""
        if isinstance(value, str):
            value = value.strip()
        if self.values:
            if self.blank and value in (self.start, ""):
                return None
            written = {self.write(item): item for item in self.values}
            if isinstance(value, str) and value in written:
                return written[value]
            if type(value) is self.kind and value in self.values:
                return value
            allowed = ", ".join(self.menu if self.blank else written)
            raise ValueError(f"{self.name} {value!r} is not one of {allowed}")
        try:
            value = self.kind(value)
        except (TypeError, ValueError):
            what = {int: "an integer", float: "a number"}.get(self.kind, "text")
            raise ValueError(f"{self.name} {value!r} is not {what}") from None
        return None if self.blank and value == self.start else value


def _setting(name: str, label: str, help: str, low: int, high: int, initial: int = 0, blank: bool = True,
             group: str = ADVANCED) -> Choice:
    return Choice(name, int, "settings", group, label, help, None, low, high, initial, blank)


def _menu_setting(name: str, kind: type, values: Tuple[Any, ...], label: str, help: str,
                  group: str = ADVANCED) -> Choice:
    """A settings override that takes one of ``values``; its blank entry (:data:`UNSET`) keeps the preset's."""
    return Choice(name, kind, "settings", group, label, help, None, initial=UNSET, values=values)


CHOICES: Tuple[Choice, ...] = (
    _setting("seed", "seed", "random seed; the same seed gives the same fill", 0, 2**31 - 1, blank=False, group="Infusion"),
    _setting("variants", "variants", "how many fills to sample (their mean is variant 0)", 1, 64, initial=1, blank=False,
             group="Infusion"),
    _setting("intervals", "intervals", "diffusion intervals, each trained then sampled; must divide 1000", 1, 1000),
    _setting("train_steps", "training steps per interval", "training steps of each interval", 1, 10**7),
    _setting("sample_steps", "sampling steps per interval", "denoising steps sampled in each interval", 1, 1000),
    _setting("window_frames", "window length (frames)", "frames in one training window", 1, 10_000),
    _setting("refine_levels", "finer levels", "the most finer levels up to the plate's resolution (0: one level, "
             "scaled up; -1: the preset's)", 0, 6, initial=-1),
    _menu_setting("reveal_prior", bool, (True, False), "reveal prior", "read what other frames show at a hidden "
                  "place as a guess of the fill (engine/method/prior.py)"),
    _menu_setting("camera", str, CAMERAS, "camera", "how the reveal prior follows the camera (engine/method/camera.py)"),
    Choice("threshold", float, "options", "Matte", "matte threshold", "matte values above this are filled", 0.01, 0.0, 1.0),
    Choice("dilation", int, "options", "Matte", "matte dilation (px)", "grow the matte by this many pixels", 0, 0, 10_000),
    Choice("margin", float, "options", "Matte", "ROI margin",
           "context around the matte, in multiples of its box's longest side", 1.0, 0.0, 100.0),
    Choice("colorspace", str, "options", "Colour", "input colourspace", "OCIO colourspace or role of the plate",
           "scene_linear", initial=""),
    Choice("encoding", str, "options", "Colour", "network encoding", "OCIO log colourspace or role the network works in",
           "compositing_log", initial=""),
)


def choices(section: Optional[str] = None) -> Tuple[Choice, ...]:
    """The choices of ``section`` ("settings" or "options"), or all, in their declared order."""
    return tuple(item for item in CHOICES if section is None or item.section == section)


def by_section(chosen: Mapping[str, Any]) -> Dict[str, Dict[str, Any]]:
    """``{"settings": {...}, "options": {...}}`` of the choices set in ``chosen`` (None: not set).

    A name that is no choice is a ValueError that names it.
    """
    known = {item.name: item for item in CHOICES}
    unknown = sorted(set(chosen) - set(known))
    if unknown:
        raise ValueError(f"not a shot choice: {', '.join(unknown)}; choices: {', '.join(known)}")
    sections: Dict[str, Dict[str, Any]] = {section: {} for section in SECTIONS}
    for name, value in chosen.items():
        if value is not None:
            sections[known[name].section][name] = value
    return sections
