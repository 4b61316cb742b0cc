"""``infusion bench``: the reference and fast paths side by side at a shape, preset and device.

For each path (engine/measure/bench_paths.py): training step time, sampling step time (all K variants,
the whole shot) and sampling time per frame, peak memory over one training and one sampling
step (engine/measure/memory_watch.py), the wall time of a shortened end-to-end run, and, from the step
medians, the sampling time per frame of the preset's whole chain (intervals x sample steps) and
the projected time of the preset's full budget. Steps are timed after uncounted warm-up
steps, the two paths' repeats interleaved so that load from other processes hits both alike;
median, min and max are reported, and fast / reference ratios. Each step's useful arithmetic
per second is set against a dense matrix multiply's on the device (engine/measure/flops.py). The top-level ``train_step``,
``sample_step`` and ``sample_s_per_frame`` are the fast path's: what the engine does.
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
from typing import Callable, Dict, List, Tuple

import torch

from ..measure.bench_paths import PATHS, BenchPath, bench_shot
from ..measure.flops import MATMUL_SIZE, matmul_flops_per_s, sampling_step_flops, training_step_flops
from ..measure.memory_watch import MemoryWatch
from ..method.model import count_parameters
from ..method.presets import PRESETS, preset
from ..method.settings import Settings
from ..measure.timing import timed


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
    parser.add_argument("--warmup", type=int, default=2, help="uncounted steps per path before timing (default 2)")
    parser.add_argument("--repeats", type=int, default=5, help="timed steps per path (default 5)")
    parser.add_argument("--e2e-intervals", type=int, default=2, help="intervals of the shortened run (default 2; 0 skips it)")
    parser.add_argument("--e2e-train-steps", type=int, default=10, help="training steps per interval there (default 10)")
    parser.add_argument("--e2e-sample-steps", type=int, default=5, help="sampling steps per interval there (default 5)")
    parser.add_argument("--compile", action=argparse.BooleanOptionalAction, default=None,
                        help="torch.compile in the fast path (eager fallback; default: on for CUDA only)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")


def summary(times: List[float]) -> Dict[str, float]:
    return {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times), "repeats": len(times)}


def interleaved(steps: Dict[str, Callable[[], None]], device: torch.device, warmup: int, repeats: int) -> Dict[str, Dict[str, float]]:
    """Median/min/max of each step after ``warmup`` uncounted calls, repeats taken in turn."""
    for step in steps.values():
        for _ in range(warmup):
            step()
    times: Dict[str, List[float]] = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            times[name].append(timed(step, device))
    return {name: summary(values) for name, values in times.items()}


def shortened(settings: Settings, args: argparse.Namespace) -> Settings:
    """The preset cut down to the end-to-end run's intervals and steps."""
    return settings.replace(intervals=args.e2e_intervals, train_steps=args.e2e_train_steps,
                            sample_steps=min(args.e2e_sample_steps, settings.diffusion_steps // args.e2e_intervals))


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    try:
        with open("/proc/cpuinfo") as stream:
            names = [line.split(":", 1)[1].strip() for line in stream if line.startswith("model name")]
    except OSError:
        names = []
    return f"cpu ({names[0] if names else platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"


def measure(shape: Tuple[int, int, int], args: argparse.Namespace) -> Dict[str, object]:
    settings = preset(args.preset)
    device = torch.device(args.device)
    video, hole = bench_shot(*shape)
    paths = {name: BenchPath(name, settings, device, video, hole, args.compile) for name in PATHS}
    train = interleaved({n: p.train_step for n, p in paths.items()}, device, args.warmup, args.repeats)
    sample = interleaved({n: p.sample_step for n, p in paths.items()}, device, args.warmup, args.repeats)
    work = {"train_step": training_step_flops(settings, shape), "sample_step": sampling_step_flops(settings, shape)}
    matmul: Dict[str, float] = {}
    results: Dict[str, Dict[str, object]] = {}
    for name, path in paths.items():
        precision = "bf16" if path.acceleration.autocast_bf16 else "fp32"
        if precision not in matmul:
            matmul[precision] = matmul_flops_per_s(device, torch.bfloat16 if precision == "bf16" else torch.float32)
        with MemoryWatch(device) as watch:
            path.train_step()
            path.sample_step()
        results[name] = {
            **path.describe(), "train_step": train[name], "sample_step": sample[name],
            "sample_s_per_frame": sample[name]["median_s"] / shape[0],
            "full_sampling_s_per_frame": settings.intervals * settings.sample_steps * sample[name]["median_s"] / shape[0],
            "peak_memory": watch.report(),
            "throughput": throughput(work, {"train_step": train[name], "sample_step": sample[name]}, precision, matmul),
            "projected_full_run_s": settings.intervals * (settings.train_steps * train[name]["median_s"]
                                                          + settings.sample_steps * sample[name]["median_s"]),
        }
        if args.e2e_intervals:
            short = shortened(settings, args)
            results[name]["end_to_end"] = {"seconds": timed(lambda: path.end_to_end(short), device),
                                           "intervals": short.intervals, "train_steps": short.train_steps,
                                           "sample_steps": short.sample_steps}
        compile_error = path.network.compile_error
        if compile_error:
            results[name]["compile_error"] = compile_error
    return {
        "preset": args.preset, "parameters": count_parameters(paths["fast"].network.model),
        "shape": dict(zip(("frames", "height", "width"), shape)),
        "training_window_frames": settings.training_window(*shape)[0], "training_crop": settings.train_crop,
        "training_windows_per_step": settings.train_batch,
        "variants": settings.variants, "device": device_name(device), "torch": torch.__version__,
        "threads": torch.get_num_threads(), "network_flops": work,
        "matmul_flops_per_s": matmul,
        "train_step": train["fast"], "sample_step": sample["fast"], "sample_s_per_frame": results["fast"]["sample_s_per_frame"],
        "paths": results, "ratio_fast_over_reference": ratios(results),
    }


def throughput(work: Dict[str, int], times: Dict[str, Dict[str, float]], precision: str,
               matmul: Dict[str, float]) -> Dict[str, object]:
    """Useful FLOP/s of each step at its median time, and as a fraction of the device's matmul rate."""
    out: Dict[str, object] = {"precision": precision}
    for step, flops in work.items():
        rate = flops / times[step]["median_s"]
        out[step] = {"flops_per_s": rate, "of_matmul_peak": rate / matmul[precision]}
    return out


def ratios(results: Dict[str, Dict[str, object]]) -> Dict[str, float]:
    reference, fast = results["reference"], results["fast"]
    out = {key: fast[key]["median_s"] / reference[key]["median_s"] for key in ("train_step", "sample_step")}
    out["peak_memory"] = fast["peak_memory"]["peak_mb"] / reference["peak_memory"]["peak_mb"]
    if "end_to_end" in fast:
        out["end_to_end"] = fast["end_to_end"]["seconds"] / reference["end_to_end"]["seconds"]
    return out


def _timing(entry: Dict[str, float]) -> str:
    return f"{entry['median_s'] * 1000:9.1f} ms ({entry['min_s'] * 1000:.0f}-{entry['max_s'] * 1000:.0f})"


def _rate(throughput: Dict[str, object], step: str) -> str:
    entry = throughput[step]
    return f"{entry['flops_per_s'] / 1e12:.3f} ({100 * entry['of_matmul_peak']:.0f}% of {throughput['precision']} matmul)"


def table(report: Dict[str, object]) -> str:
    shape, paths, ratio = report["shape"], report["paths"], report["ratio_fast_over_reference"]
    reference, fast = paths["reference"], paths["fast"]
    lines = [f"preset {report['preset']}  parameters {report['parameters']:,}  {report['device']}  torch {report['torch']}",
             f"shape {shape['frames']}x{shape['height']}x{shape['width']}  training windows "
             f"{report['training_windows_per_step']} x {report['training_window_frames']} frames, crop "
             f"{report['training_crop'] or 'none'}, "
             f"variants {report['variants']}  fast = {', '.join(k for k, v in fast['acceleration'].items() if v) or 'eager'}",
             f"network GFLOP: train step {report['network_flops']['train_step'] / 1e9:.2f}, sample step "
             f"{report['network_flops']['sample_step'] / 1e9:.2f}; dense {MATMUL_SIZE}^2 matmul TFLOP/s: "
             + ", ".join(f"{p} {r / 1e12:.3f}" for p, r in report["matmul_flops_per_s"].items()),
             f"{'':<22}{'reference':>28}{'fast':>28}{'fast/ref':>10}"]

    def row(label: str, ref: str, fst: str, r: object) -> None:
        lines.append(f"{label:<22}{ref:>28}{fst:>28}{(f'{r:.2f}' if isinstance(r, float) else ''):>10}")

    row("train step", _timing(reference["train_step"]), _timing(fast["train_step"]), ratio["train_step"])
    row("sample step", _timing(reference["sample_step"]), _timing(fast["sample_step"]), ratio["sample_step"])
    row("sample / frame / step", f"{reference['sample_s_per_frame'] * 1000:.1f} ms",
        f"{fast['sample_s_per_frame'] * 1000:.1f} ms", None)
    row("all sampling / frame", f"{reference['full_sampling_s_per_frame']:.2f} s",
        f"{fast['full_sampling_s_per_frame']:.2f} s", None)
    for step in ("train_step", "sample_step"):
        row(f"{step.replace('_', ' ')} TFLOP/s", _rate(reference["throughput"], step), _rate(fast["throughput"], step), None)
    memory = reference["peak_memory"]["kind"]
    row(f"peak memory ({'GPU' if memory.startswith('cuda') else 'RSS'})", f"{reference['peak_memory']['peak_mb']:.0f} MB",
        f"{fast['peak_memory']['peak_mb']:.0f} MB", ratio["peak_memory"])
    if "end_to_end" in fast:
        e2e = fast["end_to_end"]
        row(f"end-to-end {e2e['intervals']}x({e2e['train_steps']}+{e2e['sample_steps']})",
            f"{reference['end_to_end']['seconds']:.1f} s", f"{e2e['seconds']:.1f} s", ratio["end_to_end"])
    row("projected full preset", f"{reference['projected_full_run_s'] / 3600:.2f} h",
        f"{fast['projected_full_run_s'] / 3600:.2f} h", None)
    for name, path in paths.items():
        if "compile_error" in path:
            lines.append(f"{name}: torch.compile failed, ran eagerly: {path['compile_error']}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    if args.warmup < 0 or args.repeats < 1 or args.e2e_intervals < 0:
        raise ValueError("--warmup must be >= 0, --repeats >= 1 and --e2e-intervals >= 0")
    report = measure(parse_shape(args.shape), args)
    print(json.dumps(report, indent=2) if args.json else table(report))
    return 0
