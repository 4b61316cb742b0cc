"""How the engine runs the network fast on a device: memory layout, autocast and torch.compile.

``Acceleration.for_device`` is the engine's automatic choice, used by ``inpaint`` unless told
otherwise; ``Acceleration.reference()`` is the paper's straightforward path (fp32, eager,
contiguous), which ``infusion bench`` times beside it. What was measured to pay (see the README):

- oneDNN twin (CPU): PyTorch sends a CPU conv3d of batch 1 whose N*C*D*H is at most 20480 (every
  training crop, and the coarse levels of any shot) to its slow native kernel ("for some case,
  native is faster"); with a second, all-zero sample in the batch it takes oneDNN, which costs
  less for both samples than native does for one (training step 1.5-2.2x, sampling step 2-4x
  faster, measured in CPU time on an AVX2 EPYC). The twin's output is dropped and its gradient
  is exactly zero. A preset can put real work in that slot instead: ``train_batch=2`` (the
  ``preview`` preset) trains two windows a step for about the cost of one with its twin.
- channels_last_3d (NDHWC) everywhere: oneDNN's conv3d is faster in that layout on the CPU and
  cuDNN's on the GPU. Deterministic run to run in one environment, so resume stays bit-identical.
- bf16 autocast on CUDA only: on an AVX2 CPU it is ~50x slower than fp32, and on a Xeon with
  AVX-512-BF16 but no AMX still 1.3x slower than the fp32 path with the twin.
- cuDNN's autotuner (``torch.backends.cudnn.benchmark``) on CUDA: the shapes are fixed within a
  run, and it picks faster conv3d kernels (H100, 20x240x432: training step 32.3 -> 30.9 ms).
- torch.compile: on by default on CUDA for runs of at least COMPILE_MIN_TRAIN_STEPS training
  steps. It takes about half a minute per shape and fuses the layout and dtype copies around
  the convolutions (H100, 20x240x432 with the autotuner: training step 30.9 -> 25.8 ms,
  sampling step 12.1 -> 9.6 ms); the 96 s preview run of the demo shot on the H100 was slower
  than the CPU's 55 s. Off on the CPU (minutes to compile, no gain). When it fails, the network
  runs eagerly and ``compile_error`` says why.

The wrapper keeps the parameters of the wrapped U-Net (state dicts load and save unchanged) and
always returns fp32 in the default layout, so callers see no difference but speed.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, Dict, Optional

import torch
from torch import nn

from .model import UNet3D


COMPILE_MIN_TRAIN_STEPS = 10_000  # a run shorter than this (the preview preset: 1,500) is not compiled


@dataclass(frozen=True)
class Acceleration:
    """Levers applied around the network; the default is the reference path (none)."""

    channels_last: bool = False
    autocast_bf16: bool = False
    compile: bool = False
    onednn_twin: bool = False
    cudnn_benchmark: bool = False

    @classmethod
    def reference(cls) -> "Acceleration":
        return cls()

    @classmethod
    def for_device(cls, device: torch.device, compile: Optional[bool] = None) -> "Acceleration":
        """The engine's choice: channels_last_3d always; on CUDA bf16 autocast, the cuDNN autotuner
        and torch.compile (``compile`` None: on CUDA only); on the CPU the oneDNN twin."""
        cuda = torch.device(device).type == "cuda"
        return cls(channels_last=True, autocast_bf16=cuda, compile=cuda if compile is None else compile,
                   onednn_twin=not cuda, cudnn_benchmark=cuda)

    @classmethod
    def for_run(cls, device: torch.device, train_steps: int) -> "Acceleration":
        """``for_device`` for a run of ``train_steps`` training steps in all: compiling (half a
        minute and more per shape) only pays back over a long run, so short ones stay eager."""
        return cls.for_device(device, compile=None if train_steps >= COMPILE_MIN_TRAIN_STEPS else False)

    def describe(self) -> Dict[str, bool]:
        return {"channels_last_3d": self.channels_last, "autocast_bf16": self.autocast_bf16, "compile": self.compile,
                "onednn_twin": self.onednn_twin, "cudnn_benchmark": self.cudnn_benchmark}

    def wrap(self, model: UNet3D) -> "AcceleratedNetwork":
        """The network behind these levers (sharing ``model``'s parameters, converted in place)."""
        if self.cudnn_benchmark:
            torch.backends.cudnn.benchmark = True  # process-wide; harmless to every other caller
        if self.channels_last:
            model.to(memory_format=torch.channels_last_3d)
        if self.onednn_twin:
            for module in model.modules():
                if type(module) is nn.Conv3d:
                    module.__class__ = TwinConv3d  # same parameters and state dict, other forward
        return AcceleratedNetwork(model, self)


NATIVE_CONV3D_MAX_VOLUME = 20480  # PyTorch's CPU heuristic: batch 1 with N*C*D*H up to this runs native


class TwinConv3d(nn.Conv3d):
    """A Conv3d that runs a small batch-1 CPU input beside an all-zero twin, so oneDNN takes it."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, channels, depth, height = x.shape[:4]
        if x.device.type != "cpu" or batch != 1 or channels * depth * height > NATIVE_CONV3D_MAX_VOLUME:
            return super().forward(x)
        return super().forward(torch.cat([x, torch.zeros_like(x)]))[:1]


class AcceleratedNetwork(nn.Module):
    """Calls the U-Net like the U-Net itself: (x_t, condition, t) -> x0 in fp32, default layout."""

    def __init__(self, model: UNet3D, acceleration: Acceleration):
        super().__init__()
        self.model = model
        self.acceleration = acceleration
        self.compile_error: Optional[str] = None
        forward: Any = model
        if acceleration.compile:
            try:
                forward = torch.compile(model)
            except Exception as error:  # no compiler in this environment: eager for good
                self._note_compile_error(error)
        self._forward = forward

    def _note_compile_error(self, error: Exception) -> None:
        self.compile_error = f"{type(error).__name__}: {error}".splitlines()[0]

    def _autocast(self, device: torch.device) -> contextlib.AbstractContextManager:
        if self.acceleration.autocast_bf16:
            return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _layout(self, tensor: torch.Tensor) -> torch.Tensor:
        return tensor.contiguous(memory_format=torch.channels_last_3d) if self.acceleration.channels_last else tensor

    def forward(self, x_t: torch.Tensor, condition: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        x_t, condition = self._layout(x_t), self._layout(condition)
        with self._autocast(x_t.device):
            try:
                out = self._forward(x_t, condition, t)
            except Exception as error:  # a compiler failure: fall back to eager for good
                if self._forward is self.model:
                    raise
                self._note_compile_error(error)
                self._forward = self.model
                out = self.model(x_t, condition, t)
        return out.float().contiguous()
