"""The Infusion network: a small 3D U-Net that predicts the clean video x0.

Paper configuration (levels=4, channels=32, embed_channels=16): 16 conv3d layers of 3x3x3, ReLU,
max-pooling and nearest upsampling by (1, 2, 2) so time is never downsampled, skip connections by
concatenation, 492,963 parameters. Inputs, concatenated on the channel axis: the noisy video x_t
(3), the masked observed video (3), the mask (1, 1 = unknown) and a sinusoidal embedding of the
diffusion step broadcast over the video. A ``centred`` network also reads a guess of the fill and
how far in time that guess reaches (4 more channels after the mask: the reveal prior at the
coarsest level, the level below upsampled at a finer one); how its output becomes x0 then is
engine/method/refinement.py's.

Layers: ``levels - 1`` encoder blocks of two convs, a bottom block of two convs, ``levels - 1``
decoder blocks of two convs (the first reads the upsampled features concatenated with the skip),
then a head of one conv and the output conv: 4 * levels conv layers in all.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .settings import Settings

VIDEO_CHANNELS = 3
CONDITION_CHANNELS = VIDEO_CHANNELS + 1  # masked observed video + mask
CENTRE_CHANNELS = VIDEO_CHANNELS + 1  # the centre's colour and its reach (centred networks only)


def step_embedding(t: torch.Tensor, channels: int) -> torch.Tensor:
    """Sinusoidal embedding of integer diffusion steps: (B,) -> (B, channels)."""
    half = channels // 2
    frequencies = torch.exp(-math.log(10_000.0) * torch.arange(half, device=t.device) / half)
    angles = t.float()[:, None] * frequencies[None, :]
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)


def conv3x3x3(in_channels: int, out_channels: int) -> nn.Conv3d:
    return nn.Conv3d(in_channels, out_channels, kernel_size=3, padding=1)


class DoubleConv(nn.Sequential):
    """Two 3x3x3 convolutions, each followed by ReLU."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__(
            conv3x3x3(in_channels, out_channels), nn.ReLU(inplace=True),
            conv3x3x3(out_channels, out_channels), nn.ReLU(inplace=True),
        )


class UNet3D(nn.Module):
    """x0-predicting 3D U-Net over videos shaped (B, C, T, H, W); any T, any H and W."""

    def __init__(self, levels: int = 4, channels: int = 32, embed_channels: int = 16, centred: bool = False):
        super().__init__()
        self.levels = levels
        self.embed_channels = embed_channels
        self.centred = centred
        in_channels = VIDEO_CHANNELS + self.condition_channels + embed_channels
        self.encoders = nn.ModuleList(
            DoubleConv(in_channels if level == 0 else channels, channels) for level in range(levels - 1)
        )
        self.bottom = DoubleConv(in_channels if levels == 1 else channels, channels)
        self.decoders = nn.ModuleList(DoubleConv(2 * channels, channels) for _ in range(levels - 1))
        self.head = nn.Sequential(conv3x3x3(channels, channels), nn.ReLU(inplace=True))
        self.output = conv3x3x3(channels, VIDEO_CHANNELS)

    @classmethod
    def from_settings(cls, settings: Settings, centred: bool = False) -> "UNet3D":
        return cls(settings.levels, settings.channels, settings.embed_channels, centred)

    def zero_output(self) -> None:
        """Start with an output of zero: a correction (engine/method/refinement.py) that changes nothing yet."""
        nn.init.zeros_(self.output.weight)
        nn.init.zeros_(self.output.bias)

    @property
    def condition_channels(self) -> int:
        """Channels of the condition: observed video and mask, then the centre if centred."""
        return CONDITION_CHANNELS + (CENTRE_CHANNELS if self.centred else 0)

    @property
    def spatial_multiple(self) -> int:
        """Height and width are padded internally to a multiple of this."""
        return 2 ** (self.levels - 1)

    def forward(self, x_t: torch.Tensor, condition: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Predict x0 from x_t (B,3,T,H,W), condition (B,condition_channels,T,H,W) and steps t (B,)."""
        batch, _, frames, height, width = x_t.shape
        embedding = step_embedding(t, self.embed_channels).to(x_t.dtype)
        embedding = embedding[:, :, None, None, None].expand(batch, -1, frames, height, width)
        h = torch.cat([x_t, condition, embedding], dim=1)

        multiple = self.spatial_multiple
        pad_h, pad_w = (-height) % multiple, (-width) % multiple
        if pad_h or pad_w:
            h = F.pad(h, (0, pad_w, 0, pad_h, 0, 0), mode="replicate")

        skips = []
        for encoder in self.encoders:
            h = encoder(h)
            skips.append(h)
            h = F.max_pool3d(h, kernel_size=(1, 2, 2))
        h = self.bottom(h)
        for decoder in self.decoders:
            h = F.interpolate(h, scale_factor=(1, 2, 2), mode="nearest")
            h = decoder(torch.cat([h, skips.pop()], dim=1))
        return self.output(self.head(h))[:, :, :, :height, :width]


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
