"""Random training masks: still or moving blobs and strokes covering up to about half the frame.

One call draws a fresh mask for a training window, vectorised in torch on the window's device
(no per-shape Python loop, no drawing library). Shapes are laid down one after the other until
their union reaches a coverage drawn uniformly between MIN_FRACTION and the maximum, so the
areas seen in training span small holes to half the frame.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

SHAPES = 8
MIN_FRACTION = 0.02
GRID_SHORT_SIDE = 64  # masks are drawn on a grid about this coarse, then upsampled (nearest)


def random_training_mask(
    generator: torch.Generator, frames: int, height: int, width: int, max_fraction: float = 0.5
) -> torch.Tensor:
    """A bool mask (frames, height, width), True = hidden from the network, on the generator's device."""
    device = generator.device
    factor = max(1, min(height, width) // GRID_SHORT_SIDE)
    grid_h, grid_w = -(-height // factor), -(-width // factor)
    short = float(min(grid_h, grid_w))

    def uniform(*shape: int, low: float = 0.0, high: float = 1.0) -> torch.Tensor:
        return low + (high - low) * torch.rand(shape, generator=generator, device=device)

    target = uniform(1, low=MIN_FRACTION, high=max_fraction)
    is_stroke = uniform(SHAPES) < 0.4
    moving = (uniform(SHAPES) < 0.6).float()
    # Per-shape anchor points (two, for strokes), velocities in grid pixels per frame, sizes.
    anchors = uniform(SHAPES, 2, 2) * torch.tensor([grid_h, grid_w], device=device, dtype=torch.float32)
    velocity = uniform(SHAPES, 1, 2, low=-1.0, high=1.0) * (0.04 * short) * moving[:, None, None]
    radii = uniform(SHAPES, 2, low=0.06, high=0.35) * short
    thickness = uniform(SHAPES, low=0.03, high=0.10) * short

    time = torch.arange(frames, device=device, dtype=torch.float32) - (frames - 1) / 2.0
    # Points per shape, frame and anchor: (S, T, 2 anchors, 2 coords).
    points = anchors[:, None] + velocity[:, None] * time[None, :, None, None]
    ys = torch.arange(grid_h, device=device, dtype=torch.float32)[:, None]
    xs = torch.arange(grid_w, device=device, dtype=torch.float32)[None, :]

    def coords(anchor: int, axis: int) -> torch.Tensor:
        return points[:, :, anchor, axis][:, :, None, None]  # (S, T, 1, 1)

    # Blobs: axis-aligned ellipses around the first anchor.
    dy = (ys - coords(0, 0)) / radii[:, 0, None, None, None]
    dx = (xs - coords(0, 1)) / radii[:, 1, None, None, None]
    blobs = dy * dy + dx * dx <= 1.0
    # Strokes: thick segments between the two anchors (distance to segment <= thickness).
    seg_y, seg_x = coords(1, 0) - coords(0, 0), coords(1, 1) - coords(0, 1)
    rel_y, rel_x = ys - coords(0, 0), xs - coords(0, 1)
    along = ((rel_y * seg_y + rel_x * seg_x) / (seg_y * seg_y + seg_x * seg_x + 1e-6)).clamp(0.0, 1.0)
    dist_y, dist_x = rel_y - along * seg_y, rel_x - along * seg_x
    strokes = dist_y * dist_y + dist_x * dist_x <= (thickness * thickness)[:, None, None, None]
    shapes = torch.where(is_stroke[:, None, None, None], strokes, blobs)

    # Union of the first k shapes for k = 1..S; keep the first whose coverage reaches the target.
    unions = torch.cummax(shapes.to(torch.uint8), dim=0).values
    coverage = unions.float().mean(dim=(1, 2, 3))
    reached = coverage >= target
    chosen = torch.where(reached.any(), reached.to(torch.uint8).argmax(), torch.tensor(SHAPES - 1, device=device))
    # The shape that reached the target may overshoot the maximum: then stop one shape earlier.
    overshoot = (coverage[chosen] > max_fraction) & (chosen > 0)
    mask = unions[chosen - overshoot.long()]
    if factor > 1:
        mask = F.interpolate(mask[None].float(), scale_factor=factor, mode="nearest")[0] > 0.5
    return mask[:, :height, :width].bool()
