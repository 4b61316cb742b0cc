"""Pictures of display-referred frames: a contact sheet (rows tiled into one 8-bit PNG, JPEG...) and
an animated GIF."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import OpenImageIO as oiio

from ..plates.exr import write_frame


def tile(rows: Sequence[np.ndarray], scale: int = 1, gap: int = 2) -> np.ndarray:
    """Rows of frames, each (N, H, W, 3) in [0, 1], tiled on a dark grey ground, enlarged ``scale``x."""
    count, height, width = rows[0].shape[:3]
    if any(row.shape != rows[0].shape for row in rows):
        raise ValueError("every row of a contact sheet must hold frames of the same count and size")
    cell_h, cell_w = height * scale, width * scale
    sheet = np.full((gap + len(rows) * (cell_h + gap), gap + count * (cell_w + gap), 3), 0.12, np.float32)
    for r, row in enumerate(rows):
        for c, image in enumerate(row):
            top, left = gap + r * (cell_h + gap), gap + c * (cell_w + gap)
            sheet[top:top + cell_h, left:left + cell_w] = np.repeat(np.repeat(image, scale, 0), scale, 1)
    return sheet


def write_contact_sheet(path: str, rows: Sequence[np.ndarray], scale: int = 1) -> None:
    """Write ``tile(rows, scale)`` as an 8-bit RGB image; the extension picks the format."""
    sheet = tile(rows, scale)
    write_frame(path, sheet, oiio.ImageSpec(sheet.shape[1], sheet.shape[0], 3, "uint8"))


def write_animation(path: str, frames: np.ndarray, fps: int = 12) -> None:
    """Write ``frames`` (T, H, W, 3) in [0, 1] as a looping animated GIF (OpenImageIO's writer)."""
    count, height, width = frames.shape[:3]
    spec = oiio.ImageSpec(width, height, 3, "uint8")
    spec.attribute("FramesPerSecond", oiio.TypeRational, (fps, 1))
    spec.attribute("oiio:LoopCount", 0)
    output = oiio.ImageOutput.create(path)
    if output is None or not output.open(path, [spec] * count):
        raise OSError(f"cannot write {path}: {oiio.geterror() if output is None else output.geterror()}")
    pixels = (np.clip(frames, 0, 1) * 255 + 0.5).astype(np.uint8)
    for index, frame in enumerate(pixels):
        if index and not output.open(path, spec, "AppendSubimage"):
            raise OSError(f"cannot write frame {index} of {path}: {output.geterror()}")
        output.write_image(frame)
    output.close()
