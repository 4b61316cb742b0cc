"""Sampling the whole shot: ancestral DDPM with reprojection, in overlapping temporal chunks.

Every frame of the shot is sampled, not one training window. The network is fully
convolutional, so the whole shot goes through it at once unless ``chunk_frames`` asks for
chunks; then each step predicts x0 chunk by chunk and cross-fades the predictions where chunks
overlap before the one shot-wide posterior step, so there is a single x_t and no seam.
All K variants go through the network together, each drawing its noise from its own generator.
"""
from __future__ import annotations

from typing import Callable, List, Optional, Sequence, Tuple

import torch
from torch import nn

from .diffusion import Schedule, ancestral_step, reproject

StepCallback = Callable[[int], None]  # steps done in this interval


def chunk_spans(frames: int, chunk: int, overlap: int) -> List[Tuple[int, int]]:
    """(start, end) frame spans of length ``chunk`` covering [0, frames) with >= ``overlap`` shared."""
    if chunk <= 0 or chunk >= frames:
        return [(0, frames)]
    stride = chunk - overlap
    starts = list(range(0, frames - chunk, stride)) + [frames - chunk]
    return [(start, start + chunk) for start in starts]


def chunk_weights(spans: Sequence[Tuple[int, int]], frames: int, overlap: int) -> List[torch.Tensor]:
    """Per-span frame weights that ramp across overlaps and sum to 1 on every frame."""
    raw = []
    for start, end in spans:
        position = torch.arange(start, end, dtype=torch.float32)
        ramp_in = (position - start + 1) / (overlap + 1) if start > 0 else torch.ones_like(position)
        ramp_out = (end - position) / (overlap + 1) if end < frames else torch.ones_like(position)
        raw.append(torch.minimum(ramp_in, ramp_out).clamp(max=1.0))
    total = torch.zeros(frames)
    for (start, end), weight in zip(spans, raw):
        total[start:end] += weight
    return [weight / total[start:end] for (start, end), weight in zip(spans, raw)]


@torch.no_grad()
def predict_x0(
    model: nn.Module, x_t: torch.Tensor, condition: torch.Tensor, t: int, chunk: int = 0, overlap: int = 0
) -> torch.Tensor:
    """The network's x0 for x_t (K,3,T,H,W) under condition (1,4,T,H,W) at step t."""
    variants, frames = x_t.shape[0], x_t.shape[2]
    steps = torch.full((variants,), t, device=x_t.device, dtype=torch.long)
    spans = chunk_spans(frames, chunk, overlap)
    if len(spans) == 1:
        return model(x_t, condition.expand(variants, -1, -1, -1, -1), steps)
    x0 = torch.zeros_like(x_t)
    for (start, end), weight in zip(spans, chunk_weights(spans, frames, overlap)):
        piece = model(x_t[:, :, start:end], condition[:, :, start:end].expand(variants, -1, -1, -1, -1), steps)
        x0[:, :, start:end] += piece * weight.to(x_t.device, x_t.dtype)[None, None, :, None, None]
    return x0


def condition_for(video: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    """Network condition at sampling time: the observed video (hole zeroed) and the hole mask."""
    observed = torch.where(hole, torch.zeros((), device=video.device), video)
    return torch.cat([observed, hole[None].to(video.dtype)], dim=0)[None]


@torch.no_grad()
def sample_steps(
    model: nn.Module, schedule: Schedule, x_t: torch.Tensor, video: torch.Tensor, hole: torch.Tensor,
    timesteps: Sequence[int], next_step: int, generators: Sequence[torch.Generator],
    chunk: int = 0, overlap: int = 0, on_step: Optional[StepCallback] = None,
) -> Tuple[torch.Tensor, torch.Tensor]:
    """Run the ancestral chain through ``timesteps`` (descending), ending at ``next_step``.

    x_t (K,3,T,H,W) is the state at timesteps[0]; video (3,T,H,W) has the hole zeroed; one
    generator per variant. Returns (the state at next_step, the last reprojected x0 estimate).
    With next_step = -1 the returned state is the finished sample.
    """
    model.eval()
    condition = condition_for(video, hole)
    known = ~hole[None, None]
    x0 = x_t
    for index, t in enumerate(timesteps):
        s = timesteps[index + 1] if index + 1 < len(timesteps) else next_step
        x0 = reproject(predict_x0(model, x_t, condition, t, chunk, overlap), video[None], known)
        noise = torch.stack([
            torch.randn(x_t.shape[1:], generator=generator, device=x_t.device) for generator in generators
        ])
        x_t = ancestral_step(schedule, x0, x_t, t, s, noise)
        if on_step is not None:
            on_step(index + 1)
    return x_t, x0
