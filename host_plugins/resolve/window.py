"""The panel's window, built with Fusion's UIManager: a column of labelled fields, the buttons, a
progress bar and a status line. Elements are made as ``ui.Type(properties, children)``; the
dispatcher routes an element's events to ``win.On[ID].Event``.
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, Mapping

from infusion.host_plugins.common import PRESETS

from . import fields
from .updates import progress_bar

WINDOW_ID = "InfusionPanel"
TIMER_ID = "InfusionPoll"
POLL_MS = 250  # how often the timer takes the Follower's updates
ROWS = (("source tool", "Source"), ("matte tool", "Matte"), ("first frame", "First"), ("last frame", "Last"),
        ("engine address", "Engine"), ("preset", "Preset"), ("seed", "Seed"), ("variants", "Variants"),
        ("variant shown", "ShowVariant"), ("matte threshold", "Threshold"), ("matte dilation (px)", "Dilation"),
        ("ROI margin", "Margin"), ("input colourspace", "Colorspace"), ("cache folder", "Cache"), ("job id", "Job"))
ADVANCED_ROWS = (("intervals", "Intervals"), ("training steps per interval", "TrainSteps"),
                 ("sampling steps per interval", "SampleSteps"), ("window length (frames)", "WindowFrames"))
FARM_ROWS = (("farm folder", "FarmFolder"), ("infusion command", "InfusionCommand"), ("farm device", "FarmDevice"))
BUTTONS = (("Inpaint", "Inpaint"), ("Cancel", "Cancel"), ("Reattach", "Re-attach"))
TIPS = {"ShowVariant": "the result Loader's variant: 1..variants; 0 shows their mean",
        **{name: "0: the preset's" for _, name in ADVANCED_ROWS},
        "Matte": "a mask, or any tool whose alpha is the matte", "Engine": "tcp://HOST:PORT of infusion serve",
        "Colorspace": "an OCIO name; empty: the engine's scene_linear", "Job": "the engine's job; Re-attach finds it again",
        "InfusionCommand": "empty: $INFUSION_COMMAND, else infusion", "FarmFolder": "shared storage the farm reads and writes"}


def _field(ui: Any, name: str, value: Any) -> Any:
    tip = {"ToolTip": TIPS[name]} if name in TIPS else {}
    if name in fields.SPINS:
        low, high = fields.SPINS[name]
        return ui.SpinBox({"ID": name, "Minimum": low, "Maximum": high, "Value": value, **tip})
    if name in fields.COMBOS:
        return ui.ComboBox({"ID": name, **tip})
    return ui.LineEdit({"ID": name, "Text": value, **tip})


def _rows(ui: Any, rows: Iterable[Any], values: Mapping[str, Any]) -> list:
    return [ui.HGroup({"Weight": 0}, [ui.Label({"Text": label, "Weight": 1}), _field(ui, name, values[name])])
            for label, name in rows]


def _buttons(ui: Any, buttons: Iterable[Any]) -> Any:
    return ui.HGroup({"Weight": 0}, [ui.Button({"ID": name, "Text": text}) for name, text in buttons])


def build(ui: Any, dispatcher: Any, values: Mapping[str, Any]) -> Any:
    """The window (not shown yet); its combo boxes are empty until :func:`fill_combo`."""
    column = [*_rows(ui, ROWS, values), ui.Label({"Text": "Advanced (0: the preset's)", "Weight": 0}),
              *_rows(ui, ADVANCED_ROWS, values), _buttons(ui, (*BUTTONS, ("RefreshTools", "Refresh tools"))),
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


def fill_presets(items: Dict[str, Any], values: Mapping[str, Any]) -> None:
    fill_combo(items["Preset"], PRESETS, str(values["Preset"]))


def show_status(items: Dict[str, Any], message: str, progress: float) -> None:
    items["Status"].Text = message
    items["Progress"].Text = progress_bar(progress)
