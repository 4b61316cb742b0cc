"""The Infusion node's knobs: adding them to the Group, and reading them into the shared types.

The input colourspace is a menu of the script's OCIO config (the colourspaces of the Root's
working space knob), its first entry Nuke's working space. The node's label shows its status
(``[value status]``, Nuke's TCL in labels), so a problem found when a script opens needs no dialog.
"""
from __future__ import annotations

import os
from typing import Callable, Dict, List, Optional, Sequence, Tuple, cast

import nuke

from infusion.host_plugins.common import Connection, ShotSpec, default_cache_root
from infusion.protocol.shot import ADVANCED, DEFAULT_PRESET, PRESETS, Choice, choices

MARKER = "infusion_node"  # a hidden knob that tells an Infusion Group from any other Group
KNOBS: Dict[type, Callable[[str, str], nuke.Knob]] = {int: nuke.Int_Knob, float: nuke.Double_Knob, str: nuke.String_Knob}
WORKING_SPACE = "working space"  # the colourspace menu's first entry: Nuke's working space, unconverted
LABEL = "[value status]"
EXR_CHANNELS = {"rgba.red": "R", "rgba.green": "G", "rgba.blue": "B", "rgba.alpha": "A"}
LINEAR_NAMES = ("linear", "scene_linear")  # a Read colourspace that is the working space in any config
BUTTON = "import infusion.host_plugins.nuke.node as infusion_node; infusion_node.{}(nuke.thisNode())"


def _add(node: nuke.Node, knob: nuke.Knob, value: object = None, tooltip: str = "") -> None:
    node.addKnob(knob)
    if value is not None:
        knob.setValue(value)
    if tooltip:
        knob.setTooltip(tooltip)


def add_knobs(node: nuke.Node) -> None:
    """The Infusion and Advanced tabs, the buttons, the status line and the progress bar."""
    _add(node, nuke.Tab_Knob("infusion_tab", "Infusion"))
    marker = nuke.Boolean_Knob(MARKER, "")
    marker.setVisible(False)
    _add(node, marker, True)
    _add(node, nuke.String_Knob("engine", "engine address"), Connection.from_environment().address,
         "tcp://HOST:PORT of infusion serve ($INFUSION_ENGINE by default)")
    _add(node, nuke.Boolean_Knob("input_range", "use the Source's frame range"), True)
    _add(node, nuke.Int_Knob("first", "frame range"), int(nuke.root().firstFrame()))
    _add(node, nuke.Int_Knob("last", ""), int(nuke.root().lastFrame()))
    _add(node, nuke.Enumeration_Knob("preset", "preset", list(PRESETS)), DEFAULT_PRESET)
    _add_choices(node, [choice for choice in choices() if choice.group != ADVANCED])
    _add(node, nuke.Int_Knob("show_variant", "variant shown"), 1, "1..variants; 0 shows the mean")
    _add(node, nuke.Channel_Knob("matte_channel", "matte channel"), "rgba.alpha", "the Matte input's channel to fill")
    _add(node, nuke.File_Knob("cache", "cache folder"), default_cache_root())
    _add(node, nuke.File_Knob("bake_folder", "bake folder"), "",
         "a folder the farm and other artists can read (beside the shot); Bake copies the finished frames there")
    _add(node, nuke.PyScript_Knob("bake", "Bake", BUTTON.format("bake")))
    _add(node, nuke.String_Knob("baked", "baked frames"), "", "the frames the output reads once baked; kept with the script")
    _add(node, nuke.PyScript_Knob("inpaint", "Inpaint", BUTTON.format("inpaint")))
    _add(node, nuke.PyScript_Knob("cancel", "Cancel", BUTTON.format("cancel")))
    _add(node, nuke.PyScript_Knob("reattach", "Re-attach", BUTTON.format("reattach")))
    _add(node, nuke.Text_Knob("status", "status", "idle"))
    progress = nuke.Double_Knob("progress", "progress")
    progress.setRange(0.0, 100.0)
    _add(node, progress, 0.0, "percent of the job done")
    _add(node, nuke.String_Knob("job", "job id"), "", "the engine's job; kept with the script to re-attach")
    _add(node, nuke.File_Knob("farm_folder", "farm folder"), "", "shared storage the farm can read and write")
    _add(node, nuke.File_Knob("infusion_command", "infusion command"), "", "the local infusion executable ($INFUSION_COMMAND, else infusion)")
    _add(node, nuke.String_Knob("farm_device", "farm device"), "cuda:0")
    _add(node, nuke.PyScript_Knob("send_to_farm", "Send to farm", BUTTON.format("send_to_farm")))
    _add(node, nuke.Boolean_Knob("by_reference", "send an EXR Source by path"), True,
         "a Source that is a Read of scene-linear EXRs goes to the engine as paths (no render); the engine must "
         "see them (its allowed roots)")
    _add(node, nuke.Tab_Knob("advanced_tab", ADVANCED))
    _add_choices(node, [choice for choice in choices() if choice.group == ADVANCED])
    node["label"].setValue(LABEL)
    offer_colorspaces(node)


def _add_choices(node: nuke.Node, shown: Sequence[Choice]) -> None:
    """A knob per shot choice (protocol/shot.py), named as the choice, at its start value; a choice
    of a few values is a menu of them (its blank entry first), the colourspace a menu of the
    script's config (:func:`offer_colorspaces`)."""
    for choice in shown:
        if choice.name == "colorspace":
            _add(node, nuke.Enumeration_Knob(choice.name, choice.label, [WORKING_SPACE]), None,
                 f"{choice.tip}; {WORKING_SPACE}: Nuke's working space")
        elif choice.values:
            _add(node, nuke.Enumeration_Knob(choice.name, choice.label, list(choice.menu)), choice.start, choice.tip)
        else:
            _add(node, KNOBS[choice.kind](choice.name, choice.label), choice.start, choice.tip)


def config_colorspaces() -> List[str]:
    """The colourspaces of the script's OCIO config: the Root's working space menu, each entry's
    family path (``Utility/...``) left out; none unless Nuke manages colour with OCIO."""
    root = nuke.root()
    if str(root["colorManagement"].value()) != "OCIO":
        return []
    values = cast(nuke.Enumeration_Knob, root["workingSpaceLUT"]).values()
    return list(dict.fromkeys(str(value).split("/")[-1] for value in values))


def offer_colorspaces(node: nuke.Node) -> None:
    """Fill the colourspace menu from the script's config; a choice the config lacks stays listed."""
    knob = cast(nuke.Enumeration_Knob, node["colorspace"])
    chosen = str(knob.value())
    names = [WORKING_SPACE, *config_colorspaces()]
    knob.setValues(names + ([] if chosen in names else [chosen]))
    knob.setValue(chosen)


def offer_presets(node: nuke.Node, names: Sequence[str]) -> None:
    """The engine's presets as the preset menu; the choice stays when the engine has it."""
    knob = cast(nuke.Enumeration_Knob, node["preset"])
    chosen = str(knob.value())
    knob.setValues(list(names))
    knob.setValue(chosen if chosen in names else names[0])


def is_infusion(node: nuke.Node) -> bool:
    return MARKER in node.knobs()


def frame_range(node: nuke.Node) -> Tuple[int, int]:
    """The Source's range when ``input_range`` is on (and a Source is connected), else the knobs'."""
    source = node.input(0)
    if node["input_range"].value() and source is not None:
        return int(source.firstFrame()), int(source.lastFrame())
    return int(node["first"].value()), int(node["last"].value())


def working_space() -> Optional[str]:
    """Nuke's working space under OCIO colour management (None: the engine's scene_linear role)."""
    root = nuke.root()
    if str(root["colorManagement"].value()) != "OCIO":
        return None
    return str(root["workingSpaceLUT"].value()) or None


def shot_spec(node: nuke.Node, plate: str, frames: Tuple[int, int], matte: Optional[str] = None,
              matte_channel: str = "A", by_reference: bool = False) -> ShotSpec:
    """The shot the knobs describe: ``plate`` (by default the rendered one, the matte in its alpha);
    a knob at its blank value sets nothing (nor does one a node from an older release lacks), the
    colourspace menu's first entry is Nuke's working space."""
    present = node.knobs()
    chosen = {choice.name: choice.read(node[choice.name].value()) if choice.name in present else None
              for choice in choices()}
    chosen["colorspace"] = working_space() if chosen["colorspace"] in (None, WORKING_SPACE) else chosen["colorspace"]
    return ShotSpec(plate=plate, frames=frames, matte=matte, matte_channel=matte_channel, preset=str(node["preset"].value()),
                    by_reference=by_reference, **chosen)


def exr_read(node: Optional[nuke.Node], frames: Tuple[int, int]) -> Optional[str]:
    """The absolute EXR pattern of ``node`` when it is a Read whose files hold ``frames`` unconverted
    (raw, or read as the working space or a scene-linear role) under the same frame numbers (no
    offset), else None."""
    if node is None or node.Class() != "Read" or node["disable"].value() or str(node["frame"].value()).strip():
        return None  # a Read with a frame offset shows other files than its frame numbers name
    path = str(node["file"].value())
    if not path.lower().endswith(".exr") or not os.path.isabs(path):
        return None
    if not int(node["first"].value()) <= frames[0] <= frames[1] <= int(node["last"].value()):
        return None
    space = str(node["colorspace"].value())
    space = space[len("default ("):-1] if space.startswith("default (") and space.endswith(")") else space
    if node["raw"].value() or space in (*LINEAR_NAMES, working_space() or "linear"):
        return path
    return None


def reference_matte(node: nuke.Node, frames: Tuple[int, int], channel: str) -> Optional[Tuple[str, str]]:
    """The Matte input's EXR pattern and channel (R, G, B or A) when the engine can read it as it
    is (the Source's own when no Matte is connected), else None."""
    matte = node.input(1) if node.input(1) is not None else node.input(0)
    pattern = exr_read(matte, frames)
    return (pattern, EXR_CHANNELS[channel]) if pattern is not None and channel in EXR_CHANNELS else None


def connection(node: nuke.Node) -> Connection:
    return Connection.from_environment(str(node["engine"].value()).strip())


def cache_root(node: nuke.Node) -> str:
    return str(node["cache"].value()).strip() or default_cache_root()
