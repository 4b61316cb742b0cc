"""Pictures of an evaluation case: a PNG contact sheet and a small animated GIF.

Contact sheet rows, top to bottom: the plate with the matte's outline in red, one row per method
in the case's order (baselines, then Infusion's first variant), the truth; columns: frames picked
evenly over the clip. Small clips are enlarged, plates are shown 1:1. A second sheet holds the
same rows cropped around the hole at the plate's own pixels (each pixel shown as 2x2), where
blur and missing grain show. The GIF plays plate-with-outline | Infusion | truth side by side,
cropped the same way.
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Tuple

import numpy as np

from .contact_sheet import write_animation, write_contact_sheet
from .evaluation import CaseResult

OUTLINE = np.array([1.0, 0.1, 0.1], np.float32)
SHEET_FRAMES = 6
SHEET_WIDTH = 192  # frames narrower than this are enlarged in the whole-frame sheet
CROP = 128  # side of the 1:1 crop around the hole, plate pixels
CROP_SCALE = 2


def outlined(frames: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """``frames`` (T, H, W, 3) with the border pixels of ``hole`` (T, H, W) painted red."""
    padded = np.pad(hole, ((0, 0), (1, 1), (1, 1)), constant_values=False)
    interior = padded[:, :-2, 1:-1] & padded[:, 2:, 1:-1] & padded[:, 1:-1, :-2] & padded[:, 1:-1, 2:]
    edge = hole & ~interior
    return np.where(edge[..., None], OUTLINE, frames)


def sheet_rows(case: CaseResult) -> List[str]:
    """The label of each contact-sheet row, top to bottom."""
    return ["plate + matte"] + list(case.methods) + ["truth"]


def hole_crop(hole: np.ndarray, size: Tuple[int, int] = (CROP, CROP)) -> Tuple[slice, slice]:
    """Rows and columns of a ``size`` (rows, columns) window, cut to the frame, centred on the hole
    (T, H, W) over all its frames."""
    ys, xs = np.nonzero(hole.any(axis=0))
    height, width = hole.shape[1:]
    centre_y, centre_x = (int(ys.mean()), int(xs.mean())) if ys.size else (height // 2, width // 2)
    top = min(max(centre_y - size[0] // 2, 0), max(height - size[0], 0))
    left = min(max(centre_x - size[1] // 2, 0), max(width - size[1], 0))
    return slice(top, top + size[0]), slice(left, left + size[1])


def case_rows(case: CaseResult) -> List[np.ndarray]:
    return [outlined(case.truth, case.hole)] + [r.display for r in case.methods.values()] + [case.truth]


def write_case_sheet(case: CaseResult, path: Path) -> Path:
    """The contact sheet of ``case`` (rows as ``sheet_rows``) as a PNG at ``path``, and its 1:1
    crop around the hole beside it (``*_crop.png``, returned)."""
    frames, _, width = case.hole.shape
    picks = np.linspace(0, frames - 1, min(SHEET_FRAMES, frames)).round().astype(int)
    rows = case_rows(case)
    write_contact_sheet(str(path), [row[picks] for row in rows], scale=max(1, SHEET_WIDTH // width))
    ys, xs = hole_crop(case.hole)
    crop_path = path.with_name(path.stem + "_crop.png")
    write_contact_sheet(str(crop_path), [row[picks][:, ys, xs] for row in rows], scale=CROP_SCALE)
    return crop_path


def write_case_gif(case: CaseResult, method: str, path: Path, scale: int = 2) -> Path:
    """plate + matte | ``method`` | truth as an animated GIF at ``path``."""
    ys, xs = hole_crop(case.hole)
    strip = np.concatenate([outlined(case.truth, case.hole), case.methods[method].display, case.truth], axis=2)
    strip = np.concatenate([part[:, ys, xs] for part in np.split(strip, 3, axis=2)], axis=2)
    strip = np.repeat(np.repeat(strip, scale, axis=1), scale, axis=2)
    write_animation(str(path), strip)
    return path
