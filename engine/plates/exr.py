"""EXR frames with OpenImageIO: read a frame (all channels or one), write one atomically.

Pixels are float32 arrays shaped (height, width, channels) covering the frame's data window; the
ImageSpec that comes with them keeps the channel names and formats (half, float, mixed), the data
and display windows and the metadata, so writing a frame back with its spec changes nothing but
the pixels. Any file that is missing, truncated or unreadable is a ValueError naming it, and so is
one whose header declares a data window over :data:`MAX_FRAME_PIXELS` or more channels than
:data:`MAX_CHANNELS`: that is refused before any pixel is read (a small file can declare a huge
frame, and reading it would allocate all of it).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Tuple

import numpy as np
import OpenImageIO as oiio

from infusion.protocol.files import atomic_path

MAX_FRAME_PIXELS = 16384 * 8192  # a 16K frame's data window
MAX_CHANNELS = 64


@dataclass
class Frame:
    """One frame: ``pixels`` (H, W, C) float32 of the data window, ``spec`` its header."""

    path: str
    pixels: np.ndarray
    spec: oiio.ImageSpec

    @property
    def origin(self) -> Tuple[int, int]:
        """(x, y) of the data window's top-left pixel."""
        return self.spec.x, self.spec.y

    def channel(self, name: str) -> np.ndarray:
        """The (H, W) plane of channel ``name``."""
        return self.pixels[..., channel_index(self.spec, name, self.path)]


def channel_index(spec: oiio.ImageSpec, name: str, path: str) -> int:
    """Index of channel ``name``; an error naming the file and its channels if it has none."""
    names = list(spec.channelnames)
    if name not in names:
        raise ValueError(f"{path} has no channel {name!r} (its channels: {', '.join(names)})")
    return names.index(name)


def _open(path: str) -> oiio.ImageInput:
    if not os.path.isfile(path):
        raise ValueError(f"frame file is missing: {path}")
    image = oiio.ImageInput.open(path)
    if image is None:
        raise ValueError(f"cannot read frame {path}: {oiio.geterror() or 'unknown error'}")
    spec = image.spec()
    if spec.width * spec.height * spec.depth > MAX_FRAME_PIXELS or spec.nchannels > MAX_CHANNELS:
        image.close()
        raise ValueError(f"{path} declares a {spec.width}x{spec.height} data window of {spec.nchannels} channels, "
                         f"over the engine's limits of {MAX_FRAME_PIXELS} pixels and {MAX_CHANNELS} channels a frame")
    return image


def read_spec(path: str) -> oiio.ImageSpec:
    """The header of the frame at ``path`` (no pixels read)."""
    image = _open(path)
    try:
        return image.spec()
    finally:
        image.close()


def read_frame(path: str, channel: Optional[str] = None, lone_channel: bool = False) -> Frame:
    """All channels of the frame at ``path``, or only ``channel`` (then ``pixels`` is (H, W, 1));
    with ``lone_channel`` a file of one channel gives that one whatever its name (a matte written
    as Y, R or mask)."""
    image = _open(path)
    try:
        spec = image.spec()
        if spec.deep:
            raise ValueError(f"{path} holds deep data, which is not supported")
        lone = lone_channel and spec.nchannels == 1
        first = 0 if channel is None or lone else channel_index(spec, channel, path)
        last = spec.nchannels if channel is None else first + 1
        pixels = image.read_image(0, 0, first, last, "float")
        if pixels is None or image.has_error:
            raise ValueError(f"cannot read frame {path}: {image.geterror() or 'truncated or corrupt'}")
    finally:
        image.close()
    pixels = np.asarray(pixels, dtype=np.float32).reshape(spec.height, spec.width, last - first)
    return Frame(path, pixels, spec)


def write_frame(path: str, pixels: np.ndarray, spec: oiio.ImageSpec) -> None:
    """Write ``pixels`` (H, W, C), or (H, W) for one channel, with header ``spec`` to ``path`` atomically.

    The frame goes to a temporary file in the same folder (named so no sequence reader takes it
    for a frame; the format is picked by ``path``'s extension), is flushed to disk and renamed over
    ``path`` (protocol/files.py's atomic_path): a reader sees the old frame or the new one, never
    half of one.
    """
    pixels = pixels[..., None] if pixels.ndim == 2 else pixels
    if pixels.shape != (spec.height, spec.width, spec.nchannels):
        raise ValueError(f"cannot write {path}: pixels shaped {pixels.shape}, its header says "
                         f"{(spec.height, spec.width, spec.nchannels)}")
    with atomic_path(Path(path)) as temporary:
        output = oiio.ImageOutput.create(str(path))
        if output is None:
            raise ValueError(f"cannot write {path}: {oiio.geterror()}")
        if not output.open(str(temporary), spec) or not output.write_image(np.ascontiguousarray(pixels, np.float32)):
            error = output.geterror()
            output.close()
            raise ValueError(f"cannot write {path}: {error}")
        if not output.close():
            raise ValueError(f"cannot write {path}: {output.geterror()}")


def display_window(spec: oiio.ImageSpec) -> Tuple[int, int, int, int]:
    """(x, y, width, height) of a frame's display window."""
    return spec.full_x, spec.full_y, spec.full_width, spec.full_height
