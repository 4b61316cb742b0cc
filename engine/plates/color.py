"""Colour with OpenColorIO: scene-linear plates to the network encoding in [-1, 1] and back.

The config comes from an explicit path, else ``$OCIO``, else OCIO's built-in studio config. The
plate is in ``colorspace`` (default: the config's ``scene_linear`` role); the network works in a
log-like ``encoding`` (default: the ``compositing_log`` role, ACEScct in the studio config) whose
values for linear grey 0 and ``white`` (64.0 by default) are mapped to -1 and +1.

Only the network sees encoded pixels. Before encoding, NaN becomes 0, +inf becomes ``white`` and
-inf becomes 0; anything the encoding sends past [-1, 1] (negatives, highlights above ``white``)
is clipped. Pixels outside the matte never go through here: they are copied from the plate.
"""
from __future__ import annotations

import os
from typing import Optional

import numpy as np
import PyOpenColorIO as ocio

BUILTIN_CONFIG = "ocio://studio-config-latest"


def load_config(path: Optional[str] = None) -> ocio.Config:
    """The OCIO config at ``path``, else the one ``$OCIO`` names, else the built-in studio config."""
    source = path or os.environ.get("OCIO") or BUILTIN_CONFIG
    try:
        return ocio.Config.CreateFromFile(source)
    except (ocio.Exception, ocio.ExceptionMissingFile) as error:
        raise ValueError(f"cannot load the OCIO config {source}: {error}") from error


def _colorspace(config: ocio.Config, name: str, what: str) -> str:
    space = config.getColorSpace(name)
    if space is None:
        raise ValueError(f"the OCIO config has no colourspace or role {name!r} for the {what}")
    return space.getName()


def sanitize(linear: np.ndarray, white: float) -> np.ndarray:
    """A copy with NaN -> 0, +inf -> ``white``, -inf -> 0 (finite values unchanged)."""
    return np.nan_to_num(linear.astype(np.float32), nan=0.0, posinf=white, neginf=0.0)


def _apply(processor: ocio.CPUProcessor, values: np.ndarray) -> np.ndarray:
    """``processor`` applied in place to (..., 3) float32 ``values`` (OCIO refuses an empty image)."""
    if values.size:
        processor.applyRGB(values)
    return values


class Encoding:
    """Linear RGB in ``colorspace`` <-> the network encoding in [-1, 1]."""

    def __init__(self, config: Optional[ocio.Config] = None, colorspace: Optional[str] = None,
                 encoding: Optional[str] = None, white: float = 64.0):
        self.config = config if config is not None else load_config()
        self.colorspace = _colorspace(self.config, colorspace or ocio.ROLE_SCENE_LINEAR, "plate")
        self.encoding = _colorspace(self.config, encoding or ocio.ROLE_COMPOSITING_LOG, "network encoding")
        self.white = float(white)
        self._forward = self._processor(self.colorspace, self.encoding)
        self._inverse = self._processor(self.encoding, self.colorspace)
        ends = self._to_log(np.array([[0.0] * 3, [self.white] * 3], np.float32))
        self.low, self.high = float(ends[0].min()), float(ends[1].max())
        if not self.high > self.low:
            raise ValueError(f"the encoding {self.encoding} does not increase from linear 0 to {self.white}")

    def _processor(self, source: str, target: str) -> ocio.CPUProcessor:
        try:
            return self.config.getProcessor(source, target).getDefaultCPUProcessor()
        except ocio.Exception as error:
            raise ValueError(f"OCIO cannot convert {source} to {target}: {error}") from error

    def _to_log(self, linear: np.ndarray) -> np.ndarray:
        return _apply(self._forward, np.ascontiguousarray(linear, np.float32).copy())

    def encode(self, linear: np.ndarray) -> np.ndarray:
        """(..., 3) linear RGB, any values at all, to the network encoding, float32 in [-1, 1]."""
        log = self._to_log(sanitize(linear, self.white))
        encoded = (log - self.low) * (2.0 / (self.high - self.low)) - 1.0
        return np.clip(np.nan_to_num(encoded, nan=-1.0), -1.0, 1.0).astype(np.float32)

    def decode(self, encoded: np.ndarray) -> np.ndarray:
        """(..., 3) network encoding in [-1, 1] to linear RGB in the plate's colourspace."""
        log = (np.clip(encoded, -1.0, 1.0).astype(np.float32) + 1.0) * ((self.high - self.low) / 2.0) + self.low
        return _apply(self._inverse, np.ascontiguousarray(log, np.float32))

    def display(self, linear: np.ndarray) -> np.ndarray:
        """(..., 3) linear RGB to the config's default display and view, float32 in [0, 1]."""
        display = self.config.getDefaultDisplay()
        transform = ocio.DisplayViewTransform(src=self.colorspace, display=display,
                                              view=self.config.getDefaultView(display))
        values = _apply(self.config.getProcessor(transform).getDefaultCPUProcessor(), sanitize(linear, self.white))
        return np.clip(values, 0.0, 1.0)
