"""Camera motion: a global, sub-pixel translation of every frame, from the known pixels only.

The reveal prior (engine/method/prior.py) looks a hidden place up in other frames; when the
camera pans, that place has moved there. ``estimate_motion`` measures, between each pair of
consecutive frames, the shift that best maps one onto the other (Lucas-Kanade on a pyramid,
robustly weighted so that things moving in the scene count less than the background, the hole
and the frame's edge not at all), and chains them into each frame's offset from the first.
Content at (y, x) in frame t lies at (y, x) + motion[s] - motion[t] in frame s.

A translation is the model: pans and tilts, the common case; a zoom or a roll leaves residual
motion that the network sees as scene motion. Vectorised over the frame pairs, on the tensors'
device.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Tuple

import torch
import torch.nn.functional as F

from .progress import CameraMeasured, ProgressCallback
from .settings import Settings

SMALLEST_SIDE = 16  # the pyramid's coarsest level is at least this small side
ITERATIONS = 6  # Gauss-Newton steps per pyramid level
STILL_PIXELS = 0.25  # a camera whose largest frame-to-frame shift is below this is still
EXPLAINS = 0.85  # the shifts are kept only if they leave at most this much of the unshifted residual


@dataclass(frozen=True)
class CameraMotion:
    """offsets (T, 2): each frame's (dy, dx) from the first, in pixels of the video it was measured on."""

    offsets: torch.Tensor

    @property
    def still(self) -> bool:
        steps = self.offsets[1:] - self.offsets[:-1]
        return steps.numel() == 0 or float(steps.norm(dim=1).max()) < STILL_PIXELS

    def scaled(self, factor: float) -> "CameraMotion":
        """The same motion on a video ``factor`` times larger."""
        return CameraMotion(self.offsets * factor)

    def describe(self) -> str:
        steps = (self.offsets[1:] - self.offsets[:-1]).norm(dim=1)
        if steps.numel() == 0:
            return "one frame: no camera motion"
        return (f"camera {'still' if self.still else 'moving'}: {float(steps.mean()):.2f} px a frame on average, "
                f"{float(steps.max()):.2f} at most")


def measure_camera(video: torch.Tensor, hole: torch.Tensor, settings: Settings,
                   progress: Optional[ProgressCallback]) -> Optional[CameraMotion]:
    """The camera motion of ``video`` when ``settings`` follow the camera (else None), reported
    to ``progress`` as a CameraMeasured event."""
    if not (settings.reveal_prior and settings.camera == "auto"):
        return None
    motion = estimate_motion(video, hole)
    if progress is not None:
        progress(CameraMeasured(motion.describe(), motion.still))
    return motion


def estimate_motion(video: torch.Tensor, hole: torch.Tensor) -> CameraMotion:
    """The camera motion of ``video`` (3,T,H,W) from the pixels outside ``hole`` (T,H,W)."""
    frames = video.shape[1]
    if frames < 2:
        return CameraMotion(torch.zeros(frames, 2))
    luma = video.float().mean(dim=0)
    known = (~hole).float()
    pyramid = [(luma, known)]
    while min(pyramid[-1][0].shape[-2:]) >= 2 * SMALLEST_SIDE:
        image, weight = pyramid[-1]
        pooled_weight = F.avg_pool2d(weight[:, None], 2)[:, 0]
        pooled = F.avg_pool2d((image * weight)[:, None], 2)[:, 0] / pooled_weight.clamp_min(1e-6)
        pyramid.append((pooled, (pooled_weight > 0.999).float()))  # a coarse pixel is known if all of it is
    shift = torch.zeros(frames - 1, 2, device=video.device)
    for depth, (image, weight) in enumerate(reversed(pyramid)):
        if depth:
            shift = shift * 2.0
        shift = _refine(image, weight, shift)
    if not _explained(*pyramid[0], shift):
        shift = torch.zeros_like(shift)
    shift = shift * (video.shape[-2] / pyramid[0][0].shape[-2])
    offsets = torch.cat([torch.zeros(1, 2, device=video.device), shift.cumsum(dim=0)])
    return CameraMotion(offsets.cpu())


def _refine(image: torch.Tensor, weight: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """Gauss-Newton steps of the (dy, dx) with image[t + 1](p + shift) ~ image[t](p), per pair."""
    reference, moving = image[:-1], image[1:]
    grad_y, grad_x = _gradients(reference)
    inner = _inner(weight[:-1])
    for _ in range(ITERATIONS):
        warped, inside = shift_frames(moving, shift)
        valid = weight[:-1] * inner * shift_frames(weight[1:], shift)[0].ge(0.999).float() * inside
        residual = warped - reference
        scale = 2.0 * _weighted_median(residual.abs(), valid).clamp_min(1e-4)
        robust = valid / (1.0 + (residual / scale[:, None, None]) ** 2)  # Cauchy weights: movers count less
        a_yy, a_xx = (robust * grad_y * grad_y).sum((1, 2)), (robust * grad_x * grad_x).sum((1, 2))
        a_xy = (robust * grad_x * grad_y).sum((1, 2))
        b_y, b_x = -(robust * grad_y * residual).sum((1, 2)), -(robust * grad_x * residual).sum((1, 2))
        determinant = a_yy * a_xx - a_xy * a_xy
        solvable = determinant > 1e-9 * (a_yy + a_xx).clamp_min(1e-12) ** 2
        step_y = torch.where(solvable, (a_xx * b_y - a_xy * b_x) / determinant.clamp_min(1e-30), torch.zeros_like(b_y))
        step_x = torch.where(solvable, (a_yy * b_x - a_xy * b_y) / determinant.clamp_min(1e-30), torch.zeros_like(b_x))
        shift = shift + torch.stack([step_y, step_x], dim=1).clamp(-2.0, 2.0)
    return shift


def _explained(image: torch.Tensor, weight: torch.Tensor, shift: torch.Tensor) -> bool:
    """Whether the shifts (one per frame pair) explain the change between the frames: the median
    residuals of the known pixels aligned by them add up to at most EXPLAINS of the unaligned ones.
    Water, clouds or a crowd moving under a locked-off camera pull the estimate a fraction of a
    pixel, but shifting by it removes little of the difference; a real pan removes most of it.
    Decided for the whole shot: dropping a single small shift of a pan would offset every frame
    after it."""
    valid = weight[:-1] * _inner(weight[:-1]) * weight[1:]
    residuals = []
    for candidate in (shift, torch.zeros_like(shift)):
        warped, inside = shift_frames(image[1:], candidate)
        residuals.append(_weighted_median((warped - image[:-1]).abs(), valid * inside))
    aligned, unaligned = residuals
    return bool(aligned.sum() <= EXPLAINS * unaligned.sum())


def shift_frames(frames: torch.Tensor, shift: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """frames (N,H,W) read at p + shift[n] (bilinear) and where that lies inside the frame (0/1)."""
    count, height, width = frames.shape
    ys = (torch.arange(height, device=frames.device, dtype=torch.float32)[None, :, None]
          + shift[:, 0, None, None]).expand(count, height, width)
    xs = (torch.arange(width, device=frames.device, dtype=torch.float32)[None, None, :]
          + shift[:, 1, None, None]).expand(count, height, width)
    grid = torch.stack([(2 * xs + 1) / width - 1, (2 * ys + 1) / height - 1], dim=-1)
    read = F.grid_sample(frames[:, None], grid, mode="bilinear", padding_mode="border", align_corners=False)[:, 0]
    inside = ((ys >= 0) & (ys <= height - 1) & (xs >= 0) & (xs <= width - 1)).float()
    return read, inside


def _gradients(image: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Central differences of (N,H,W), edges replicated."""
    padded = F.pad(image[:, None], (1, 1, 1, 1), mode="replicate")[:, 0]
    return (padded[:, 2:, 1:-1] - padded[:, :-2, 1:-1]) / 2.0, (padded[:, 1:-1, 2:] - padded[:, 1:-1, :-2]) / 2.0


def _inner(weight: torch.Tensor) -> torch.Tensor:
    """Known pixels whose neighbours are known too (their gradient reads no hole) and not on the edge."""
    eroded = -F.max_pool2d(-weight[:, None], 3, stride=1, padding=1)[:, 0]
    eroded[:, 0], eroded[:, -1], eroded[:, :, 0], eroded[:, :, -1] = 0, 0, 0, 0
    return eroded


def _weighted_median(values: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Per frame, the median of ``values`` (N,H,W) where ``weight`` > 0 (0 when there is none)."""
    medians: List[torch.Tensor] = []
    for value, chosen in zip(values, weight > 0):
        picked = value[chosen]
        medians.append(picked.median() if picked.numel() else value.new_zeros(()))
    return torch.stack(medians)
