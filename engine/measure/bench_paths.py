"""The two ways ``infusion bench`` runs the engine at one shape, side by side in one process.

- ``reference``: the paper's straightforward way. fp32, eager, contiguous tensors; each training
  step draws its mask on the host (numpy, frame by frame, engine/measure/synthetic_mattes.py) and copies it
  to the device, and reads the loss back (a host sync) every step.
- ``fast``: what the engine really does (engine/method/acceleration.py for the device; training is
  ``train_interval`` itself: masks drawn on the device, the loss read only every ``log_every``).

Both start from the same weights and see the same video, hole, window and crop sizes, so a step
of one costs what a step of the other would on the same work. Sampling steps and the shortened
end-to-end run go through the engine's own ``sample_steps`` and ``inpaint`` for both, with the
path's acceleration (the end-to-end reference differs from fast only in the network's levers).
"""
from __future__ import annotations

from typing import Dict, Optional

import numpy as np
import torch

from ..method import diffusion
from ..method.acceleration import Acceleration
from .synthetic_mattes import KINDS, synthetic_matte
from ..method.inpaint import inpaint, variant_seed
from ..method.model import UNet3D
from ..method.sampling import sample_steps
from ..method.settings import Settings
from ..method.training import train_interval, training_loss

PATHS = ("reference", "fast")


def bench_shot(frames: int, height: int, width: int, seed: int = 0) -> tuple:
    """A random video (3, T, H, W) in [-1, 1] and a hole over the middle ninth of every frame (CPU)."""
    generator = torch.Generator().manual_seed(seed)
    video = torch.rand((3, frames, height, width), generator=generator) * 2 - 1
    hole = torch.zeros((frames, height, width), dtype=torch.bool)
    hole[:, height // 3: max(2 * height // 3, height // 3 + 1), width // 3: max(2 * width // 3, width // 3 + 1)] = True
    return video, hole


class BenchPath:
    """One path's network, optimizer, generators and sampler state at the bench shape."""

    def __init__(self, name: str, settings: Settings, device: torch.device, video: torch.Tensor,
                 hole: torch.Tensor, compile: Optional[bool] = None):
        self.name, self.settings, self.device = name, settings, device
        self.acceleration = Acceleration.for_device(device, compile) if name == "fast" else Acceleration.reference()
        torch.manual_seed(settings.seed)
        model = UNet3D.from_settings(settings).to(device)
        self.network = self.acceleration.wrap(model)
        self.optimizer = torch.optim.Adam(model.parameters(), lr=settings.learning_rate)
        self.schedule = diffusion.linear_schedule(settings.diffusion_steps)
        self.highest, self.lowest = diffusion.interval_bounds(settings.diffusion_steps, settings.intervals,
                                                              settings.intervals // 2)
        self.video_cpu, self.hole_cpu = video, hole
        self.video = torch.where(hole[None], torch.zeros(()), video).to(device)
        self.hole = hole.to(device)
        self.generator = torch.Generator(device=device).manual_seed(settings.seed)
        self.host_rng = np.random.default_rng(settings.seed)
        self.variant_generators = [torch.Generator(device=device).manual_seed(variant_seed(settings.seed, k))
                                   for k in range(settings.variants)]
        self.x_t = torch.randn((settings.variants,) + tuple(self.video.shape), generator=self.generator, device=device)

    def train_step(self) -> None:
        if self.name == "fast":
            train_interval(self.network, self.optimizer, self.schedule, self.video, self.hole,
                           self.settings.replace(train_steps=1), self.lowest, self.highest, self.generator)
        else:
            self._reference_train_step()

    def _reference_train_step(self) -> None:
        windows = [self._reference_window() for _ in range(self.settings.train_batch)]
        x0, window_hole, hidden = (torch.stack(parts) for parts in zip(*windows))
        t = torch.randint(self.lowest, self.highest + 1, (len(windows),), generator=self.generator, device=self.device)
        noise = torch.randn(x0.shape, generator=self.generator, device=self.device)
        self.network.train()
        loss = training_loss(self.network, self.schedule, x0, window_hole, hidden, t, noise)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        loss.item()  # the straightforward loop logs every step: a host sync

    def _reference_window(self) -> tuple:
        """A window, its part of the hole, and a host-drawn synthetic matte OR that hole."""
        _, frames, height, width = self.video.shape
        window, crop_h, crop_w = self.settings.training_window(frames, height, width)
        start, top, left = (int(self.host_rng.integers(0, limit + 1))
                            for limit in (frames - window, height - crop_h, width - crop_w))
        x0 = self.video[:, start:start + window, top:top + crop_h, left:left + crop_w]
        window_hole = self.hole[start:start + window, top:top + crop_h, left:left + crop_w]
        kind = list(KINDS)[int(self.host_rng.integers(len(KINDS)))]
        mask = synthetic_matte(kind, window, crop_h, crop_w, int(self.host_rng.integers(2 ** 31)))
        return x0, window_hole, torch.from_numpy(mask).to(self.device) | window_hole

    def sample_step(self) -> None:
        """One ancestral step of all K variants over the whole shot (the state is not advanced)."""
        t = (self.highest + self.lowest) // 2
        sample_steps(self.network, self.schedule, self.x_t, self.video, self.hole, [t], t - 1,
                     self.variant_generators, self.settings.chunk_frames, self.settings.chunk_overlap)

    def end_to_end(self, settings: Settings) -> None:
        """A whole (shortened) inpainting run with this path's acceleration, from CPU tensors."""
        inpaint(self.video_cpu, self.hole_cpu, settings, str(self.device), acceleration=self.acceleration)

    def describe(self) -> Dict[str, object]:
        return {"acceleration": self.acceleration.describe(),
                "training_masks": "device (torch)" if self.name == "fast" else "host (numpy), copied",
                "loss_read": "not in the timed step (the engine reads it every log_every steps)" if self.name == "fast"
                else "every step"}
