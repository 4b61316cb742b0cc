"""The Infusion panel: what its buttons and its timer do; :func:`main` opens it.

Everything here runs on Fusion's UI thread and never waits there. Inpaint and Send to farm start
a quiet render of the inputs in the background (:mod:`.render`); the timer, every ``POLL_MS``,
shows its progress (``rendering source 12/48``) and, once it is over, submits the job on a
Follower thread (or writes the farm bundle). The Follower's updates wait in an
:class:`UpdateQueue` that the timer empties; Cancel asks the engine from a thread of its own, its
answer waits in another queue. When the job is done the result Loader is made or re-pointed, one
undo step per job. The panel follows Fusion's current comp (another clip's comp in Resolve, another
comp in Fusion Studio): its fields show that comp's, its buttons act on it, while a job's result
lands in the comp it was started from. The panel shows one job: starting another stops following
the previous one (the job itself runs on in the engine).
"""
from __future__ import annotations

import hashlib
import os
from typing import Any, Callable, Dict, Optional, Sequence, Tuple

from infusion.host_plugins.common import (
    FarmError, FarmPaths, Follower, ResultCache, ShotSpec, Update, cancel_in_background, farm_argv,
    infusion_command, reattach as reattach_job, send_to_farm as run_farm_command, shown_variant)
from infusion.protocol.files import frame_path
from infusion.protocol.shot import PRESETS

from . import comp_tools, fields, render, result, window
from .updates import UpdateQueue

SOURCE_TYPES = ("Loader", "MediaIn")  # the tools a source usually is
NO_UI_MANAGER = ("Infusion: this Fusion has no UIManager (fu.UIManager is None), which is the case in the free "
                 "DaVinci Resolve from 19.1 on. The Infusion panel needs DaVinci Resolve Studio or Fusion Studio.")
NO_COMP = "Infusion: no comp is open; open one (in Resolve: a clip on the Fusion page) and run Infusion again."


class Panel:
    """The panel of Fusion's current comp: its window's items, the render and the job it follows."""

    def __init__(self, fusion: Any, comp: Any, items: Dict[str, Any]):
        self.fusion, self.opened, self.items = fusion, comp, items
        self.updates = UpdateQueue()
        self.cancels = UpdateQueue()  # the engine's answers to Cancel
        self.follower: Optional[Follower] = None
        self.job_comp, self.job_values = comp, {}  # the comp and the fields the job followed now started from
        self.shown = ""  # the pattern the result Loader shows for that job
        self.presets: Sequence[str] = PRESETS
        self.shown_comp = comp_tools.comp_id(comp)
        self.rendering: Optional[Tuple[render.InputRender, str, Callable[[], None]]] = None  # render, what, then

    @property
    def comp(self) -> Any:
        """Fusion's current comp (the one the panel opened on when Fusion names none)."""
        return self.fusion.GetCurrentComp() or self.opened

    # --- helpers ---------------------------------------------------------------------------------

    def _status(self, message: str, progress: float = 0.0) -> None:
        window.show_status(self.items, message, progress)

    def _values(self) -> Dict[str, Any]:
        """The fields now, kept in the current comp."""
        values = fields.read(self.items)
        fields.keep(self.comp, values)
        return values

    def _inputs(self, comp: Any, values: Dict[str, Any]) -> Tuple[Any, Optional[Any]]:
        """The source tool, and the matte tool (None: the source's alpha)."""
        tools = comp_tools.tools(comp)
        source = tools.get(values["Source"])
        if source is None:
            raise ValueError(f"choose a source tool (no tool named {values['Source']!r})")
        if values["Matte"] == fields.SOURCE_ALPHA:
            return source, None
        if values["Matte"] not in tools:
            raise ValueError(f"no matte tool named {values['Matte']!r}")
        return source, tools[values["Matte"]]

    def _render(self, comp: Any, values: Dict[str, Any], plate: str, matte: str, then: Callable[[ShotSpec], None]) -> None:
        """Start rendering the source (and the matte tool) of ``comp`` to ``plate`` (and ``matte``);
        the timer calls ``then(shot)`` once the frames are on disk."""
        if self.rendering is not None:
            raise ValueError("the inputs of the last Inpaint or Send to farm are still rendering")
        frames = fields.frame_range(values)
        source, matte_tool = self._inputs(comp, values)
        spec = fields.shot_spec(values, plate, matte if matte_tool is not None else None, frames)
        sequences = {plate: source, **({matte: matte_tool} if matte_tool is not None else {})}
        started = render.start(comp, sequences, frames)
        self.rendering = started, "source and matte" if matte_tool is not None else "source", lambda: then(spec)
        self._status(f"rendering {self.rendering[1]} 0/{started.total}")

    def _shot_name(self, comp: Any, values: Dict[str, Any]) -> str:
        return f"{comp_tools.comp_name(comp)}_{comp_tools.safe_name(values['Source'])}"

    def _input_folder(self, comp: Any, values: Dict[str, Any]) -> str:
        """Where Inpaint renders the inputs: one folder per comp and source. Resolve's comps have no file
        name and often the same name, so the comp's kept id is part of the key."""
        attributes = comp.GetAttrs()
        identity = f"{attributes['COMPS_FileName']}|{attributes['COMPS_Name']}|{comp_tools.comp_id(comp)}|{values['Source']}"
        key = hashlib.sha256(identity.encode()).hexdigest()[:12]
        return os.path.join(fields.cache_root(values), "inputs", f"{self._shot_name(comp, values)}_{key}")

    def _next_job(self, comp: Any, values: Dict[str, Any]) -> UpdateQueue:
        """Stop following the previous job; the queue of the next, started in ``comp`` with ``values``."""
        if self.follower is not None:
            self.follower.stop()
        self.updates, self.job_comp, self.job_values, self.shown = UpdateQueue(), comp, values, ""
        return self.updates

    def _follow_current_comp(self) -> None:
        """Fusion shows another comp: the fields show that comp's."""
        comp = self.comp
        if comp_tools.comp_id(comp) != self.shown_comp:
            self.shown_comp = comp_tools.comp_id(comp)
            window.show_values(self.items, comp_values(comp), comp_tools.tools(comp), self.presets)

    # --- buttons ---------------------------------------------------------------------------------

    def inpaint(self, event: Any = None) -> None:
        """Render the inputs into the cache; once they are there, submit and follow the job."""
        self._follow_current_comp()
        comp, values = self.comp, self._values()
        folder = self._input_folder(comp, values)
        try:
            self._render(comp, values, os.path.join(folder, "plate.####.exr"), os.path.join(folder, "matte.####.exr"),
                         lambda spec: self._submit(comp, values, spec))
        except (ValueError, RuntimeError, OSError) as error:
            self._status(f"error: could not render the inputs: {error}")

    def _submit(self, comp: Any, values: Dict[str, Any], spec: ShotSpec) -> None:
        self.items["Job"].Text = ""
        self._status("submitting")
        self.follower = Follower(fields.connection(values), fields.cache_root(values), self._next_job(comp, values),
                                 spec=spec, client_name="infusion-resolve")
        self.follower.start()

    def cancel(self, event: Any = None) -> None:
        """Cancel the job on the engine without waiting for it: ``cancelling...`` at once, the timer
        shows the engine's answer (or its error); a Follower of the job then reports ``cancelled``."""
        self._follow_current_comp()
        values = self._values()
        if not values["Job"]:
            return self._status("error: no job to cancel")
        self._status("cancelling...")
        cancel_in_background(fields.connection(values), values["Job"], self.cancels)

    def reattach(self, event: Any = None) -> None:
        """Follow the job in the ``job id`` field again, or show its result from the cache."""
        self._follow_current_comp()
        comp, values = self.comp, self._values()
        if not values["Job"]:
            return self._status("error: no job to re-attach to (press Inpaint, or paste a job id)")
        self._status(f"re-attaching to job {values['Job']}")
        self.follower = reattach_job(fields.connection(values), fields.cache_root(values), values["Job"],
                                     self._next_job(comp, values))

    def send_to_farm(self, event: Any = None) -> None:
        """Render the inputs to the farm folder; once they are there, write a farm job bundle with
        ``infusion farm submit``."""
        self._follow_current_comp()
        comp, values = self.comp, self._values()
        if not values["FarmFolder"]:
            return self._status("error: choose a farm folder (shared storage the farm can read)")
        paths = FarmPaths.under(values["FarmFolder"], self._shot_name(comp, values))
        try:
            self._render(comp, values, paths.plate, paths.matte, lambda spec: self._write_bundle(values, paths, spec))
        except (ValueError, RuntimeError, OSError) as error:
            self._status(f"error: send to farm: {error}")

    def _write_bundle(self, values: Dict[str, Any], paths: FarmPaths, spec: ShotSpec) -> None:
        try:
            command = infusion_command(values["InfusionCommand"])
            bundle = run_farm_command(farm_argv(spec, paths, command, device=values["FarmDevice"]))
        except (ValueError, RuntimeError, OSError, FarmError) as error:
            return self._status(f"error: send to farm: {error}")
        self._status(f"job bundle written to {bundle}; submit it with: deadline bundle submit {bundle}")

    def show_variant(self, event: Any = None) -> None:
        """``variant shown`` changed: the result Loader shows it at once when the job's result is in the cache."""
        comp, values = self.comp, self._values()
        if not values["Job"] or result.loader(comp) is None:
            return
        shown = ResultCache(fields.cache_root(values), values["Job"]).finished_pattern(int(values["ShowVariant"]))
        if shown is not None:
            result.show(comp, str(values["Source"]), *shown)

    def refresh_tools(self, event: Any = None) -> None:
        """List the current comp's tools again as source and matte choices."""
        self._follow_current_comp()
        window.fill_tools(self.items, comp_tools.tools(self.comp), fields.read(self.items))

    # --- the timer -------------------------------------------------------------------------------

    def poll(self, event: Any = None) -> None:
        """The timer fired (its Timeout reaches both bindings :func:`main` makes; any other element's
        is left out, and a second delivery of one tick finds nothing new): follow the current comp,
        the render, the Follower's and Cancel's reports."""
        if _who(event) not in ("", window.TIMER_ID):
            return
        self._follow_current_comp()
        self._follow_render()
        taken = self.updates.take()
        for update in taken:
            self._show_update(update)
        if taken:
            self._show_result(taken[-1])
        for outcome in self.cancels.take():  # shown while the job field still names the cancelled job
            if outcome.job == str(self.items["Job"].Text):
                self._status(outcome.message)

    def _follow_render(self) -> None:
        """Show how far the render of the inputs is; once it is over, take it down and go on."""
        if self.rendering is None:
            return
        started, what, then = self.rendering
        if started.rendering():
            return self._status(f"rendering {what} {started.frames_done()}/{started.total}",
                                started.frames_done() / started.total)
        self.rendering = None
        try:
            started.finish()
        except RuntimeError as error:
            return self._status(f"error: could not render the inputs: {error}")
        then()

    def _show_update(self, update: Update) -> None:
        """The job's id is kept in the comp it started from (and shown while that comp is current);
        the engine's presets become the preset choices once it names them."""
        if update.job and self.job_comp.GetData(fields.DATA_PREFIX + "Job") != update.job:
            fields.keep(self.job_comp, {"Job": update.job})
        if update.job and comp_tools.comp_id(self.job_comp) == self.shown_comp:
            self.items["Job"].Text = update.job
        if update.presets:
            self.presets = update.presets
            window.fill_presets(self.items, str(self.items["Preset"].CurrentText), update.presets)
        self._status(update.message, update.progress)

    def _show_result(self, update: Update) -> None:
        """Once the job is done, point the result Loader of its comp at the ``variant shown`` (one undo step)."""
        if update.state != "done" or update.frames is None:
            return
        variant = shown_variant(int(self.job_values.get("ShowVariant", 1)), update.variants)
        pattern = ResultCache(fields.cache_root(self.job_values), update.job).output_pattern(variant, update.variants)
        if pattern != self.shown and os.path.isfile(frame_path(pattern, update.frames[0])):
            result.show(self.job_comp, str(self.job_values["Source"]), pattern, update.frames)
            self.shown = pattern

    def close(self, event: Any = None) -> None:
        """The window closes: stop following (the job runs on; Re-attach finds it again), stop a render."""
        if self.follower is not None:
            self.follower.stop()
        if self.rendering is not None:
            self.rendering[0].abort()
            self.rendering = None


def _who(event: Any) -> str:
    """The ID of the element an event came from ('' when the event names none)."""
    try:
        return str(event["who"] or "")
    except (KeyError, TypeError, IndexError):
        return ""


def _default_source(comp: Any) -> str:
    """The first Loader or MediaIn, by name."""
    sources = sorted(name for name, tool in comp_tools.tools(comp).items() if comp_tools.tool_type(tool) in SOURCE_TYPES)
    return sources[0] if sources else ""


def comp_values(comp: Any) -> Dict[str, Any]:
    """The fields ``comp`` keeps (its render range, the first source and the choices' defaults where it keeps none)."""
    values = fields.kept(comp, fields.defaults(comp_tools.render_range(comp)))
    values["Source"] = values["Source"] or _default_source(comp)
    return values


def main(fusion: Any, comp: Optional[Any], bmd: Any) -> Optional[Panel]:
    """Open the panel on ``comp`` (else Fusion's current comp) and run its window until it closes.

    ``fusion``, ``comp`` and ``bmd`` are the objects Fusion gives a script (``fu``, ``comp``, ``bmd``).
    Without a UIManager (the free Resolve) or a comp it says why on Fusion's console and returns None.
    """
    ui = getattr(fusion, "UIManager", None)
    if ui is None:
        print(NO_UI_MANAGER)
        return None
    comp = comp or fusion.GetCurrentComp()
    if comp is None:
        print(NO_COMP)
        return None
    dispatcher = bmd.UIDispatcher(ui)
    panel_values = comp_values(comp)
    win = window.build(ui, dispatcher, panel_values)
    items = win.GetItems()
    window.fill_tools(items, comp_tools.tools(comp), panel_values)
    window.fill_presets(items, str(panel_values["Preset"]))
    window.fill_menus(items, panel_values)
    panel = Panel(fusion, comp, items)
    buttons = {"Inpaint": panel.inpaint, "Cancel": panel.cancel, "Reattach": panel.reattach,
               "SendToFarm": panel.send_to_farm, "RefreshTools": panel.refresh_tools}
    for name, handler in buttons.items():
        win.On[name].Clicked = handler
    win.On["ShowVariant"].ValueChanged = panel.show_variant
    timer = ui.Timer({"ID": window.TIMER_ID, "Interval": window.POLL_MS})
    # Public scripts bind a Timer's Timeout both ways: to the dispatcher, and under the timer's ID
    dispatcher.On.Timeout = panel.poll
    dispatcher.On[window.TIMER_ID].Timeout = panel.poll

    def close(event: Any) -> None:
        panel.close()
        timer.Stop()
        dispatcher.ExitLoop()

    win.On[window.WINDOW_ID].Close = close
    win.Show()
    timer.Start()
    dispatcher.RunLoop()
    win.Hide()
    return panel
