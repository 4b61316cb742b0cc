"""Writing and reading small EXR sequences for the plate, shot, run and demo tests."""
from typing import Optional, Sequence, Tuple

import numpy as np
import OpenImageIO as oiio

from infusion.engine.plates.exr import write_frame
from infusion.engine.plates.sequence import FramePattern


def write_sequence(pattern: str, first: int, frames: np.ndarray, names: Sequence[str], fmt: str = "half",
                   origin: Tuple[int, int] = (0, 0), display: Optional[Tuple[int, int]] = None,
                   compression: str = "zip") -> str:
    """Write (T, H, W, C) ``frames`` as frames first.. of ``pattern``; ``display``: (width, height)."""
    sequence = FramePattern.parse(pattern)
    height, width = frames.shape[1:3]
    for index, pixels in enumerate(frames):
        spec = oiio.ImageSpec(width, height, len(names), fmt)
        spec.channelnames = tuple(names)
        spec.x, spec.y = origin
        spec.full_width, spec.full_height = display or (width, height)
        spec.attribute("compression", compression)
        spec.attribute("shot:name", "test plate")
        write_frame(sequence.path(first + index), pixels, spec)
    return pattern


def raw_pixels(path: str) -> np.ndarray:
    """The pixels of ``path`` in the file's own format (half stays float16: bits comparable)."""
    image = oiio.ImageInput.open(path)
    spec = image.spec()
    pixels = image.read_image(0, 0, 0, spec.nchannels, spec.format)
    image.close()
    return pixels


def same_bits(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-element bit equality (NaN payloads and infinities included)."""
    view = {2: np.uint16, 4: np.uint32}[a.dtype.itemsize]
    return a.view(view) == b.view(view)


def moving_square_plate(folder, first: int) -> str:
    """Six noisy RGBA frames from ``first`` whose alpha is the matte of a square drifting right."""
    rng = np.random.default_rng(5)
    plate = rng.random((6, 24, 32, 4), dtype=np.float32)
    plate[..., 3] = 0.0
    for index in range(6):
        plate[index, 8:16, 6 + 2 * index:14 + 2 * index, 3] = 1.0
    return write_sequence(str(folder / "plate.####.exr"), first, plate, "RGBA")
