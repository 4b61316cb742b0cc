"""Sampling the whole shot: ancestral DDPM with reprojection, in overlapping chunks and tiles.

Every frame of the shot is sampled, not one training window. The network is fully
convolutional, so the whole shot goes through it at once unless ``chunk_frames`` asks for
temporal chunks or a finer level asks for spatial tiles; then each step predicts x0 piece by
piece and cross-fades the predictions where pieces overlap before the one shot-wide posterior
step, so there is a single x_t and no seam. With tiles, only pieces that touch the hole are
predicted (every other pixel is known and put back by reprojection), so the cost follows the
hole's size, not the plate's. All K variants go through the network together, each drawing its
noise from its own generator.
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
    model: nn.Module, x_t: torch.Tensor, video: torch.Tensor, hole: torch.Tensor, t: int, chunk: int = 0,
    overlap: int = 0, centre: Optional[torch.Tensor] = None, tile: int = 0, tile_overlap: int = 0,
) -> torch.Tensor:
    """The network's x0 for x_t (K,3,T,H,W) at step t, seeing video (3,T,H,W) outside hole (T,H,W)
    and, for a centred network, each variant's centre (K,CENTRE_CHANNELS,T,H,W).

    With ``tile`` > 0 the frame is cut into overlapping square tiles and tiles (of a chunk) without
    a hole pixel are skipped: x0 is 0 there (those pixels are known). The condition is built
    piece by piece, so memory follows the pieces.
    """
    variants, _, frames, height, width = x_t.shape
    steps = torch.full((variants,), t, device=x_t.device, dtype=torch.long)

    def network(where: Tuple[slice, slice, slice]) -> torch.Tensor:
        piece = (slice(None),) + where
        guess = centre[(slice(None),) + piece] if centre is not None else None
        condition = build_condition(video[piece][None].expand(variants, -1, -1, -1, -1),
                                    hole[where][None].expand(variants, -1, -1, -1), guess)
        return model(x_t[(slice(None),) + piece], condition, steps)

    axes = [(chunk_spans(frames, chunk, overlap), overlap), (chunk_spans(height, tile, tile_overlap), tile_overlap),
            (chunk_spans(width, tile, tile_overlap), tile_overlap)]
    if all(len(spans) == 1 for spans, _ in axes):
        return network((slice(None), slice(None), slice(None)))
    weights = [chunk_weights(spans, size, ramp) for (spans, ramp), size in zip(axes, (frames, height, width))]
    x0 = torch.zeros_like(x_t)
    total = torch.zeros((frames, height, width), device=x_t.device, dtype=x_t.dtype)
    for (ts, te), wt in zip(axes[0][0], weights[0]):
        for (ys, ye), wy in zip(axes[1][0], weights[1]):
            for (xs, xe), wx in zip(axes[2][0], weights[2]):
                where = (slice(ts, te), slice(ys, ye), slice(xs, xe))
                if tile and not bool(hole[where].any()):
                    continue
                weight = (wt[:, None, None] * wy[None, :, None] * wx[None, None, :]).to(x_t.device, x_t.dtype)
                x0[(slice(None), slice(None)) + where] += network(where) * weight
                total[where] += weight
    return torch.where(total > 0, x0 / total.clamp_min(1e-12), x0)


def build_condition(video: torch.Tensor, hidden: torch.Tensor, centre: Optional[torch.Tensor] = None) -> torch.Tensor:
    """The network's condition, (B, C, T, H, W): the video (B,3,T,H,W) zeroed where ``hidden``
    (B,T,H,W) says, the hidden mask, and for a centred network its centre
    (B,CENTRE_CHANNELS,T,H,W, engine/method/refinement.py), the one place where conditioning
    enters the network."""
    observed = torch.where(hidden[:, None], torch.zeros((), device=video.device), video)
    parts = [observed, hidden[:, None].to(video.dtype)] + ([centre] if centre is not None else [])
    return torch.cat(parts, dim=1)


@torch.no_grad()
def sample_steps(
    model: nn.Module, schedule: Schedule, x_t: torch.Tensor, video: torch.Tensor, hole: torch.Tensor,
    timesteps: Sequence[int], next_step: int, generators: Sequence[torch.Generator],
    chunk: int = 0, overlap: int = 0, on_step: Optional[StepCallback] = None,
    centre: Optional[torch.Tensor] = None, tile: int = 0, tile_overlap: int = 0,
) -> Tuple[torch.Tensor, torch.Tensor]:
    """Run the ancestral chain through ``timesteps`` (descending), ending at ``next_step``.

    x_t (K,3,T,H,W) is the state at timesteps[0]; video (3,T,H,W) has the hole zeroed; one
    generator per variant; centre (K,CENTRE_CHANNELS,T,H,W): each variant's centre (centred
    networks); tile > 0: predict in tiles that touch the hole. Returns (the state at next_step, the
    last reprojected x0 estimate). With next_step = -1 the returned state is the finished sample.
    """
    model.eval()
    known = ~hole[None, None]
    x0 = x_t
    for index, t in enumerate(timesteps):
        s = timesteps[index + 1] if index + 1 < len(timesteps) else next_step
        x0 = reproject(predict_x0(model, x_t, video, hole, t, chunk, overlap, centre, tile, tile_overlap),
                       video[None], known)
        noise = torch.stack([
            torch.randn(x_t.shape[1:], generator=generator, device=x_t.device) for generator in generators
        ])
        x_t = ancestral_step(schedule, x0, x_t, t, s, noise)
        if on_step is not None:
            on_step(index + 1)
    return x_t, x0
