"""``infusion bench``: parameter count, training step and sampling step times at a given shape.

Times are medians over repeats after warm-up steps that are not counted; the spread (min, max)
is reported beside each median.
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from typing import Callable, Dict, List, Tuple

import torch

from . import diffusion
from .masks import random_training_mask
from .model import UNet3D, count_parameters
from .presets import PRESETS, preset
from .sampling import condition_for, predict_x0
from .training import training_loss


def parse_shape(text: str) -> Tuple[int, int, int]:
    """'12x64x64' -> (frames, height, width)."""
    try:
        frames, height, width = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"shape must look like FRAMESxHEIGHTxWIDTH, got {text!r}") from None
    if min(frames, height, width) < 1:
        raise ValueError(f"shape must be positive, got {text!r}")
    return frames, height, width


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--shape", default="12x64x64", help="FRAMESxHEIGHTxWIDTH of the clip (default 12x64x64)")
    parser.add_argument("--preset", default="standard", choices=sorted(PRESETS))
    parser.add_argument("--device", default="cpu", help="cpu or cuda:N")
    parser.add_argument("--warmup", type=int, default=2, help="uncounted steps before timing")
    parser.add_argument("--repeats", type=int, default=5, help="timed steps")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_steps(step: Callable[[], None], device: torch.device, warmup: int, repeats: int) -> Dict[str, float]:
    for _ in range(warmup):
        step()
    synchronize(device)
    times: List[float] = []
    for _ in range(repeats):
        started = time.perf_counter()
        step()
        synchronize(device)
        times.append(time.perf_counter() - started)
    return {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times)}


def measure(shape: Tuple[int, int, int], preset_name: str, device_name: str, warmup: int, repeats: int) -> Dict[str, object]:
    settings = preset(preset_name)
    device = torch.device(device_name)
    frames, height, width = shape
    generator = torch.Generator(device=device).manual_seed(0)
    model = UNet3D.from_settings(settings).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.learning_rate)
    schedule = diffusion.linear_schedule(settings.diffusion_steps)
    video = torch.rand((3, frames, height, width), generator=generator, device=device) * 2 - 1
    hole = torch.zeros((frames, height, width), dtype=torch.bool, device=device)
    hole[:, height // 3: 2 * height // 3, width // 3: 2 * width // 3] = True
    window = min(settings.window_frames, frames)

    def train_step() -> None:
        x0, window_hole = video[:, :window], hole[:window]
        hidden = random_training_mask(generator, window, height, width) | window_hole
        t = torch.randint(0, settings.diffusion_steps, (1,), generator=generator, device=device)
        noise = torch.randn(x0.shape, generator=generator, device=device)
        loss = training_loss(model, schedule, x0, window_hole, hidden, t, noise)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    condition = condition_for(video, hole)
    x_t = torch.randn((1, 3, frames, height, width), generator=generator, device=device)

    def sample_step() -> None:
        predict_x0(model, x_t, condition, 500, settings.chunk_frames, settings.chunk_overlap)

    train = time_steps(train_step, device, warmup, repeats)
    sample = time_steps(sample_step, device, warmup, repeats)
    return {
        "preset": preset_name,
        "parameters": count_parameters(model),
        "shape": {"frames": frames, "height": height, "width": width},
        "training_window_frames": window,
        "device": device_name if device.type != "cuda" else torch.cuda.get_device_name(device),
        "cpu": platform.processor() or platform.machine(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "train_step": train,
        "sample_step": sample,
        "sample_s_per_frame": sample["median_s"] / frames,
    }


def run(args: argparse.Namespace) -> int:
    report = measure(parse_shape(args.shape), args.preset, args.device, args.warmup, args.repeats)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    shape = report["shape"]
    print(f"preset {report['preset']}  parameters {report['parameters']:,}  device {report['device']}  "
          f"shape {shape['frames']}x{shape['height']}x{shape['width']}")
    for name in ("train_step", "sample_step"):
        timing = report[name]
        print(f"  {name:<12} median {timing['median_s'] * 1000:9.1f} ms   (min {timing['min_s'] * 1000:.1f}, max {timing['max_s'] * 1000:.1f})")
    print(f"  sampling per frame per step {report['sample_s_per_frame'] * 1000:.1f} ms")
    return 0
