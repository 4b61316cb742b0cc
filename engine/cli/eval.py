"""``infusion eval``: Infusion against simple baselines on clips with known truth under synthetic mattes.

Clips: EXR sequences (``--plate PATTERN FIRST-LAST``, repeatable) and built-in procedural textures
(``--procedural``; all of them when no plate is given). Every clip is filled under every matte
kind of ``--mattes`` by every method; scores are inside the hole, in display values (see
engine/measure/evaluation.py). ``--resolution plate`` (the default) scores what the artist gets:
the plates at their own size, Infusion through the shot pipeline on EXR files (levels,
composite), the composited output frames; ``--resolution working`` scores the old way, every clip
scaled to the working size and one level of Infusion on tensors. Writes ``eval.json`` and, per case, ``CLIP_MATTE.png`` (contact sheet)
and ``CLIP_MATTE.gif`` under ``--out``; prints the tables (or the JSON).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Dict, List

import torch

from ..measure import baselines
from ..method.acceleration import Acceleration
from ..measure.bench_paths import PATHS
from ..plates.color import Encoding
from ..measure.eval_clips import Clip, exr_clip, panning_clip, procedural_clip
from ..measure.synthetic_mattes import KINDS
from ..measure.eval_sheet import sheet_rows, write_case_gif, write_case_sheet
from ..measure.evaluation import CaseResult, Method, averages, baseline_method, evaluate, infusion_method, pipeline_method
from ..method.presets import PRESETS, preset
from ..method.settings import Settings
from ..measure.procedural import TEXTURES
from ..plates.sequence import parse_frame_range

COLUMNS = ("psnr", "ssim", "dynamics_ratio", "detail_ratio", "grain_ratio", "seam_ratio", "texture_distance", "diversity",
           "seconds")
HEADINGS = ("PSNR", "SSIM", "dynamics", "detail", "grain", "seam", "texture", "diversity", "seconds")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--plate", nargs=2, action="append", default=[], metavar=("PATTERN", "FRAMES"),
                        help="an EXR sequence and its frame range, e.g. shot.####.exr 1001-1024 (repeatable)")
    parser.add_argument("--procedural", nargs="*", choices=sorted(TEXTURES),
                        help="built-in clips; with no name, all of them (the default when no --plate is given)")
    parser.add_argument("--procedural-frames", type=int, default=24, help="frames of each procedural clip (default 24)")
    parser.add_argument("--procedural-width", type=int, default=256,
                        help="width of each procedural clip at --resolution plate (default 256)")
    parser.add_argument("--pan", action="store_true",
                        help="also score every clip seen through a window that pans (0.5, 2 px a frame) and "
                             "pushes in (5%%), as NAME_pan: a camera move whose truth is known")
    parser.add_argument("--resolution", choices=("plate", "working"), default="plate",
                        help="plate: score the composited output frames at the plates' own size (default); "
                             "working: every clip scaled to the working size, one level")
    parser.add_argument("--mattes", nargs="+", default=list(KINDS), choices=list(KINDS), help="synthetic matte kinds")
    parser.add_argument("--matte-seed", type=int, default=0, help="seed of the synthetic mattes (default 0)")
    parser.add_argument("--preset", default="preview", choices=list(PRESETS), help="Infusion's preset (default preview)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="Infusion seeds, one row each (default 0)")
    parser.add_argument("--variants", type=int, default=2, help="Infusion variants per seed, for diversity (default 2)")
    parser.add_argument("--train-steps", type=int, help="training steps per interval (default: the preset's)")
    parser.add_argument("--train-batch", type=int, help="training windows per step (default: the preset's)")
    parser.add_argument("--working-size", type=int,
                        help="the coarsest level's longest side (and the clips' at --resolution working; default: the preset's)")
    parser.add_argument("--refine-levels", type=int, help="the most finer levels up to the plate's size (default: the preset's)")
    parser.add_argument("--set", nargs="+", default=[], metavar="FIELD=VALUE", dest="overrides",
                        help="override any setting of engine/method/settings.py, e.g. refine_detail=0.5 reveal_prior=false")
    parser.add_argument("--paths", nargs="+", default=["fast"], choices=list(PATHS),
                        help="Infusion's network paths, one row each (default fast: the engine's own; reference: "
                             "fp32, eager, contiguous, as infusion bench times it)")
    parser.add_argument("--no-baselines", action="store_true", help="run Infusion only")
    parser.add_argument("--device", default="cpu", help="cpu or cuda:N (default cpu)")
    parser.add_argument("--out", type=Path, default=Path("infusion-eval"), help="output folder (default infusion-eval)")
    parser.add_argument("--json", action="store_true", help="print the JSON report instead of tables")


def load_clips(args: argparse.Namespace, size: int, encoding: Encoding) -> List[Clip]:
    """The clips, at their own size (``--resolution plate``) or at ``size``."""
    at_plate = args.resolution == "plate"
    clips = [exr_clip(pattern, parse_frame_range(frames), None if at_plate else size, encoding)
             for pattern, frames in args.plate]
    everything = args.procedural == [] or (args.procedural is None and not args.plate)  # bare --procedural: all
    names = sorted(TEXTURES) if everything else (args.procedural or [])
    width = args.procedural_width if at_plate else size
    clips += [procedural_clip(name, args.procedural_frames, width, encoding) for name in names]
    if not clips:
        raise ValueError("nothing to evaluate: give --plate or --procedural")
    return clips + ([panning_clip(clip) for clip in clips] if args.pan else [])


def methods_for(args: argparse.Namespace, encoding: Encoding) -> Dict[str, Method]:
    methods: Dict[str, Method] = {}
    if not args.no_baselines:
        methods.update({name: baseline_method(fill) for name, fill in baselines.available().items()})
    overrides = {"variants": args.variants}
    if args.train_steps is not None:
        overrides["train_steps"] = args.train_steps
    if args.train_batch is not None:
        overrides["train_batch"] = args.train_batch
    if args.working_size is not None:
        overrides["working_size"] = args.working_size
    if args.refine_levels is not None:
        overrides["refine_levels"] = args.refine_levels
    overrides.update(setting_overrides(args.overrides))
    for seed in args.seeds:
        settings = preset(args.preset, seed=seed, **overrides)
        if args.resolution == "plate":
            if args.paths != ["fast"]:
                raise ValueError("--paths reference scores one level on tensors: add --resolution working")
            methods[f"infusion s{seed}"] = pipeline_method(settings, args.device, encoding)
            continue
        for path in args.paths:
            name = f"infusion s{seed}" + (f" {path}" if args.paths != ["fast"] else "")
            acceleration = Acceleration.reference() if path == "reference" else None  # None: the engine's choice
            methods[name] = infusion_method(settings.replace(refine_levels=0), args.device, acceleration)
    return methods


def setting_overrides(pairs: List[str]) -> Dict[str, object]:
    """``FIELD=VALUE`` pairs as settings overrides, each value read as its field's type."""
    defaults = Settings()
    overrides: Dict[str, object] = {}
    for pair in pairs:
        name, equals, text = pair.partition("=")
        if not equals or not hasattr(defaults, name):
            raise ValueError(f"--set {pair!r}: expected FIELD=VALUE with a field of the settings")
        kind = type(getattr(defaults, name))
        if kind is bool:
            if text.lower() not in ("true", "false", "1", "0", "on", "off"):
                raise ValueError(f"--set {pair!r}: {name} is true or false")
            overrides[name] = text.lower() in ("true", "1", "on")
        else:
            try:
                overrides[name] = kind(text)
            except ValueError:
                raise ValueError(f"--set {pair!r}: {name} takes {kind.__name__} values") from None
    return overrides


def format_value(value: float) -> str:
    if math.isnan(value):
        return "-"
    return "inf" if math.isinf(value) else f"{value:.3f}" if abs(value) < 100 else f"{value:.0f}"


def table(title: str, rows: Dict[str, Dict[str, float]]) -> str:
    width = max(len(name) for name in rows) + 2
    lines = [title, " " * width + "".join(f"{h:>11}" for h in HEADINGS)]
    for name, values in rows.items():
        lines.append(f"{name:<{width}}" + "".join(f"{format_value(values[c]):>11}" for c in COLUMNS))
    return "\n".join(lines)


def report(cases: List[CaseResult], args: argparse.Namespace, size: int, sheets: Dict[str, Dict[str, object]]) -> Dict[str, object]:
    return {
        "preset": args.preset, "seeds": args.seeds, "variants": args.variants, "working_size": size,
        "resolution": args.resolution,
        "device": args.device if not args.device.startswith("cuda") else torch.cuda.get_device_name(args.device),
        "metric_space": "display-referred [0, 1]: OCIO default display and view of the decoded linear fill",
        "cases": [dict(case.summary(), **sheets[f"{case.clip}_{case.matte}"]) for case in cases],
        "average": averages(cases),
    }


def plain(value: object) -> object:
    """``value`` with non-finite floats made strict JSON: nan -> null, +-inf -> "inf" / "-inf"."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def run(args: argparse.Namespace) -> int:
    settings = preset(args.preset)
    size = args.working_size or settings.working_size
    encoding = Encoding()
    clips = load_clips(args, size, encoding)
    methods = methods_for(args, encoding)
    args.out.mkdir(parents=True, exist_ok=True)
    cases, sheets = [], {}
    for clip in clips:
        for matte in args.mattes:
            def note(name: str) -> None:
                print(f"[eval] {clip.name} / {matte}: {name}", file=sys.stderr, flush=True)
            case = evaluate(clip, matte, args.matte_seed, methods, encoding, on_method=note)
            key = f"{case.clip}_{case.matte}"
            sheet = args.out / f"{key}.png"
            crop = write_case_sheet(case, sheet)
            gif = write_case_gif(case, list(methods)[-1], args.out / f"{key}.gif")
            sheets[key] = {"contact_sheet": str(sheet), "crop_sheet": str(crop), "sheet_rows": sheet_rows(case),
                           "gif": str(gif)}
            cases.append(case)
            if not args.json:
                print(table(f"{case.clip} / {case.matte}  (hole {100 * case.hole.mean():.1f}%)",
                            {n: {**r.scores, "seconds": r.seconds} for n, r in case.methods.items()}) + "\n", flush=True)
    result = report(cases, args, size, sheets)
    text = json.dumps(plain(result), indent=2)
    (args.out / "eval.json").write_text(text)
    if args.json:
        print(text)
    else:
        print(table(f"average over {len(cases)} cases", result["average"]))
        print(f"\ncontact sheets (rows: {', '.join(sheet_rows(cases[0]))}) and eval.json in {args.out}")
    return 0
