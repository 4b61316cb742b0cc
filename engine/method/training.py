"""Internal training for one interval: windows of the shot, random masks ORed with the matte.

The hole (the user's matte) is zeroed in every input and excluded from the loss, so nothing under
the matte can reach the network. The loss is L2 over every pixel outside the hole, the pixels
hidden by the training mask included.
"""
from __future__ import annotations

from typing import Callable, Optional, Tuple

import torch
from torch import nn

from .diffusion import Schedule, q_sample
from .training_masks import random_training_mask
from .settings import Settings

StepCallback = Callable[[int, Optional[float]], None]  # (steps done, loss or None when not read)


def training_loss(
    model: nn.Module, schedule: Schedule, x0: torch.Tensor, hole: torch.Tensor, hidden: torch.Tensor,
    t: torch.Tensor, noise: torch.Tensor,
) -> torch.Tensor:
    """L2 loss of the x0 prediction outside the hole, over a batch of B windows.

    x0 (B,3,T,H,W) are the clean windows with the hole already zeroed; hole and hidden (B,T,H,W)
    are bool, hidden = training mask OR hole; t is (B,) steps; noise is like x0.
    """
    x_t = q_sample(schedule, x0, t, noise)
    observed = torch.where(hidden[:, None], torch.zeros((), device=x0.device), x0)
    condition = torch.cat([observed, hidden[:, None].to(x0.dtype)], dim=1)
    prediction = model(x_t, condition, t)
    visible = (~hole[:, None]).to(x0.dtype)
    squared = (prediction - x0).square() * visible
    return squared.sum() / (visible.sum() * x0.shape[1]).clamp_min(1.0)


def train_interval(
    model: nn.Module, optimizer: torch.optim.Optimizer, schedule: Schedule, video: torch.Tensor,
    hole: torch.Tensor, settings: Settings, lowest: int, highest: int, generator: torch.Generator,
    on_step: Optional[StepCallback] = None,
) -> None:
    """Train on steps t in [lowest, highest] for ``settings.train_steps`` steps of
    ``settings.train_batch`` windows each.

    video (3,T,H,W) has the hole zeroed; every random draw comes from ``generator``.
    """
    device = video.device
    _, frames, height, width = video.shape
    window, crop_h, crop_w = settings.training_window(frames, height, width)

    def offset(limit: int) -> int:
        return int(torch.randint(0, limit + 1, (1,), generator=generator, device=device))

    def window_start() -> int:
        """Windows may start half a window before the shot and end half after it, clamped to the
        shot: the first and last frames are trained on about as often as the others."""
        reach = window // 2
        return min(max(offset(frames - window + 2 * reach) - reach, 0), frames - window)

    def draw_window() -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """A window of the shot, its part of the hole, and a fresh training mask OR that hole."""
        start, top, left = window_start(), offset(height - crop_h), offset(width - crop_w)
        x0 = video[:, start:start + window, top:top + crop_h, left:left + crop_w]
        window_hole = hole[start:start + window, top:top + crop_h, left:left + crop_w]
        mask = random_training_mask(generator, window, crop_h, crop_w, settings.max_train_mask_fraction)
        return x0, window_hole, mask | window_hole

    model.train()
    batch = settings.train_batch
    for step in range(1, settings.train_steps + 1):
        x0, window_hole, hidden = (torch.stack(parts) for parts in zip(*(draw_window() for _ in range(batch))))
        t = torch.randint(lowest, highest + 1, (batch,), generator=generator, device=device)
        noise = torch.randn(x0.shape, generator=generator, device=device)
        loss = training_loss(model, schedule, x0, window_hole, hidden, t, noise)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if on_step is not None:
            read = step % settings.log_every == 0 or step == settings.train_steps
            on_step(step, float(loss.detach()) if read else None)
