"""Camera motion: a global, sub-pixel pan and zoom of every frame, from the known pixels only.

The reveal prior (engine/method/prior.py) looks a hidden place up in other frames; when the
camera pans or zooms, that place has moved there. ``estimate_motion`` measures, between each
pair of consecutive frames, the transform that best maps one onto the other (Lucas-Kanade on a
pyramid, robustly weighted so that things moving in the scene count less than the background,
the hole and the frame's edge not at all), and chains them into each frame's transform from the
first.

The model is a translation and a zoom (a uniform scale about the frame's centre): pans, tilts
and push-ins, the common cases. A roll would be one more column of ``_jacobian`` and a
rotation in the linear part; everything downstream already takes a general linear part.

One home for the transform. A frame's transform is an affine *map* (..., 2, 3) acting on pixel
coordinates p = (y, x) (pixel indices, the centre of the top left pixel at (0, 0)):
p -> maps[..., :, :2] @ p + maps[..., :, 2]. ``CameraMotion.maps()`` gives each frame's map from
the first frame (content at p in frame 0 lies at maps[t](p) in frame t), ``carry`` the map from
one frame to every other, ``warp_frames`` reads frames through maps: the estimate's warp and the
prior's look-up are the same function. Vectorised over the frame pairs, on the tensors' device.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Tuple

import torch
import torch.nn.functional as F

from .progress import ShotMeasured, ProgressCallback
from .settings import Settings

SMALLEST_SIDE = 16  # the pyramid's coarsest level is at least this small side
ITERATIONS = 6  # Gauss-Newton steps per pyramid level
STILL_PIXELS = 0.25  # a camera whose largest frame-to-frame shift is below this ...
STILL_ZOOM = 0.002  # ... and whose largest zoom a frame is below this (0.25 px at 128 px from the centre) is still
EXPLAINS = 0.85  # the motion is kept only if it leaves at most this much of the unaligned residual
MAX_STEP = (2.0, 2.0, 0.05)  # the most one Gauss-Newton step moves dy, dx (pixels) and the zoom (a fraction)


@dataclass(frozen=True)
class CameraMotion:
    """Each frame's transform from the first, in pixels of the video it was measured on: content
    at p in frame 0 lies at centre + linear[t] @ (p - centre) + offsets[t] in frame t.

    offsets (T, 2): each frame's (dy, dx) (of the centre); linear (T, 2, 2): its zoom times the
    identity (a roll would make it a scaled rotation; None: the identity, a pure translation);
    centre (2,): the (y, x) the zoom is about (None: the origin, for a pure translation)."""

    offsets: torch.Tensor
    linear: Optional[torch.Tensor] = None
    centre: Optional[torch.Tensor] = None

    def __post_init__(self) -> None:
        offsets = self.offsets.float()
        object.__setattr__(self, "offsets", offsets)
        if self.linear is None:
            object.__setattr__(self, "linear", torch.eye(2, device=offsets.device).expand(len(offsets), 2, 2).clone())
        if self.centre is None:
            object.__setattr__(self, "centre", torch.zeros(2, device=offsets.device))

    @property
    def zooms(self) -> torch.Tensor:
        """(T,) each frame's scale against the first (above 1: pushed in, content larger)."""
        return torch.linalg.det(self.linear).abs().sqrt()

    def maps(self) -> torch.Tensor:
        """(T, 2, 3) each frame's map from the first frame's pixels to its own."""
        bias = self.centre + self.offsets - self.linear @ self.centre
        return torch.cat([self.linear, bias[:, :, None]], dim=2)

    def steps(self) -> Tuple[torch.Tensor, torch.Tensor]:
        """Frame to frame: the shift of the centre (T-1, 2) and the linear part (T-1, 2, 2)."""
        step = self.linear[1:] @ torch.linalg.inv(self.linear[:-1])
        shift = self.offsets[1:] - (step @ self.offsets[:-1, :, None])[..., 0]
        return shift, step

    @property
    def still(self) -> bool:
        shift, step = self.steps()
        if shift.numel() == 0:
            return True
        turn = (step - torch.eye(2)).abs().amax(dim=(1, 2))
        return float(shift.norm(dim=1).max()) < STILL_PIXELS and float(turn.max()) < STILL_ZOOM

    def scaled(self, factor: float) -> "CameraMotion":
        """The same motion on a video ``factor`` times larger: shifts scale, zooms do not."""
        return CameraMotion(self.offsets * factor, self.linear, (self.centre + 0.5) * factor - 0.5)

    def cropped(self, top: int, left: int) -> "CameraMotion":
        """The same motion seen in a crop of the video whose first pixel is (top, left)."""
        return CameraMotion(self.offsets, self.linear, self.centre - torch.tensor([float(top), float(left)]))

    def describe(self) -> str:
        shift, step = self.steps()
        if shift.numel() == 0:
            return "one frame: no camera motion"
        steps = shift.norm(dim=1)
        text = (f"camera {'still' if self.still else 'moving'}: {float(steps.mean()):.2f} px a frame on average, "
                f"{float(steps.max()):.2f} at most")
        zoom = torch.linalg.det(step).abs().sqrt() - 1.0
        if float(zoom.abs().max()) >= STILL_ZOOM / 4:
            text += f"; zooming {'in' if float(zoom.mean()) >= 0 else 'out'} {100 * abs(float(zoom.mean())):.1f}% a frame"
        return text


def measure_camera(video: torch.Tensor, hole: torch.Tensor, settings: Settings,
                   progress: Optional[ProgressCallback]) -> Optional[CameraMotion]:
    """The camera motion of ``video`` when ``settings`` follow the camera (else None), reported
    to ``progress`` as a ShotMeasured event."""
    if not (settings.reveal_prior and settings.camera == "auto"):
        return None
    motion = estimate_motion(video, hole)
    if progress is not None:
        progress(ShotMeasured(motion.describe()))
    return motion


def estimate_motion(video: torch.Tensor, hole: torch.Tensor) -> CameraMotion:
    """The camera motion of ``video`` (3,T,H,W) from the pixels outside ``hole`` (T,H,W)."""
    frames, height, width = video.shape[1:]
    centre = torch.tensor([(height - 1) / 2.0, (width - 1) / 2.0], device=video.device)
    if frames < 2:
        return CameraMotion(torch.zeros(frames, 2), centre=centre.cpu())
    luma = video.float().mean(dim=0)
    known = (~hole).float()
    pyramid = [(luma, known)]
    while min(pyramid[-1][0].shape[-2:]) >= 2 * SMALLEST_SIDE:
        image, weight = pyramid[-1]
        pooled_weight = F.avg_pool2d(weight[:, None], 2)[:, 0]
        pooled = F.avg_pool2d((image * weight)[:, None], 2)[:, 0] / pooled_weight.clamp_min(1e-6)
        pyramid.append((pooled, (pooled_weight > 0.999).float()))  # a coarse pixel is known if all of it is
    pairs = torch.zeros(frames - 1, 3, device=video.device)  # per pair: dy, dx, zoom - 1
    for depth, (image, weight) in enumerate(reversed(pyramid)):
        size = 2.0 ** (len(pyramid) - 1 - depth)  # a pixel of this level, in pixels of the video
        if depth:
            pairs = pairs * torch.tensor([2.0, 2.0, 1.0], device=video.device)
        pairs = _refine(image, weight, pairs, (centre + 0.5) / size - 0.5)  # pooling keeps p + 0.5 proportional
    if not _explained(*pyramid[0], pairs, centre):
        pairs = torch.zeros_like(pairs)
    return _chain(pairs.cpu(), centre.cpu())


def _chain(pairs: torch.Tensor, centre: torch.Tensor) -> CameraMotion:
    """Each frame's motion from the first, from the pairs' (dy, dx, zoom - 1): with
    frame t + 1 = pair t after frame t, zoom[t + 1] = z_t zoom[t] and
    offset[t + 1] = z_t offset[t] + d_t, so offset[t] = zoom[t] * sum over k < t of d_k / zoom[k + 1]."""
    zoom = torch.cat([torch.ones(1), torch.cumprod(1.0 + pairs[:, 2], dim=0)])
    offsets = zoom[:, None] * torch.cat([torch.zeros(1, 2), (pairs[:, :2] / zoom[1:, None]).cumsum(dim=0)])
    return CameraMotion(offsets, zoom[:, None, None] * torch.eye(2), centre)


def _pair_maps(pairs: torch.Tensor, centre: torch.Tensor) -> torch.Tensor:
    """(N, 2, 3) the maps of the pairs' (dy, dx, zoom - 1) about ``centre``: p -> centre + z (p - centre) + d."""
    zoom = 1.0 + pairs[:, 2]
    linear = zoom[:, None, None] * torch.eye(2, device=pairs.device)
    bias = centre + pairs[:, :2] - zoom[:, None] * centre
    return torch.cat([linear, bias[:, :, None]], dim=2)


def _jacobian(grad_y: torch.Tensor, grad_x: torch.Tensor, centre: torch.Tensor, radius: float) -> torch.Tensor:
    """(N,H,W,3): how a pixel's warped value changes with the pair's dy, dx and zoom (the zoom
    in units of ``radius`` pixels at the edge, to keep the normal equations well conditioned)."""
    height, width = grad_y.shape[-2:]
    rows = (torch.arange(height, device=grad_y.device, dtype=torch.float32) - centre[0])[:, None] / radius
    cols = (torch.arange(width, device=grad_y.device, dtype=torch.float32) - centre[1])[None, :] / radius
    return torch.stack([grad_y, grad_x, grad_y * rows + grad_x * cols], dim=-1)


def _refine(image: torch.Tensor, weight: torch.Tensor, pairs: torch.Tensor, centre: torch.Tensor) -> torch.Tensor:
    """Gauss-Newton steps of the (dy, dx, zoom - 1) with image[t + 1](map(p)) ~ image[t](p), per pair."""
    reference, moving = image[:-1], image[1:]
    grad_y, grad_x = _gradients(reference)
    inner = _inner(weight[:-1])
    radius = max(image.shape[-2:]) / 2.0
    units = torch.tensor([1.0, 1.0, radius], device=pairs.device)
    limit = torch.tensor(MAX_STEP, device=pairs.device) * units
    for _ in range(ITERATIONS):
        maps = _pair_maps(pairs, centre)
        warped, inside = warp_frames(moving, maps)
        valid = weight[:-1] * inner * warp_frames(weight[1:], maps)[0].ge(0.999).float() * inside
        residual = warped - reference
        scale = 2.0 * _weighted_median(residual.abs(), valid).clamp_min(1e-4)
        robust = valid / (1.0 + (residual / scale[:, None, None]) ** 2)  # Cauchy weights: movers count less
        zoom = (1.0 + pairs[:, 2])[:, None, None]  # the moving frame's gradient where it lands is the reference's / zoom
        jacobian = _jacobian(grad_y / zoom, grad_x / zoom, centre, radius)
        normal = torch.einsum("nhwi,nhwj->nij", jacobian * robust[..., None], jacobian)
        target = -torch.einsum("nhwi,nhw->ni", jacobian, robust * residual)
        trace = normal.diagonal(dim1=1, dim2=2).sum(dim=1)
        ridge = (1e-6 * trace.clamp_min(1e-12))[:, None, None] * torch.eye(3, device=pairs.device)
        step = torch.linalg.solve(normal + ridge, target[..., None])[..., 0]
        step = torch.where((trace > 1e-12)[:, None], step, torch.zeros_like(step))
        pairs = pairs + torch.maximum(torch.minimum(step, limit), -limit) / units
    return pairs


def _explained(image: torch.Tensor, weight: torch.Tensor, pairs: torch.Tensor, centre: torch.Tensor) -> bool:
    """Whether the motion (one per frame pair) explains the change between the frames: the median
    residuals of the known pixels aligned by it add up to at most EXPLAINS of the unaligned ones.
    Water, clouds or a crowd moving under a locked-off camera pull the estimate a fraction of a
    pixel, but aligning by it removes little of the difference; a real pan or zoom removes most
    of it. Decided for the whole shot: dropping a single small step of a pan would offset every
    frame after it."""
    valid = weight[:-1] * _inner(weight[:-1]) * weight[1:]
    residuals = []
    for candidate in (pairs, torch.zeros_like(pairs)):
        warped, inside = warp_frames(image[1:], _pair_maps(candidate, centre))
        residuals.append(_weighted_median((warped - image[:-1]).abs(), valid * inside))
    aligned, unaligned = residuals
    return bool(aligned.sum() <= EXPLAINS * unaligned.sum())


def translation(shift: torch.Tensor) -> torch.Tensor:
    """(..., 2, 3) the maps p -> p + shift of ``shift`` (..., 2)."""
    eye = torch.eye(2, device=shift.device, dtype=torch.float32).expand(*shift.shape[:-1], 2, 2)
    return torch.cat([eye, shift.float()[..., None]], dim=-1)


def as_maps(camera: torch.Tensor) -> torch.Tensor:
    """Each frame's map from the first (..., T, 2, 3) of ``camera``: such maps already, or each
    frame's translation (..., T, 2) (a pan only: the offsets of a CameraMotion without zoom)."""
    return camera.float() if camera.shape[-2:] == (2, 3) else translation(camera)


def _homogeneous(maps: torch.Tensor) -> torch.Tensor:
    bottom = torch.tensor([0.0, 0.0, 1.0], device=maps.device, dtype=maps.dtype).expand(*maps.shape[:-2], 1, 3)
    return torch.cat([maps, bottom], dim=-2)


def carry(maps: torch.Tensor, target: int) -> torch.Tensor:
    """(..., T, 2, 3) from each frame's map from the first (..., T, 2, 3): the map that carries
    frame ``target``'s pixels to where that content lies in every frame s, maps[s] after the
    inverse of maps[target]."""
    full = _homogeneous(maps)
    return (full @ torch.linalg.inv(full[..., target:target + 1, :, :]))[..., :2, :]


def carry_all(maps: torch.Tensor) -> torch.Tensor:
    """(..., T, T, 2, 3): ``carry(maps, target)`` for every target, target first."""
    full = _homogeneous(maps)
    return (full[..., None, :, :, :] @ torch.linalg.inv(full)[..., :, None, :, :])[..., :2, :]


def crop_maps(maps: torch.Tensor, top: int, left: int) -> torch.Tensor:
    """``maps`` (..., 2, 3) in the pixels of a crop whose first pixel is (top, left): p -> map(p + d) - d."""
    corner = torch.tensor([float(top), float(left)], device=maps.device, dtype=maps.dtype)
    bias = maps[..., :, 2] + maps[..., :, :2] @ corner - corner
    return torch.cat([maps[..., :, :2], bias[..., None]], dim=-1)


def warp_frames(frames: torch.Tensor, maps: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """frames (N,H,W) or (N,C,H,W) read at maps[n](p) (bilinear), and (N,H,W) where that lies
    inside the frame (0/1)."""
    flat = frames.ndim == 3
    stack = frames[:, None] if flat else frames
    height, width = stack.shape[-2:]
    ys = torch.arange(height, device=frames.device, dtype=torch.float32)[:, None].expand(height, width)
    xs = torch.arange(width, device=frames.device, dtype=torch.float32)[None, :].expand(height, width)
    points = torch.stack([ys, xs, torch.ones_like(ys)], dim=-1)  # (H, W, 3)
    landed = torch.einsum("nij,hwj->nhwi", maps.to(frames.device, torch.float32), points)
    ys, xs = landed[..., 0], landed[..., 1]
    grid = torch.stack([(2 * xs + 1) / width - 1, (2 * ys + 1) / height - 1], dim=-1)
    read = F.grid_sample(stack, grid.to(stack.dtype), mode="bilinear", padding_mode="border", align_corners=False)
    inside = ((ys >= 0) & (ys <= height - 1) & (xs >= 0) & (xs <= width - 1)).float()
    return (read[:, 0] if flat else read), inside


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
