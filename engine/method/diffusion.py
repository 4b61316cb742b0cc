"""DDPM as plain functions: the linear beta schedule, forward noising, the posterior, intervals.

Conventions: step indices run 0..T-1; x_t is the video noised with alpha_bar[t]; step -1 stands
for the clean video (alpha_bar = 1). The network predicts x0; one ancestral step goes from x_t to
x_s (s < t) by sampling q(x_s | x_t, x0). With s = t - 1 this is the textbook DDPM step; with
s < t - 1 it is strided DDPM, the exact posterior between non-adjacent steps.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Tuple

import torch


@dataclass(frozen=True)
class Schedule:
    """alpha_bar[t] for t = 0..T-1, in float64 on the CPU (small; coefficients are read as floats)."""

    alpha_bar: torch.Tensor

    @property
    def steps(self) -> int:
        return int(self.alpha_bar.numel())

    def alpha_bar_at(self, t: int) -> float:
        return 1.0 if t < 0 else float(self.alpha_bar[t])


def linear_schedule(steps: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02) -> Schedule:
    """The DDPM schedule: betas linear from beta_start to beta_end over ``steps`` steps."""
    betas = torch.linspace(beta_start, beta_end, steps, dtype=torch.float64)
    return Schedule(alpha_bar=torch.cumprod(1.0 - betas, dim=0))


def q_sample(schedule: Schedule, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """Noise x0 (B, ...) to steps t (B,): sqrt(ab) x0 + sqrt(1 - ab) noise."""
    alpha_bar = schedule.alpha_bar.to(x0.device)[t].to(x0.dtype)
    shape = (-1,) + (1,) * (x0.dim() - 1)
    return alpha_bar.sqrt().view(shape) * x0 + (1.0 - alpha_bar).sqrt().view(shape) * noise


def posterior_coefficients(schedule: Schedule, t: int, s: int) -> Tuple[float, float, float]:
    """(c_x0, c_xt, std) of q(x_s | x_t, x0) = N(c_x0 x0 + c_xt x_t, std^2), for -1 <= s < t."""
    if not -1 <= s < t < schedule.steps:
        raise ValueError(f"posterior needs -1 <= s < t < {schedule.steps}, got t={t}, s={s}")
    ab_t, ab_s = schedule.alpha_bar_at(t), schedule.alpha_bar_at(s)
    alpha_ts = ab_t / ab_s
    beta_ts = 1.0 - alpha_ts
    c_x0 = ab_s ** 0.5 * beta_ts / (1.0 - ab_t)
    c_xt = alpha_ts ** 0.5 * (1.0 - ab_s) / (1.0 - ab_t)
    variance = beta_ts * (1.0 - ab_s) / (1.0 - ab_t)
    return c_x0, c_xt, max(variance, 0.0) ** 0.5


def ancestral_step(
    schedule: Schedule, x0: torch.Tensor, x_t: torch.Tensor, t: int, s: int, noise: torch.Tensor
) -> torch.Tensor:
    """Draw x_s ~ q(x_s | x_t, x0) with the given standard normal noise (x0 itself when s = -1)."""
    c_x0, c_xt, std = posterior_coefficients(schedule, t, s)
    return c_x0 * x0 + c_xt * x_t + std * noise


def reproject(x0: torch.Tensor, observed: torch.Tensor, known: torch.Tensor) -> torch.Tensor:
    """Clip a predicted x0 to [-1, 1] and put the known pixels back (known: bool, broadcastable)."""
    return torch.where(known, observed, x0.clamp(-1.0, 1.0))


def interval_bounds(total_steps: int, intervals: int, index: int) -> Tuple[int, int]:
    """(highest, lowest) step of interval ``index``; interval 0 is the noisiest."""
    length = total_steps // intervals
    highest = total_steps - 1 - index * length
    return highest, highest - length + 1


def interval_timesteps(highest: int, lowest: int, count: int) -> List[int]:
    """``count`` distinct steps from highest down to lowest, evenly spaced, both ends included."""
    if count == 1:
        return [highest]
    span = highest - lowest
    return [highest - round(i * span / (count - 1)) for i in range(count)]
