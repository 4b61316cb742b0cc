"""The evaluation runner: fill a clip under a synthetic matte with every method and score it.

Methods see the clip in the network encoding with the hole zeroed (nothing under the matte can
leak) and return K variants. Infusion runs, by default, as the artist gets it
(``pipeline_method``): the clip is written as scene-linear EXR frames with the matte as a
sequence beside it, ``run_shot`` fills it (region of interest, levels, composite) and the
composited output EXRs are read back at the plate's own resolution. Scores are taken in display-referred values in [0, 1]: each video
is decoded to linear and sent through the OCIO config's default display and view
(``Encoding.display``; ACES SDR video on sRGB with the built-in studio config), which is what a
compositor judges on a monitor. Per-variant scores are averaged over the K variants; diversity is
measured across them.
"""
from __future__ import annotations

import math
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Mapping, Optional, Sequence

import numpy as np
import OpenImageIO as oiio
import torch

from ..method.acceleration import Acceleration
from .baselines import Baseline
from ..plates.color import Encoding
from .eval_clips import Clip
from .synthetic_mattes import synthetic_matte
from ..method.inpaint import inpaint
from .metrics import METRICS, diversity
from ..method.settings import Settings
from ..plates.exr import read_frame, write_frame
from ..plates.request import ShotRequest
from ..plates.sequence import FramePattern
from ..plates.shot import run_shot

# video (T, H, W, 3) encoded with the hole zeroed, hole (T, H, W) -> variants (K, T, H, W, 3).
Method = Callable[[np.ndarray, np.ndarray], np.ndarray]


def infusion_method(settings: Settings, device: str, acceleration: Optional[Acceleration] = None) -> Method:
    """Infusion on the clip's tensors at their size, one level (the working-size scores):
    its K = settings.variants fills. ``acceleration``: the network's levers (default: the
    engine's own choice for the device)."""
    def fill(video: np.ndarray, hole: np.ndarray) -> np.ndarray:
        result = inpaint(torch.from_numpy(video).permute(3, 0, 1, 2), torch.from_numpy(hole), settings, device,
                         acceleration=acceleration)
        return result.variants.permute(0, 2, 3, 4, 1).numpy()
    return fill


def pipeline_method(settings: Settings, device: str, encoding: Encoding, margin: float = 1.0) -> Method:
    """Infusion through ``infusion run``'s pipeline on EXR files: the composited output frames
    at the plate's resolution, read back and encoded (K = settings.variants)."""
    def fill(video: np.ndarray, hole: np.ndarray) -> np.ndarray:
        with tempfile.TemporaryDirectory(prefix="infusion-eval-") as folder:
            root = Path(folder)
            linear = encoding.decode(video)
            for index, (frame, matte) in enumerate(zip(linear, hole), 1):
                write_frame(str(root / f"plate.{index:04d}.exr"), frame, exr_spec(frame.shape[1], frame.shape[0], "RGB"))
                write_frame(str(root / f"matte.{index:04d}.exr"), matte.astype(np.float32),
                            exr_spec(matte.shape[1], matte.shape[0], "A"))
            request = ShotRequest(plate=str(root / "plate.####.exr"), frames=(1, len(video)), out=str(root / "out" / "fill.####.exr"),
                                  settings=settings, matte=str(root / "matte.####.exr"), margin=margin, previews=False)
            result = run_shot(request, root / "work", device)
            outputs = [FramePattern.parse(pattern) for pattern in result.outputs]
            return np.stack([
                np.stack([encoding.encode(read_frame(pattern.path(index)).pixels[..., :3]) for index in range(1, len(video) + 1)])
                for pattern in outputs])
    return fill


def exr_spec(width: int, height: int, channels: str) -> oiio.ImageSpec:
    """A float EXR header of ``channels`` (one letter each), zip-compressed."""
    spec = oiio.ImageSpec(width, height, len(channels), "float")
    spec.channelnames = tuple(channels)
    spec.attribute("compression", "zip")
    return spec


def baseline_method(baseline: Baseline) -> Method:
    """A deterministic baseline as a method with one variant."""
    def fill(video: np.ndarray, hole: np.ndarray) -> np.ndarray:
        return baseline(video, hole)[None]
    return fill


@dataclass
class MethodResult:
    """Scores of one method on one case; ``display``: its first variant, (T, H, W, 3) in [0, 1]."""

    scores: Dict[str, float]
    seconds: float
    variants: int
    display: np.ndarray = field(repr=False)


@dataclass
class CaseResult:
    """One clip under one matte: the hole, the truth in display values and every method's result."""

    clip: str
    matte: str
    hole: np.ndarray = field(repr=False)
    truth: np.ndarray = field(repr=False)
    methods: Dict[str, MethodResult]

    def summary(self) -> Dict[str, object]:
        frames, height, width = self.hole.shape
        return {
            "clip": self.clip, "matte": self.matte, "shape": [frames, height, width],
            "hole_fraction": float(self.hole.mean()),
            "methods": {name: {**r.scores, "seconds": r.seconds, "variants": r.variants} for name, r in self.methods.items()},
        }


def score(variants: Sequence[np.ndarray], truth: np.ndarray, hole: np.ndarray) -> Dict[str, float]:
    """Every metric averaged over the variants (display values), and their diversity."""
    scores = {name: float(np.mean([metric(v, truth, hole) for v in variants])) for name, metric in METRICS.items()}
    scores["diversity"] = diversity(variants, hole)
    return scores


def evaluate(clip: Clip, matte: str, matte_seed: int, methods: Mapping[str, Method], encoding: Encoding,
             on_method: Callable[[str], None] = lambda name: None) -> CaseResult:
    """Fill ``clip`` under the synthetic matte ``matte`` with every method and score the fills."""
    frames, height, width = clip.video.shape[:3]
    hole = synthetic_matte(matte, frames, height, width, matte_seed)
    hidden = np.where(hole[..., None], np.float32(0.0), clip.video)

    def display(encoded: np.ndarray) -> np.ndarray:
        return encoding.display(encoding.decode(encoded))

    truth = display(clip.video)
    results = {}
    for name, method in methods.items():
        on_method(name)
        started = time.perf_counter()
        variants = method(hidden, hole)
        seconds = time.perf_counter() - started
        shown = [display(variant) for variant in variants]
        results[name] = MethodResult(score(shown, truth, hole), seconds, len(shown), shown[0])
    return CaseResult(clip.name, matte, hole, truth, results)


def averages(cases: List[CaseResult]) -> Dict[str, Dict[str, float]]:
    """Per method, each score averaged over the cases where it is defined (nan where none is)."""
    table: Dict[str, Dict[str, float]] = {}
    for name in cases[0].methods:
        keys = list(cases[0].methods[name].scores) + ["seconds"]
        table[name] = {}
        for key in keys:
            values = [c.methods[name].seconds if key == "seconds" else c.methods[name].scores[key] for c in cases]
            defined = [v for v in values if not math.isnan(v)]
            table[name][key] = float(np.mean(defined)) if defined else math.nan
    return table
