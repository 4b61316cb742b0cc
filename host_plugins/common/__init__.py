"""Host-agnostic session code shared by the Nuke node and the Resolve/Fusion panel.

Standard library and ``infusion.protocol`` only (pyzmq, msgpack): it runs inside Nuke's and
Resolve's own Python 3.9+. A host adapter renders its inputs to EXR, builds a :class:`ShotSpec`,
starts a :class:`Follower` and moves each :class:`Update` to its UI thread; it shows
``update.preview`` while the job runs and ``ResultCache(...).output_pattern(variant, variants)``
when it is done, and stores the job id (``update.job``) in the host's document.

API (everything below is importable from ``infusion.host_plugins.common``)::

    Connection(address="tcp://127.0.0.1:5557", server_key="", client_key="", timeout=10.0,
               heartbeat=2.0, reconnect_timeout=120.0)
        .from_environment(address="")       # $INFUSION_ENGINE, $INFUSION_SERVER_KEY, $INFUSION_CLIENT_KEY
        .open(name) -> EngineClient         # connected; one per thread

    ShotSpec(plate, frames, matte=None, matte_channel="A", preset="standard", by_reference=False,
             **choices)           # the shot choices of infusion.protocol.shot by name: seed=0, variants=1,
                                  # intervals=None, ..., threshold=None, ...; None: the preset's / engine's
        .seed, .threshold, ...    .chosen -> {name: value}
        .settings() -> dict   .options() -> dict   .submit(client) -> {"job", "state", "existing"}
    offered_presets(welcome)      # the engine's preset names, its default first (protocol.shot.PRESETS without)

    Follower(connection, cache_root, on_update, *, job="" | spec=ShotSpec, cancel_requested=f)
        .start()  .stop() (detach, the job runs on)  .join()  .job  .result (last Update)
    reattach(connection, cache_root, job, on_update, cancel_requested=f) -> Follower | None
        # None: the cache held the whole result, on_update got it at once (no engine needed)
    cancel(connection, job) -> job summary    # waits on the engine (up to its timeout); a follower ends on "cancelled"
    cancel_in_background(connection, job, on_done) -> started daemon Thread   # for a UI thread: never waits;
        # on_done(Update(job, state, message=state) | Update(job, "error", message="error: ...", error)) from that thread
    follow(client, cache, on_update, cancel_requested, stop_requested) -> Update  # what Follower runs

    Update(job, state, progress, message, frames, variants, preview, frames_done, error, presets)
        # state: submitting, queued, running, done, failed, cancelled, detached, error; .ended
        # presets: offered_presets of the engine's welcome, on the "submitting" update
    ResultCache(root, job)        # root/JOB/: fill[_vK|_mean].####.exr, preview/interval_NN.####.exr, state.json
        .output_pattern(variant=1, variants=1)   # variant 0: the mean of K > 1
        .preview_pattern(interval)  .latest_preview()  .complete()  .state()  .record(**fields)
        .finished_pattern(wanted) -> (pattern, frames) | None   # once complete: the variant shown_variant picks
    shown_variant(wanted, variants)   # wanted within 1..variants; 0 (the mean) only when variants > 1
    default_cache_root()          # $INFUSION_CACHE, else ~/infusion_cache

    bake(pattern, frames, destination, on_frame=f, cancelled=f) -> destination   # copy finished frames
        # out of the cache, each atomically; a missing one raises BakeError
    baked_pattern(pattern, folder, name) -> folder/name/<pattern's file name>

    FarmPaths.under(folder, name)  # .plate .matte .out .work_dir .bundle on shared storage
    infusion_command(explicit="") -> argv      # explicit, $INFUSION_COMMAND, else "infusion"
    farm_argv(spec, paths, command, device="", worker_command="") -> argv   # infusion farm submit ...
    send_to_farm(argv, timeout=300.0) -> bundle folder    # raises FarmError with the CLI's words

Errors from the engine arrive as ``Update(state="error", error="code: message")`` (a Follower)
or raise ``infusion.protocol.client.EngineError`` (``cancel``, ``Connection.open``); ``cancel_in_background``
hands them to ``on_done`` as ``Update(state="error")``.
"""
from .bake import BakeError, bake, baked_pattern
from .cache import ResultCache, default_cache_root, shown_variant
from .connection import DEFAULT_ADDRESS, Connection
from .farm import FarmError, FarmPaths, farm_argv, infusion_command, send_to_farm
from .follow import Update, cached_update, follow
from .session import Follower, cancel, cancel_in_background, reattach
from .shot import ShotSpec, offered_presets

__all__ = [
    "BakeError", "Connection", "DEFAULT_ADDRESS", "FarmError", "FarmPaths", "Follower", "ResultCache", "ShotSpec", "Update",
    "bake", "baked_pattern", "cached_update", "cancel", "cancel_in_background", "default_cache_root", "farm_argv", "follow", "infusion_command",
    "offered_presets", "reattach", "send_to_farm", "shown_variant",
]
