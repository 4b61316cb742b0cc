"""``infusion demo``: the built-in sample shot (a buoy drifting over a sea, 960x540) filled on the CPU.

Writes, under ``--out``: ``plate/demo.####.exr`` and ``plate/demo_matte.####.exr`` (the shot and
the buoy's soft roto, half float; ``engine/measure/seascape.py``), ``result/demo_fill.####.exr``
(the buoy removed), ``work/`` (checkpoint, previews), ``contact_sheet.png`` (rows: before with the
matte in yellow, after, both whole and scaled down; then before and after cropped around the
hole at the plate's own pixels, 1:1) and ``before_after.gif`` (the whole shot, before beside
after, a third of the size) and ``before_after_crop.gif`` (the hole's crop, before over after, 1:1).
Nothing outside the package is needed. The demo always starts over.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Callable, List, Tuple

import numpy as np
import OpenImageIO as oiio

from ..measure.contact_sheet import write_animation, write_contact_sheet
from ..measure.eval_sheet import hole_crop
from ..measure.seascape import demo_shot
from ..method.presets import PRESETS, preset
from ..plates.color import Encoding
from ..plates.exr import read_frame, write_frame
from ..plates.request import ShotRequest
from ..plates.sequence import FramePattern
from ..plates.shot import run_shot
from .console import ConsoleProgress

FIRST_FRAME = 1001
DEMO_WIDTH = 960
SHEET_FRAMES = 6
CELL_WIDTH = 320  # whole frames are scaled down to about this width in the sheet; crops are this wide, 1:1
YELLOW = np.array([1.0, 0.9, 0.1], np.float32)
Display = Callable[[np.ndarray], np.ndarray]  # scene-linear RGB -> display-referred [0, 1]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("infusion-demo"), help="output folder (default infusion-demo)")
    parser.add_argument("--preset", default="preview", choices=list(PRESETS), help="settings preset (default preview)")
    parser.add_argument("--train-steps", type=int, help="training steps per interval (default: the preset's)")
    parser.add_argument("--width", type=int, default=DEMO_WIDTH,
                        help=f"width of the sample shot in pixels, 16:9 (default {DEMO_WIDTH})")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--device", default="cpu", help="device (default cpu)")


def write_shot(folder: Path, width: int) -> Tuple[str, str, Tuple[int, int], np.ndarray]:
    """The demo shot as EXRs in ``folder``: (plate pattern, matte pattern, frame range, matte array)."""
    plate, matte = demo_shot(width=width)
    plate_pattern, matte_pattern = FramePattern.parse(str(folder / "demo.####.exr")), FramePattern.parse(
        str(folder / "demo_matte.####.exr"))
    height = matte.shape[1]
    for index, (image, alpha) in enumerate(zip(plate, matte)):
        spec = oiio.ImageSpec(width, height, 3, "half")
        spec.attribute("compression", "zip")
        write_frame(plate_pattern.path(FIRST_FRAME + index), image, spec)
        matte_spec = oiio.ImageSpec(width, height, 1, "half")
        matte_spec.channelnames = ("A",)
        write_frame(matte_pattern.path(FIRST_FRAME + index), alpha[..., None], matte_spec)
    return str(plate_pattern), str(matte_pattern), (FIRST_FRAME, FIRST_FRAME + len(plate) - 1), matte


def shrink(frames: np.ndarray, factor: int) -> np.ndarray:
    """(T, H, W, C) scaled down by a whole ``factor`` (the mean of each factor x factor block)."""
    count, height, width, channels = frames.shape
    rows, cols = height // factor, width // factor
    blocks = frames[:, :rows * factor, :cols * factor].reshape(count, rows, factor, cols, factor, channels)
    return blocks.mean(axis=(2, 4))


def sheet_rows(before: np.ndarray, after: np.ndarray, matte: np.ndarray, display: Display) -> List[np.ndarray]:
    """Whole frames before (matte in yellow) and after, scaled down; then both cropped 1:1 around
    the hole. ``before``/``after`` are scene-linear, scaled down there (light adds up in linear)
    and shown through ``display``; only the pixels shown are transformed."""
    factor = max(1, before.shape[2] // CELL_WIDTH)
    small_matte = shrink(matte[..., None], factor)
    marked = display(shrink(before, factor)) * (1 - 0.6 * small_matte) + 0.6 * small_matte * YELLOW
    whole = [marked, display(shrink(after, factor))]
    cell = whole[0].shape[1:3]
    windows = [hole_crop(hole[None] > 0, cell) for hole in matte]
    crops = [display(np.stack([frame[window] for frame, window in zip(frames, windows)])) for frames in (before, after)]
    return whole + crops


def run(args: argparse.Namespace) -> int:
    started = time.monotonic()
    out: Path = args.out
    overrides = {"seed": args.seed, **({"train_steps": args.train_steps} if args.train_steps is not None else {})}
    plate, matte_pattern, frames, matte = write_shot(out / "plate", args.width)
    work_dir = out / "work"
    (work_dir / "checkpoint.pt").unlink(missing_ok=True)
    request = ShotRequest(plate=plate, frames=frames, out=str(out / "result" / "demo_fill.####.exr"),
                          settings=preset(args.preset, **overrides), matte=matte_pattern)
    result = run_shot(request, work_dir, device=args.device, progress=ConsoleProgress(request.settings))

    display = Encoding().display
    numbers = range(frames[0], frames[1] + 1)
    before = np.stack([read_frame(FramePattern.parse(plate).path(n)).pixels for n in numbers])
    after = np.stack([read_frame(FramePattern.parse(result.outputs[0]).path(n)).pixels for n in numbers])
    picks = np.linspace(0, len(numbers) - 1, SHEET_FRAMES).round().astype(int)
    sheet = out / "contact_sheet.png"
    write_contact_sheet(str(sheet), sheet_rows(before[picks], after[picks], matte[picks], display))
    whole_gif, crop_gif = out / "before_after.gif", out / "before_after_crop.gif"
    write_animation(str(whole_gif), display(np.concatenate([shrink(before, 3), shrink(after, 3)], axis=2)))
    ys, xs = hole_crop(matte > 0, (before.shape[1] // 3, before.shape[2] // 2))
    write_animation(str(crop_gif), display(np.concatenate([before[:, ys, xs], after[:, ys, xs]], axis=1)))
    print(f"plate: {plate}\nmatte: {matte_pattern}\nresult: {result.outputs[0]}\n"
          f"contact sheet (before / after, whole; before / after, 1:1 around the hole): {sheet}\n"
          f"animations (before | after): {whole_gif}, {crop_gif}\n"
          f"demo took {time.monotonic() - started:.0f} s")
    print(f"the same with infusion run: infusion run --plate {plate} --matte {matte_pattern} "
          f"--frames {frames[0]}-{frames[1]} --out {result.outputs[0]} --preset {args.preset} --device {args.device}")
    return 0
