"""The Infusion node: creating it and what its buttons do.

Inpaint renders the inputs the engine cannot read by reference (main thread, Nuke's own render
progress), then a Follower thread submits and follows the job; Cancel asks the engine from a thread of its own and shows the answer
on the main thread; Re-attach reads the cache or starts a Follower (the main thread never waits on
the engine); Bake copies the finished frames from the cache to the bake folder on a thread of its
own and points the output there (a baked node needs neither cache nor engine again); Send to farm
renders to the farm folder and runs ``infusion farm submit``. A node shows one job: starting another retires the previous progress (it reports nothing more) and stops
its follower after its next event (the job itself runs on in the engine).
"""
from __future__ import annotations

import hashlib
import os
import threading
from typing import Dict, Optional, Tuple, cast

import nuke

from infusion.host_plugins.common import (
    BakeError, FarmError, FarmPaths, Follower, ResultCache, ShotSpec, Update, bake as bake_frames, baked_pattern,
    cancel_in_background, farm_argv, infusion_command, reattach as reattach_job, send_to_farm as run_farm_command)

from . import graph, knobs
from .progress import NodeProgress

_following: Dict[str, Tuple[NodeProgress, Optional[Follower]]] = {}  # node full name -> its job's progress, follower
KNOB_CHANGED = "import infusion.host_plugins.nuke.node as infusion_node; infusion_node.knob_changed(nuke.thisNode(), nuke.thisKnob())"


def create() -> nuke.Node:
    """An Infusion node after the selected node (the Nodes menu and Tab menu command)."""
    selected = nuke.selectedNodes()
    group = cast(nuke.Group, nuke.createNode("Group", inpanel=False))
    group.setName("Infusion1", uncollide=True)
    knobs.add_knobs(group)
    group["knobChanged"].setValue(KNOB_CHANGED)
    graph.build(group)
    if selected:  # a new Group has no inputs for createNode to connect: now it has Source and Matte
        group.setInput(0, selected[0])
    group.showControlPanel()
    return group


def _fail(node: nuke.Node, problem: str) -> None:
    node["status"].setValue(f"error: {problem}")
    nuke.message(f"Infusion ({node.name()}): {problem}")


def _retire(node: nuke.Node) -> None:
    """Silence the node's previous progress and stop its follower (the job runs on in the engine)."""
    progress, follower = _following.pop(node.fullName(), (None, None))
    if progress is not None:
        progress.retire()
    if follower is not None:
        follower.stop()


def _render_folder(node: nuke.Node, root: str) -> str:
    key = hashlib.sha256(f"{nuke.root().name()}|{node.fullName()}".encode()).hexdigest()[:12]
    return os.path.join(root, "inputs", f"{node.name()}_{key}")


def _frames(node: nuke.Node) -> Tuple[int, int]:
    """The frames to fill; ValueError when there is no Source or the range is empty."""
    if node.input(0) is None:
        raise ValueError("connect a Source input")
    frames = knobs.frame_range(node)
    if frames[1] < frames[0]:
        raise ValueError(f"the frame range {frames[0]}-{frames[1]} ends before it starts")
    return frames


def _render(node: nuke.Node, pattern: str) -> Tuple[int, int]:
    frames = _frames(node)
    graph.render(node, pattern, frames, str(node["matte_channel"].value()))
    return frames


def _shot(node: nuke.Node, folder: str) -> ShotSpec:
    """The shot to submit, rendering into ``folder`` only what the engine cannot read as it is: an
    EXR Read of scene-linear frames as the Source goes by reference (``by_reference`` on), and so
    does its matte when that is an EXR Read too; else the matte alone is rendered."""
    frames = _frames(node)
    channel = str(node["matte_channel"].value())
    plate = knobs.exr_read(node.input(0), frames) if node["by_reference"].value() else None
    if plate is None:
        rendered = os.path.join(folder, "plate.####.exr")
        graph.render(node, rendered, frames, channel)
        return knobs.shot_spec(node, rendered, frames)
    matte = knobs.reference_matte(node, frames, channel)
    if matte is None:
        matte = (os.path.join(folder, "matte.####.exr"), "A")
        graph.render(node, matte[0], frames, channel, channels="alpha")
    return knobs.shot_spec(node, plate, frames, matte=matte[0], matte_channel=matte[1], by_reference=True)


def inpaint(node: nuke.Node) -> None:
    """Render the inputs (what the engine cannot read by reference), then submit and follow the job
    on a background thread."""
    root = knobs.cache_root(node)
    try:
        spec = _shot(node, _render_folder(node, root))
    except (ValueError, RuntimeError, OSError) as error:  # nuke.execute raises RuntimeError
        return _fail(node, f"could not render the inputs: {error}")
    graph.show_source(node)
    node["job"].setValue("")
    node["baked"].setValue("")
    node["status"].setValue("submitting")
    _retire(node)
    progress = NodeProgress(node.fullName())
    follower = Follower(knobs.connection(node), root, progress, spec=spec, cancel_requested=progress.cancelled,
                        client_name="infusion-nuke")
    _following[node.fullName()] = (progress, follower)
    follower.start()


def cancel(node: nuke.Node) -> None:
    """Cancel the node's job on the engine without waiting for it: ``cancelling...`` at once, then
    the engine's answer (or its error, as a message) on the main thread; a follower reports ``cancelled``."""
    job = str(node["job"].value())
    if not job:
        return _fail(node, "no job to cancel")
    node["status"].setValue("cancelling...")
    node_name = node.fullName()
    cancel_in_background(knobs.connection(node), job,
                         lambda outcome: nuke.executeInMainThread(_cancelled, args=(node_name, outcome)))


def _cancelled(node_name: str, outcome: Update) -> None:
    """Main thread: the engine's answer to Cancel, unless the node is gone or shows another job now."""
    node = nuke.toNode(node_name)
    if node is None or str(node["job"].value()) != outcome.job:
        return
    if outcome.state == "error":
        return _fail(node, outcome.error)
    node["status"].setValue(outcome.message)


def reattach(node: nuke.Node, interactive: bool = True) -> None:
    """Show the baked frames, or the job's cached result, or follow the job again from where the
    cache left it; not ``interactive`` (on script load), problems show on the node, not in dialogs."""
    job = str(node["job"].value())
    if not job:
        return _fail(node, "no job to re-attach to (press Inpaint)")
    if str(node["baked"].value()):
        node["status"].setValue(f"baked: {node['baked'].value()}")  # the output reads them already (saved with the script)
        return
    _retire(node)
    progress = NodeProgress(node.fullName(), interactive)
    follower = reattach_job(knobs.connection(node), knobs.cache_root(node), job, progress, progress.cancelled)
    _following[node.fullName()] = (progress, follower)


def reattach_all() -> None:
    """On script load: every Infusion node offers the script's colourspaces and shows its status in
    its label; each with a job finds it again (an engine that is down, or a node made by an older
    release, shows on the node, no dialog)."""
    for node in nuke.allNodes("Group", recurseGroups=True):
        if not knobs.is_infusion(node):
            continue
        knobs.offer_colorspaces(node)
        if not str(node["label"].value()):
            node["label"].setValue(knobs.LABEL)
        try:
            if str(node["job"].value()):
                reattach(node, interactive=False)
        except RuntimeError as error:  # a node made by an older release lacks internal nodes: say so on it
            node["status"].setValue(f"error: {error}")


def knob_changed(node: nuke.Node, knob: nuke.Knob) -> None:
    """A new ``variant shown`` shows at once when the job's result is in the cache (frames baked
    before are another variant's: Bake again to share this one)."""
    job = str(node["job"].value())
    if knob.name() != "show_variant" or not job:
        return
    shown = ResultCache(knobs.cache_root(node), job).finished_pattern(int(node["show_variant"].value()))
    if shown is not None:
        node["baked"].setValue("")
        graph.show(node, *shown)


def bake(node: nuke.Node) -> None:
    """Copy the finished frames of the variant shown to the bake folder (a thread of its own, a
    ProgressTask), then point the output at them."""
    job, folder = str(node["job"].value()), str(node["bake_folder"].value()).strip()
    if not folder:
        return _fail(node, "choose a bake folder (beside the shot: the farm and other artists read it)")
    finished = ResultCache(knobs.cache_root(node), job).finished_pattern(int(node["show_variant"].value())) if job else None
    if finished is None:
        return _fail(node, "nothing to bake: the job's finished frames are not all in the cache")
    pattern, frames = finished
    destination = baked_pattern(pattern, folder, f"{node.name()}_{job}")
    node["status"].setValue("baking...")
    threading.Thread(target=_bake_in_background, args=(node.fullName(), job, pattern, frames, destination),
                     name=f"infusion-bake-{job}", daemon=True).start()


def _bake_in_background(node_name: str, job: str, pattern: str, frames: Tuple[int, int], destination: str) -> None:
    """Worker thread: the copy, its progress task, then the outcome to the main thread."""
    task = nuke.ProgressTask(f"Infusion: baking {node_name}")
    try:
        bake_frames(pattern, frames, destination, lambda done, total: task.setProgress(100 * done // total), task.isCancelled)
        problem = ""
    except (BakeError, ValueError) as error:
        problem = str(error)
    nuke.executeInMainThread(_baked, args=(node_name, job, destination, frames, problem))


def _baked(node_name: str, job: str, destination: str, frames: Tuple[int, int], problem: str) -> None:
    """Main thread: the output reads the baked frames, unless the node is gone or shows another job now."""
    node = nuke.toNode(node_name)
    if node is None or str(node["job"].value()) != job:
        return
    if problem:
        return _fail(node, f"bake: {problem}")
    node["baked"].setValue(graph.nuke_path(destination))
    graph.show(node, destination, frames)
    node["status"].setValue(f"baked: {graph.nuke_path(destination)}")


def send_to_farm(node: nuke.Node) -> None:
    """Render the inputs to the farm folder and write a farm job bundle with ``infusion farm submit``."""
    folder = str(node["farm_folder"].value()).strip()
    if not folder:
        return _fail(node, "choose a farm folder (shared storage the farm can read)")
    script = os.path.splitext(os.path.basename(nuke.root().name()))[0]
    paths = FarmPaths.under(folder, f"{script}_{node.name()}")
    try:
        frames = _render(node, paths.plate)
        spec = knobs.shot_spec(node, paths.plate, frames)
        command = infusion_command(str(node["infusion_command"].value()))
        bundle = run_farm_command(farm_argv(spec, paths, command, device=str(node["farm_device"].value()).strip()))
    except (ValueError, RuntimeError, OSError, FarmError) as error:
        return _fail(node, f"send to farm: {error}")
    node["status"].setValue(f"farm bundle: {bundle}")
    nuke.message(f"Infusion: job bundle written to {bundle}\nSubmit it with: deadline bundle submit {bundle}")
