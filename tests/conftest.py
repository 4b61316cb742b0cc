"""Shared fixtures: tiny shots in the network encoding."""
from __future__ import annotations

import torch
import pytest


def tiny_shot(frames: int = 6, height: int = 32, width: int = 32, seed: int = 0):
    """A (3,T,H,W) video in [-1, 1] with a moving pattern, and a (T,H,W) hole over its middle."""
    generator = torch.Generator().manual_seed(seed)
    t = torch.arange(frames, dtype=torch.float32)[:, None, None]
    y = torch.arange(height, dtype=torch.float32)[None, :, None]
    x = torch.arange(width, dtype=torch.float32)[None, None, :]
    shape = (frames, height, width)
    base = torch.stack([torch.sin(0.4 * x + 0.7 * t).expand(shape), torch.cos(0.3 * y - 0.5 * t).expand(shape),
                        torch.sin(0.2 * (x + y) + t)])
    video = (0.8 * base + 0.1 * torch.randn(base.shape, generator=generator)).clamp(-1, 1)
    hole = torch.zeros(frames, height, width, dtype=torch.bool)
    hole[:, height // 3: height // 3 + height // 4, width // 3: width // 3 + width // 4] = True
    return video, hole


@pytest.fixture
def shot():
    return tiny_shot()


def level_stacks(video, hole, settings):
    """The coarse-to-fine level stacks of a (3,T,H,W) shot for ``settings``, as the shot pipeline builds them."""
    from infusion.engine.method.pyramid import level_shapes, scale_known
    frames = video.permute(1, 0, 2, 3)
    out = []
    for shape in level_shapes(video.shape[2], video.shape[3], settings):
        scaled, small = scale_known(frames, hole, shape)
        out.append((scaled.permute(1, 0, 2, 3).contiguous(), small))
    return out
