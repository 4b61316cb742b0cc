"""The host's cache of one job: finished frames, per-interval previews and what is known of the job.

Layout under ``root/JOB/``: ``fill.####.exr`` (one variant) or ``fill_v1.####.exr`` ...
``fill_vK.####.exr`` and ``fill_mean.####.exr`` (K > 1 variants: the names ``infusion run``
uses), ``preview/interval_NN.####.exr`` (variant 1, the region of interest at working size) and
``state.json`` (frames, variants, state, the last event seen, the error). Files are written
atomically, each before the state that mentions it.
"""
from __future__ import annotations

import json
import os
from typing import Any, Dict, Optional, Tuple

from infusion.protocol.files import frame_path, write_atomically

STATE_NAME = "state.json"


def default_cache_root() -> str:
    """Where a host keeps its caches unless told otherwise: ``$INFUSION_CACHE``, else ``~/infusion_cache``."""
    return os.environ.get("INFUSION_CACHE") or os.path.join(os.path.expanduser("~"), "infusion_cache")


def shown_variant(wanted: int, variants: int) -> int:
    """The variant to show for a ``wanted`` one: within 1..variants (0, the mean, only when there are several)."""
    return 1 if variants == 1 else min(max(wanted, 0), variants)


class ResultCache:
    """The cache folder of ``job`` under ``root``."""

    def __init__(self, root: str, job: str):
        self.job = job
        self.folder = os.path.join(os.path.abspath(root), job)

    def output_pattern(self, variant: int = 1, variants: int = 1) -> str:
        """The finished frames of ``variant`` (1..K; 0 is the mean of K > 1)."""
        suffix = "" if variants == 1 else ("_mean" if variant == 0 else f"_v{variant}")
        return os.path.join(self.folder, f"fill{suffix}.####.exr")

    def preview_pattern(self, interval: int) -> str:
        """The preview frames written after ``interval`` (0-based)."""
        return os.path.join(self.folder, "preview", f"interval_{interval:02d}.####.exr")

    def write_frame(self, frame: int, variant: int, variants: int, data: bytes) -> str:
        path = frame_path(self.output_pattern(variant, variants), frame)
        write_atomically(path, data)
        return path

    def write_preview(self, interval: int, frame: int, data: bytes) -> str:
        path = frame_path(self.preview_pattern(interval), frame)
        write_atomically(path, data)
        return path

    def state(self) -> Dict[str, Any]:
        """What the last follower recorded (empty when nothing was)."""
        try:
            with open(os.path.join(self.folder, STATE_NAME), encoding="utf-8") as stream:
                loaded = json.load(stream)
        except (OSError, ValueError):
            return {}
        return loaded if isinstance(loaded, dict) else {}

    def record(self, **fields: Any) -> Dict[str, Any]:
        """Merge ``fields`` into the state and save it; returns the new state."""
        state = {**self.state(), **fields, "job": self.job}
        write_atomically(os.path.join(self.folder, STATE_NAME), json.dumps(state, indent=1).encode("utf-8"))
        return state

    def complete(self) -> bool:
        """True when the job finished and every frame of every variant (and the mean) is here."""
        state = self.state()
        if state.get("state") != "done" or not state.get("frames") or not state.get("variants"):
            return False
        first, last = state["frames"]
        variants = int(state["variants"])
        shown = range(1, variants + 1) if variants == 1 else range(0, variants + 1)
        return all(os.path.isfile(frame_path(self.output_pattern(v, variants), f))
                   for v in shown for f in range(first, last + 1))

    def finished_pattern(self, wanted: int) -> Optional[Tuple[str, Tuple[int, int]]]:
        """Once the whole result is here: the frames of the variant shown for ``wanted``, and their range."""
        if not self.complete():
            return None
        state = self.state()
        variants, (first, last) = int(state["variants"]), state["frames"]
        return self.output_pattern(shown_variant(wanted, variants), variants), (int(first), int(last))

    def latest_preview(self) -> Optional[str]:
        """The pattern of the newest preview recorded, if any."""
        interval = self.state().get("preview_interval")
        return None if interval is None else self.preview_pattern(int(interval))
