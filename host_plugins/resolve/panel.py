"""The Infusion panel: what its buttons and its timer do; :func:`main` opens it.

Everything here runs on Fusion's UI thread. Inpaint and Send to farm render the inputs there
(Fusion's own render progress); a Follower thread then submits and follows the job, its updates
wait in an :class:`UpdateQueue` that the timer empties every ``POLL_MS``; Cancel asks the engine
from a thread of its own, its answer waits in another queue (the UI thread never waits on the
engine; Re-attach reads the cache or starts a Follower). The panel shows one
job: starting another stops following the previous one (the job itself runs on in the engine).
"""
from __future__ import annotations

import hashlib
import os
from typing import Any, Dict, Optional, Tuple

from infusion.host_plugins.common import (
    FarmError, FarmPaths, Follower, ResultCache, ShotSpec, Update, cancel_in_background, farm_argv,
    infusion_command, reattach as reattach_job, send_to_farm as run_farm_command, shown_variant)
from infusion.protocol.files import frame_path

from . import comp_tools, fields, render, result, window
from .updates import UpdateQueue

SOURCE_TYPES = ("Loader", "MediaIn")  # the tools a source usually is


class Panel:
    """The panel of ``comp``: its window's items, and the job it follows."""

    def __init__(self, comp: Any, items: Dict[str, Any]):
        self.comp, self.items = comp, items
        self.updates = UpdateQueue()
        self.cancels = UpdateQueue()  # the engine's answers to Cancel
        self.follower: Optional[Follower] = None
        self.job_values: Dict[str, Any] = {}  # the fields when the job followed now was started
        self.shown: Tuple[int, str] = (0, "")  # how many frames the result Loader showed, of which pattern

    # --- helpers ---------------------------------------------------------------------------------

    def _status(self, message: str, progress: float = 0.0) -> None:
        window.show_status(self.items, message, progress)

    def _values(self) -> Dict[str, Any]:
        """The fields now, kept in the comp."""
        values = fields.read(self.items)
        fields.keep(self.comp, values)
        return values

    def _inputs(self, values: Dict[str, Any]) -> Tuple[Any, Optional[Any]]:
        """The source tool, and the matte tool (None: the source's alpha)."""
        tools = comp_tools.tools(self.comp)
        source = tools.get(values["Source"])
        if source is None:
            raise ValueError(f"choose a source tool (no tool named {values['Source']!r})")
        if values["Matte"] == fields.SOURCE_ALPHA:
            return source, None
        if values["Matte"] not in tools:
            raise ValueError(f"no matte tool named {values['Matte']!r}")
        return source, tools[values["Matte"]]

    def _render(self, values: Dict[str, Any], plate: str, matte: str) -> ShotSpec:
        """Render the source (and the matte tool) to ``plate`` (and ``matte``); the shot to submit."""
        frames = fields.frame_range(values)
        source, matte_tool = self._inputs(values)
        spec = fields.shot_spec(values, plate, matte if matte_tool is not None else None, frames)
        render.render(self.comp, {plate: source, **({matte: matte_tool} if matte_tool is not None else {})}, frames)
        return spec

    def _shot_name(self, values: Dict[str, Any]) -> str:
        return f"{comp_tools.comp_name(self.comp)}_{comp_tools.safe_name(values['Source'])}"

    def _next_job(self, values: Dict[str, Any]) -> UpdateQueue:
        """Stop following the previous job; the queue of the next, started with ``values``."""
        if self.follower is not None:
            self.follower.stop()
        self.updates, self.job_values, self.shown = UpdateQueue(), values, (0, "")
        return self.updates

    # --- buttons ---------------------------------------------------------------------------------

    def inpaint(self, event: Any = None) -> None:
        """Render the inputs into the cache, then submit and follow the job on a Follower thread."""
        values = self._values()
        root = fields.cache_root(values)
        key = hashlib.sha256(f"{self.comp.GetAttrs()['COMPS_FileName']}|{values['Source']}".encode()).hexdigest()[:12]
        folder = os.path.join(root, "inputs", f"{self._shot_name(values)}_{key}")
        try:
            spec = self._render(values, os.path.join(folder, "plate.####.exr"), os.path.join(folder, "matte.####.exr"))
        except (ValueError, RuntimeError, OSError) as error:
            return self._status(f"error: could not render the inputs: {error}")
        self.items["Job"].Text = ""
        self._status("submitting")
        self.follower = Follower(fields.connection(values), root, self._next_job(values), spec=spec,
                                 client_name="infusion-resolve")
        self.follower.start()

    def cancel(self, event: Any = None) -> None:
        """Cancel the job on the engine without waiting for it: ``cancelling...`` at once, the timer
        shows the engine's answer (or its error); a Follower of the job then reports ``cancelled``."""
        values = self._values()
        if not values["Job"]:
            return self._status("error: no job to cancel")
        self._status("cancelling...")
        cancel_in_background(fields.connection(values), values["Job"], self.cancels)

    def reattach(self, event: Any = None) -> None:
        """Follow the job in the ``job id`` field again, or show its result from the cache."""
        values = self._values()
        if not values["Job"]:
            return self._status("error: no job to re-attach to (press Inpaint, or paste a job id)")
        self._status(f"re-attaching to job {values['Job']}")
        self.follower = reattach_job(fields.connection(values), fields.cache_root(values), values["Job"],
                                     self._next_job(values))

    def send_to_farm(self, event: Any = None) -> None:
        """Render the inputs to the farm folder and write a farm job bundle with ``infusion farm submit``."""
        values = self._values()
        if not values["FarmFolder"]:
            return self._status("error: choose a farm folder (shared storage the farm can read)")
        paths = FarmPaths.under(values["FarmFolder"], self._shot_name(values))
        try:
            spec = self._render(values, paths.plate, paths.matte)
            command = infusion_command(values["InfusionCommand"])
            bundle = run_farm_command(farm_argv(spec, paths, command, device=values["FarmDevice"]))
        except (ValueError, RuntimeError, OSError, FarmError) as error:
            return self._status(f"error: send to farm: {error}")
        self._status(f"job bundle written to {bundle}; submit it with: deadline bundle submit {bundle}")

    def show_variant(self, event: Any = None) -> None:
        """``variant shown`` changed: the result Loader shows it at once when the job's result is in the cache."""
        values = self._values()
        if not values["Job"] or result.loader(self.comp) is None:
            return
        shown = ResultCache(fields.cache_root(values), values["Job"]).finished_pattern(int(values["ShowVariant"]))
        if shown is not None:
            result.show(self.comp, str(values["Source"]), *shown)

    def refresh_tools(self, event: Any = None) -> None:
        """List the comp's tools again as source and matte choices."""
        window.fill_tools(self.items, comp_tools.tools(self.comp), fields.read(self.items))

    # --- the timer -------------------------------------------------------------------------------

    def poll(self, event: Any = None) -> None:
        """Show what the Follower (and the engine, to Cancel) reported since the last tick, the engine's
        presets as the preset choices once it names them; the result Loader follows the Follower's last report."""
        taken = self.updates.take()
        for update in taken:
            if update.job and update.job != str(self.items["Job"].Text):
                self.items["Job"].Text = update.job
                fields.keep(self.comp, fields.read(self.items))
            if update.presets:
                window.fill_presets(self.items, str(self.items["Preset"].CurrentText), update.presets)
            self._status(update.message, update.progress)
        if taken:
            self._show_result(taken[-1])
        for outcome in self.cancels.take():  # shown while the job field still names the cancelled job
            if outcome.job == str(self.items["Job"].Text):
                self._status(outcome.message)

    def _show_result(self, update: Update) -> None:
        """Point the result Loader at the frames that landed, once the first one is here: variant 1's
        while the job runs, the ``variant shown`` when it is done."""
        if not update.job or update.frames is None:
            return
        done = update.state == "done"
        landed = update.frames[1] - update.frames[0] + 1 if done else update.frames_done
        variant = shown_variant(int(self.items["ShowVariant"].Value), update.variants) if done else 1
        pattern = ResultCache(fields.cache_root(self.job_values), update.job).output_pattern(variant, update.variants)
        if (landed > self.shown[0] or pattern != self.shown[1]) and os.path.isfile(frame_path(pattern, update.frames[0])):
            result.show(self.comp, str(self.job_values["Source"]), pattern, update.frames)
            self.shown = landed, pattern

    def close(self, event: Any = None) -> None:
        """The window closes: stop following (the job runs on; Re-attach finds it again)."""
        if self.follower is not None:
            self.follower.stop()


def _default_source(comp: Any) -> str:
    """The first Loader or MediaIn, by name."""
    sources = sorted(name for name, tool in comp_tools.tools(comp).items() if comp_tools.tool_type(tool) in SOURCE_TYPES)
    return sources[0] if sources else ""


def main(fusion: Any, comp: Optional[Any], bmd: Any) -> Panel:
    """Open the panel on ``comp`` (else Fusion's current comp) and run its window until it closes.

    ``fusion``, ``comp`` and ``bmd`` are the objects Fusion gives a script (``fu``, ``comp``, ``bmd``).
    """
    comp = comp or fusion.GetCurrentComp()
    ui = fusion.UIManager
    dispatcher = bmd.UIDispatcher(ui)
    values = fields.kept(comp, fields.defaults(comp_tools.render_range(comp)))
    values["Source"] = values["Source"] or _default_source(comp)
    win = window.build(ui, dispatcher, values)
    items = win.GetItems()
    window.fill_tools(items, comp_tools.tools(comp), values)
    window.fill_presets(items, str(values["Preset"]))
    panel = Panel(comp, items)
    buttons = {"Inpaint": panel.inpaint, "Cancel": panel.cancel, "Reattach": panel.reattach,
               "SendToFarm": panel.send_to_farm, "RefreshTools": panel.refresh_tools}
    for name, handler in buttons.items():
        win.On[name].Clicked = handler
    win.On["ShowVariant"].ValueChanged = panel.show_variant
    timer = ui.Timer({"ID": window.TIMER_ID, "Interval": window.POLL_MS})
    dispatcher.On.Timeout = panel.poll  # a Timer outside any window: its Timeout reaches the dispatcher

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
