"""The panel's window, built with Fusion's UIManager: a column of labelled fields, the buttons, a
progress bar and a status line. Elements are made as ``ui.Type(properties, children)``; the
dispatcher routes an element's events to ``win.On[ID].Event``.
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Mapping, Sequence, Tuple

from infusion.protocol.shot import ADVANCED, PRESETS, choices

from . import fields
from .updates import progress_bar

WINDOW_ID = "InfusionPanel"
TIMER_ID = "InfusionPoll"
POLL_MS = 250  # how often the timer takes the Follower's updates
FARM_ROWS = (("farm folder", "FarmFolder"), ("infusion command", "InfusionCommand"), ("farm device", "FarmDevice"))
BUTTONS = (("Inpaint", "Inpaint"), ("Cancel", "Cancel"), ("Reattach", "Re-attach"))
TIPS = {"ShowVariant": "the result Loader's variant: 1..variants; 0 shows their mean",
        "Matte": "a mask, or any tool whose alpha is the matte", "Engine": "tcp://HOST:PORT of infusion serve",
        "Job": "the engine's job; Re-attach finds it again",
        "InfusionCommand": "empty: $INFUSION_COMMAND, else infusion", "FarmFolder": "shared storage the farm reads and writes"}


def _choice_rows(advanced: bool) -> List[Tuple[str, str]]:
    """(label, field) of the shot choices (protocol/shot.py) of the Advanced group, or of the others."""
    return [(choice.label, choice.camel) for choice in choices() if (choice.group == ADVANCED) == advanced]


def main_rows() -> List[Tuple[str, str]]:
    """(label, field) of the main column."""
    return [("source tool", "Source"), ("matte tool", "Matte"), ("first frame", "First"), ("last frame", "Last"),
            ("engine address", "Engine"), ("preset", "Preset"), *_choice_rows(False), ("variant shown", "ShowVariant"),
            ("cache folder", "Cache"), ("job id", "Job")]


def tips() -> Dict[str, str]:
    return {**TIPS, **{choice.camel: choice.tip for choice in choices()}}


def _field(ui: Any, name: str, value: Any) -> Any:
    tip = {"ToolTip": tips()[name]} if name in tips() else {}
    spins = fields.spins()
    if name in spins:
        low, high = spins[name]
        return ui.SpinBox({"ID": name, "Minimum": low, "Maximum": high, "Value": value, **tip})
    if name in fields.combos():
        return ui.ComboBox({"ID": name, **tip})
    return ui.LineEdit({"ID": name, "Text": value, **tip})


def _rows(ui: Any, rows: Iterable[Any], values: Mapping[str, Any]) -> list:
    return [ui.HGroup({"Weight": 0}, [ui.Label({"Text": label, "Weight": 1}), _field(ui, name, values[name])])
            for label, name in rows]


def _buttons(ui: Any, buttons: Iterable[Any]) -> Any:
    return ui.HGroup({"Weight": 0}, [ui.Button({"ID": name, "Text": text}) for name, text in buttons])


def build(ui: Any, dispatcher: Any, values: Mapping[str, Any]) -> Any:
    """The window (not shown yet); its combo boxes are empty until :func:`fill_combo`."""
    column = [*_rows(ui, main_rows(), values), ui.Label({"Text": ADVANCED, "Weight": 0}),
              *_rows(ui, _choice_rows(True), values), _buttons(ui, (*BUTTONS, ("RefreshTools", "Refresh tools"))),
              ui.Label({"ID": "Progress", "Text": progress_bar(0.0), "Weight": 0}),
              ui.Label({"ID": "Status", "Text": "idle", "WordWrap": True, "Weight": 0}),
              ui.Label({"Text": "Send to farm: the inputs rendered to shared storage, a farm job bundle", "Weight": 0}),
              *_rows(ui, FARM_ROWS, values), _buttons(ui, (("SendToFarm", "Send to farm"),))]
    return dispatcher.AddWindow({"ID": WINDOW_ID, "WindowTitle": "Infusion", "Geometry": [200, 120, 480, 860]},
                                ui.VGroup({"Spacing": 4}, column))


def fill_combo(combo: Any, texts: Iterable[str], chosen: str) -> None:
    """Replace the combo box's entries with ``texts`` and select ``chosen`` (the first when absent)."""
    texts = list(texts)
    combo.Clear()
    for text in texts:
        combo.AddItem(text)
    if texts:
        combo.CurrentIndex = texts.index(chosen) if chosen in texts else 0


def fill_tools(items: Dict[str, Any], tool_names: Iterable[str], values: Mapping[str, Any]) -> None:
    """The source and matte choices: every tool of the comp (and, for the matte, the source's alpha)."""
    names = sorted(tool_names)
    fill_combo(items["Source"], names, str(values["Source"]))
    fill_combo(items["Matte"], [fields.SOURCE_ALPHA, *names], str(values["Matte"]))


def fill_presets(items: Dict[str, Any], chosen: str, names: Sequence[str] = PRESETS) -> None:
    """The preset choices: this release's, or those an engine's welcome named."""
    fill_combo(items["Preset"], names, chosen)


def fill_menus(items: Dict[str, Any], values: Mapping[str, Any]) -> None:
    """The menus of the shot choices of a few values (protocol/shot.py), each at its value in ``values``."""
    for name, entries in fields.menus().items():
        fill_combo(items[name], entries, str(values[name]))


def show_values(items: Dict[str, Any], values: Mapping[str, Any], tool_names: Iterable[str], presets: Sequence[str]) -> None:
    """Show ``values`` (a comp's fields) in every widget; the tool and preset choices anew."""
    for name in fields.spins():
        items[name].Value = values[name]
    for name in fields.lines():
        items[name].Text = values[name]
    fill_tools(items, tool_names, values)
    fill_presets(items, str(values["Preset"]), presets)
    fill_menus(items, values)


def show_status(items: Dict[str, Any], message: str, progress: float) -> None:
    items["Status"].Text = message
    items["Progress"].Text = progress_bar(progress)
