"""Pictures of an evaluation case: a PNG contact sheet and, with Pillow, a small animated GIF.

Contact sheet rows, top to bottom: the plate with the matte's outline in red, one row per method
in the case's order (baselines, then Infusion's first variant), the truth; columns: frames picked
evenly over the clip. The GIF plays plate-with-outline | Infusion | truth side by side.
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import numpy as np

from .contact_sheet import write_contact_sheet
from .evaluation import CaseResult

OUTLINE = np.array([1.0, 0.1, 0.1], np.float32)
SHEET_FRAMES = 6


def outlined(frames: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """``frames`` (T, H, W, 3) with the border pixels of ``hole`` (T, H, W) painted red."""
    padded = np.pad(hole, ((0, 0), (1, 1), (1, 1)), constant_values=False)
    interior = padded[:, :-2, 1:-1] & padded[:, 2:, 1:-1] & padded[:, 1:-1, :-2] & padded[:, 1:-1, 2:]
    edge = hole & ~interior
    return np.where(edge[..., None], OUTLINE, frames)


def sheet_rows(case: CaseResult) -> List[str]:
    """The label of each contact-sheet row, top to bottom."""
    return ["plate + matte"] + list(case.methods) + ["truth"]


def write_case_sheet(case: CaseResult, path: Path, scale: int = 3) -> None:
    """The contact sheet of ``case`` (rows as ``sheet_rows``) as a PNG at ``path``."""
    picks = np.linspace(0, case.hole.shape[0] - 1, min(SHEET_FRAMES, case.hole.shape[0])).round().astype(int)
    rows = [outlined(case.truth, case.hole)] + [r.display for r in case.methods.values()] + [case.truth]
    write_contact_sheet(str(path), [row[picks] for row in rows], scale=scale)


def write_case_gif(case: CaseResult, method: str, path: Path, scale: int = 2) -> Optional[Path]:
    """plate + matte | ``method`` | truth as an animated GIF; None when Pillow is not installed."""
    try:
        from PIL import Image
    except ImportError:
        return None
    strip = np.concatenate([outlined(case.truth, case.hole), case.methods[method].display, case.truth], axis=2)
    strip = np.repeat(np.repeat(strip, scale, axis=1), scale, axis=2)
    images = [Image.fromarray((np.clip(frame, 0, 1) * 255 + 0.5).astype(np.uint8)) for frame in strip]
    images[0].save(path, save_all=True, append_images=images[1:], duration=83, loop=0)
    return path
