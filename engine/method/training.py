"""Internal training for one interval: windows of the shot, random masks ORed with the matte.

The hole (the user's matte) is zeroed in every input and excluded from the loss, so nothing under
the matte can reach the network. The loss is L2 over every pixel outside the hole, the pixels
hidden by the training mask included. A centred network's centre is built for every window from
what that window leaves visible (engine/method/refinement.py), exactly as the hole's is at
sampling time, so the network learns when its guess can be trusted.
"""
from __future__ import annotations

from typing import Callable, Optional, Sequence, Tuple

import torch
from torch import nn

from .averaging import WeightAverage
from .diffusion import Schedule, q_sample
from .sampling import build_condition
from .settings import LevelPlan, Settings
from .training_masks import random_training_mask

StepCallback = Callable[[int, Optional[float]], None]  # (steps done, loss or None when not read)
Where = Tuple[slice, slice, slice]  # a window's frames, rows and columns of the shot
# (windows (B,3,T,H,W), hidden (B,T,H,W), the level below's windows or None, each window's place
# in the shot: a camera's zoom is about the frame's centre) -> their centres, built in one batch.
CentreOf = Callable[[torch.Tensor, torch.Tensor, Optional[torch.Tensor], Sequence[Where]], torch.Tensor]


def training_loss(
    model: nn.Module, schedule: Schedule, x0: torch.Tensor, hole: torch.Tensor, hidden: torch.Tensor,
    t: torch.Tensor, noise: torch.Tensor, centre: Optional[torch.Tensor] = None,
) -> torch.Tensor:
    """L2 loss of the x0 prediction outside the hole, over a batch of B windows.

    x0 (B,3,T,H,W) are the clean windows with the hole already zeroed; hole and hidden (B,T,H,W)
    are bool, hidden = training mask OR hole; t is (B,) steps; noise is like x0; centre
    (B,CENTRE_CHANNELS,T,H,W): the centre of a centred network.
    """
    x_t = q_sample(schedule, x0, t, noise)
    prediction = model(x_t, build_condition(x0, hidden, centre), t)
    visible = (~hole[:, None]).to(x0.dtype)
    squared = (prediction - x0).square() * visible
    return squared.sum() / (visible.sum() * x0.shape[1]).clamp_min(1.0)


def train_interval(
    model: nn.Module, optimizer: torch.optim.Optimizer, schedule: Schedule, video: torch.Tensor,
    hole: torch.Tensor, settings: Settings, lowest: int, highest: int, generator: torch.Generator,
    on_step: Optional[StepCallback] = None, plan: Optional[LevelPlan] = None, coarse: Optional[torch.Tensor] = None,
    centre_of: Optional[CentreOf] = None, average: Optional[WeightAverage] = None,
) -> None:
    """Train on steps t in [lowest, highest] for ``plan.train_steps`` steps (the coarsest level's
    plan by default) of ``settings.train_batch`` windows each.

    video (3,T,H,W) has the hole zeroed; coarse (3,T,H,W), for a conditioned level, is the level
    below upsampled and is cropped with every window; ``centre_of``, for a centred network, builds
    each window's centre (engine/method/refinement.py); ``average``, when given, follows the
    weights after every step; every random draw comes from ``generator``.
    """
    plan = plan or settings.level_plan(0)
    device = video.device
    _, frames, height, width = video.shape
    batch = settings.train_batch
    window, crop_h, crop_w = settings.training_window(frames, height, width, plan.train_crop)

    def offset(limit: int) -> int:
        return int(torch.randint(0, limit + 1, (1,), generator=generator, device=device))

    def window_start() -> int:
        """Windows may start half a window before the shot and end half after it, clamped to the
        shot: the first and last frames are trained on about as often as the others."""
        reach = window // 2
        return min(max(offset(frames - window + 2 * reach) - reach, 0), frames - window)

    def draw_window() -> Tuple[Where, torch.Tensor, torch.Tensor]:
        """A window's place in the shot, its part of the hole and a fresh training mask OR that
        hole (or, for ``plan.hidden_share`` of the windows, all of it hidden)."""
        start, top, left = window_start(), offset(height - crop_h), offset(width - crop_w)
        where = (slice(start, start + window), slice(top, top + crop_h), slice(left, left + crop_w))
        window_hole = hole[where]
        hidden = random_training_mask(generator, window, crop_h, crop_w, settings.max_train_mask_fraction) | window_hole
        if plan.hidden_share:  # drawn on the device, no host sync: as deep inside a hole larger than the crop
            hidden = hidden | (torch.rand((), generator=generator, device=device) < plan.hidden_share)
        return where, window_hole, hidden

    def draw_batch() -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor, Optional[torch.Tensor]]:
        """``batch`` windows, their holes, hidden masks and centres (one batch through the centre
        builder; None for a network that is not centred)."""
        wheres, holes, hidden = zip(*(draw_window() for _ in range(batch)))
        x0 = torch.stack([video[(slice(None),) + where] for where in wheres])
        hidden = torch.stack(hidden)
        below = None if coarse is None else torch.stack([coarse[(slice(None),) + where] for where in wheres])
        centre = centre_of(x0, hidden, below, wheres) if centre_of is not None else None
        return x0, torch.stack(holes), hidden, centre

    model.train()
    for step in range(1, plan.train_steps + 1):
        x0, window_hole, hidden, centre = draw_batch()
        t = torch.randint(lowest, highest + 1, (batch,), generator=generator, device=device)
        noise = torch.randn(x0.shape, generator=generator, device=device)
        loss = training_loss(model, schedule, x0, window_hole, hidden, t, noise, centre)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if average is not None:
            average.update()
        if on_step is not None:
            read = step % settings.log_every == 0 or step == plan.train_steps
            on_step(step, float(loss.detach()) if read else None)
