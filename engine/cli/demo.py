"""``infusion demo``: the built-in sample shot (waves, a buoy drifting across them) filled on the CPU.

Writes, under ``--out``: ``plate/demo.####.exr`` and ``plate/demo_matte.####.exr`` (the shot and
the buoy's soft matte, half float), ``result/demo_fill.####.exr`` (the buoy removed),
``work/`` (checkpoint, previews) and ``contact_sheet.png``: rows before / matte (yellow) / after over six
frames. Nothing outside the package is needed. The demo always starts over.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import OpenImageIO as oiio

from ..plates.color import Encoding
from .console import ConsoleProgress
from ..measure.contact_sheet import write_contact_sheet
from ..plates.exr import read_frame, write_frame
from ..method.presets import PRESETS, preset
from ..measure.procedural import demo_shot
from ..plates.sequence import FramePattern
from ..plates.request import ShotRequest
from ..plates.shot import run_shot

FIRST_FRAME = 1001
SHEET_FRAMES = 6


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("infusion-demo"), help="output folder (default infusion-demo)")
    parser.add_argument("--preset", default="preview", choices=list(PRESETS), help="settings preset (default preview)")
    parser.add_argument("--train-steps", type=int, help="training steps per interval (default: the preset's)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--device", default="cpu", help="device (default cpu)")


def write_shot(folder: Path) -> tuple:
    """The demo shot as EXRs in ``folder``: (plate pattern, matte pattern, frame range, matte array)."""
    plate, matte = demo_shot()
    plate_pattern, matte_pattern = FramePattern.parse(str(folder / "demo.####.exr")), FramePattern.parse(
        str(folder / "demo_matte.####.exr"))
    height, width = matte.shape[1:]
    for index, (image, alpha) in enumerate(zip(plate, matte)):
        spec = oiio.ImageSpec(width, height, 3, "half")
        spec.attribute("compression", "zip")
        write_frame(plate_pattern.path(FIRST_FRAME + index), image, spec)
        matte_spec = oiio.ImageSpec(width, height, 1, "half")
        matte_spec.channelnames = ("A",)
        write_frame(matte_pattern.path(FIRST_FRAME + index), alpha[..., None], matte_spec)
    return str(plate_pattern), str(matte_pattern), (FIRST_FRAME, FIRST_FRAME + len(plate) - 1), matte


def run(args: argparse.Namespace) -> int:
    out: Path = args.out
    overrides = {"seed": args.seed, **({"train_steps": args.train_steps} if args.train_steps is not None else {})}
    plate, matte_pattern, frames, matte = write_shot(out / "plate")
    work_dir = out / "work"
    (work_dir / "checkpoint.pt").unlink(missing_ok=True)
    request = ShotRequest(plate=plate, frames=frames, out=str(out / "result" / "demo_fill.####.exr"),
                          settings=preset(args.preset, **overrides), matte=matte_pattern)
    result = run_shot(request, work_dir, device=args.device, progress=ConsoleProgress(request.settings))

    picks = np.linspace(0, frames[1] - frames[0], SHEET_FRAMES).round().astype(int)
    encoding = Encoding()
    before = encoding.display(np.stack([read_frame(FramePattern.parse(plate).path(frames[0] + i)).pixels for i in picks]))
    after = encoding.display(np.stack([read_frame(FramePattern.parse(result.outputs[0]).path(frames[0] + i)).pixels
                                       for i in picks]))
    weight = matte[picks][..., None]
    marked = before * (1 - 0.6 * weight) + weight * 0.6 * np.array([1.0, 0.9, 0.1], np.float32)  # yellow
    sheet = out / "contact_sheet.png"
    write_contact_sheet(str(sheet), [before, marked, after], scale=3)
    print(f"plate: {plate}\nmatte: {matte_pattern}\nresult: {result.outputs[0]}\ncontact sheet (before / matte / after): {sheet}")
    print(f"the same with infusion run: infusion run --plate {plate} --matte {matte_pattern} "
          f"--frames {frames[0]}-{frames[1]} --out {result.outputs[0]} --preset {args.preset} --device {args.device}")
    return 0
