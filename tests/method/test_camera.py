"""Camera motion from the known pixels, and the reveal prior that follows it."""
import math

import torch
import torch.nn.functional as F

from infusion.engine.method.camera import CameraMotion, as_maps, carry, crop_maps, estimate_motion, warp_frames
from infusion.engine.method.prior import reveal_prior


def panning_shot(frames=6, height=48, width=64, step=(0.6, -1.3), seed=0, zoom=0.0):
    """A smooth random scene seen through a window that moves ``step`` (dy, dx) pixels a frame
    and, with ``zoom``, pushes in (content grows 1 + zoom a frame about the frame's centre)."""
    generator = torch.Generator().manual_seed(seed)
    scene = F.interpolate(torch.rand(1, 3, 24, 32, generator=generator), size=(3 * height, 3 * width),
                          mode="bicubic", align_corners=False)
    video = []
    for frame in range(frames):
        dy, dx, scale = step[0] * frame, step[1] * frame, (1.0 + zoom) ** -frame
        ys = 1.5 * height - 0.5 + dy + scale * (torch.arange(height, dtype=torch.float32)[:, None] - (height - 1) / 2)
        xs = 1.5 * width - 0.5 + dx + scale * (torch.arange(width, dtype=torch.float32)[None, :] - (width - 1) / 2)
        grid = torch.stack([(2 * xs.expand(height, width) + 1) / (3 * width) - 1,
                            (2 * ys.expand(height, width) + 1) / (3 * height) - 1], dim=-1)
        video.append(F.grid_sample(scene, grid[None], mode="bilinear", align_corners=False)[0])
    return torch.stack(video, dim=1) * 2 - 1  # (3, T, H, W)


def test_a_pan_is_measured_to_a_fraction_of_a_pixel_and_the_hole_takes_no_part():
    video = panning_shot()
    hole = torch.zeros(6, 48, 64, dtype=torch.bool)
    hole[:, 10:30, 20:40] = True
    junk = torch.where(hole[None], torch.rand(video.shape, generator=torch.Generator().manual_seed(5)), video)
    motion = estimate_motion(junk, hole)
    expected = torch.tensor([[-0.6 * t, 1.3 * t] for t in range(6)])  # the window moves one way, the content the other
    assert float((motion.offsets - expected).abs().max()) < 0.15
    assert not motion.still and "moving" in motion.describe()
    assert float((estimate_motion(video, hole).offsets - motion.offsets).abs().max()) < 1e-4  # nothing under the hole


def test_a_still_shot_is_still():
    video = panning_shot(step=(0.0, 0.0))
    motion = estimate_motion(video, torch.zeros(6, 48, 64, dtype=torch.bool))
    assert motion.still and float(motion.offsets.abs().max()) < 0.05
    assert math.isclose(float(CameraMotion(torch.tensor([[0.0, 0.0], [1.0, 2.0]])).scaled(3).offsets[1, 1]), 6.0)


def test_the_prior_follows_the_camera_to_where_the_hidden_place_shows():
    video = panning_shot(step=(0.0, -2.0))
    hole = torch.zeros(6, 48, 64, dtype=torch.bool)
    hole[:, 16:32, 24:40] = True  # fixed on screen: the pan uncovers what it hides
    motion = estimate_motion(video, hole)
    offsets = motion.offsets[None]
    followed, reach, *_ = reveal_prior(video[None], hole[None], offsets)
    still, *_ = reveal_prior(video[None], hole[None])
    error_followed = (followed[0] - video)[:, hole].abs().mean()
    error_still = (still[0] - video)[:, hole].abs().mean()
    assert float(error_followed) < 0.3 * float(error_still)
    assert 0.5 < float((reach[0, 0][hole] > 0).float().mean()) < 1.0  # a 10 px pan uncovers most of a 16 px hole


def test_water_and_clouds_under_a_locked_off_camera_are_not_taken_for_a_pan():
    """Waves and clouds drift and pull the estimate (about 0.2 px a frame here, 0.67 px over the
    clip); shifting by it explains almost none of the change between frames, so no shift is kept."""
    from infusion.engine.measure.seascape import film_grain, seascape
    linear = torch.from_numpy(film_grain(seascape(6, 90, 160))).permute(3, 0, 1, 2)
    motion = estimate_motion(linear.clamp(0, 4) / 2 - 1, torch.zeros(6, 90, 160, dtype=torch.bool))
    assert motion.still and float(motion.offsets.abs().max()) == 0.0


def test_a_push_in_with_a_pan_is_measured_and_the_hole_takes_no_part():
    """1% a frame in, with a pan: content at p in frame 0 lies at centre + z^t (p - centre) - z^t step t."""
    step, zoom = (0.6, -1.3), 0.01
    video = panning_shot(step=step, zoom=zoom)
    hole = torch.zeros(6, 48, 64, dtype=torch.bool)
    hole[:, 10:30, 20:40] = True
    junk = torch.where(hole[None], torch.rand(video.shape, generator=torch.Generator().manual_seed(5)), video)
    motion = estimate_motion(junk, hole)
    growth = (1.0 + zoom) ** torch.arange(6.0)
    shifts, linear = motion.steps()
    assert float((torch.linalg.det(linear).sqrt() - (1.0 + zoom)).abs().max()) < 0.001  # the zoom, each frame
    assert float((shifts + growth[1:, None] * torch.tensor(step)).abs().max()) < 0.15  # the pan, each frame
    assert float((motion.offsets + growth[:, None] * torch.tensor(step) * torch.arange(6.0)[:, None]).abs().max()) < 0.15
    assert float((motion.zooms - growth).abs().max()) < 0.005
    assert not motion.still and "zooming in 1.0% a frame" in motion.describe()
    unseen = estimate_motion(video, hole)
    assert float((unseen.maps() - motion.maps()).abs().max()) < 1e-4  # nothing under the hole or its ring
    zooming_only = estimate_motion(panning_shot(step=(0.0, 0.0), zoom=-0.01), torch.zeros(6, 48, 64, dtype=torch.bool))
    assert not zooming_only.still and "zooming out" in zooming_only.describe()  # no pan, yet not still


def test_a_pan_scales_with_the_level_and_a_zoom_does_not():
    big = panning_shot(height=96, width=128, step=(1.2, -2.6), zoom=0.01)
    small = F.avg_pool2d(big.reshape(-1, 1, 96, 128), 2).reshape(3, 6, 48, 64)
    on_big = estimate_motion(big, torch.zeros(6, 96, 128, dtype=torch.bool))
    scaled = estimate_motion(small, torch.zeros(6, 48, 64, dtype=torch.bool)).scaled(2.0)
    corners = torch.tensor([[0.0, 0.0, 1.0], [0.0, 127.0, 1.0], [95.0, 0.0, 1.0], [95.0, 127.0, 1.0]])
    landed = [torch.einsum("tij,kj->tki", motion.maps(), corners) for motion in (on_big, scaled)]
    assert float((landed[0] - landed[1]).abs().max()) < 0.2  # the same place in pixels of the big video
    pan = CameraMotion(torch.tensor([[0.0, 0.0], [1.0, 2.0]]), torch.eye(2).repeat(2, 1, 1) * torch.tensor([1.0, 1.1])[:, None, None],
                       torch.tensor([3.5, 5.5]))
    assert torch.allclose(pan.scaled(3).offsets, pan.offsets * 3) and torch.allclose(pan.scaled(3).zooms, pan.zooms)
    assert torch.allclose(pan.scaled(3).centre, torch.tensor([11.5, 17.5]))  # pixel centres: (c + 0.5) 3 - 0.5


def test_a_crop_sees_the_same_motion_and_the_prior_reads_through_the_one_warp():
    motion = CameraMotion(torch.tensor([[0.0, 0.0], [0.7, -1.9], [1.5, -3.6]]),
                          torch.tensor([1.0, 1.02, 1.05])[:, None, None] * torch.eye(2), torch.tensor([23.5, 31.5]))
    maps = motion.maps()
    assert torch.allclose(motion.cropped(8, 12).maps(), crop_maps(maps, 8, 12), atol=1e-5)
    frames = torch.rand(3, 48, 64, generator=torch.Generator().manual_seed(2))
    whole, _ = warp_frames(frames, carry(maps, 1))
    part, inside = warp_frames(frames[:, 8:40, 12:52].contiguous(), carry(crop_maps(maps, 8, 12), 1))
    # a read inside the crop takes the same taps
    assert float(((whole[:, 8:40, 12:52] - part).abs() * (inside > 0)).max()) < 1e-4 and float(inside.mean()) > 0.8
    assert torch.allclose(carry(maps, 1)[1], torch.eye(2, 3), atol=1e-6)  # a frame is its own source as it is
    assert torch.allclose(as_maps(motion.offsets)[..., 2], motion.offsets)  # offsets alone: a pan


def test_the_prior_follows_a_zoom_where_a_still_or_a_pan_only_camera_misses():
    """A push-in of 2% a frame and no pan, a matte moving over it: the still prior (and the
    translation alone, which is none here) reads the same screen place in other frames, where
    the zoom has moved the content; following the zoom reads the content itself."""
    video = panning_shot(step=(0.0, 0.0), zoom=0.02)
    hole = torch.zeros(6, 48, 64, dtype=torch.bool)
    for t in range(6):
        hole[t, 16:30, 8 + 8 * t:22 + 8 * t] = True
    motion = estimate_motion(video, hole)
    followed, reach, *_ = reveal_prior(video[None], hole[None], motion.maps()[None])
    still, *_ = reveal_prior(video[None], hole[None])
    pan_only, *_ = reveal_prior(video[None], hole[None], motion.offsets[None])
    error = {name: float((prior[0] - video)[:, hole].abs().mean())
             for name, prior in (("followed", followed), ("still", still), ("pan only", pan_only))}
    assert error["followed"] < 0.3 * error["still"] and error["followed"] < 0.3 * error["pan only"]
    assert bool((reach[0, 0][hole] > 0).all())  # the matte moves: every hidden place shows in some frame


def test_a_camera_with_neither_pan_nor_zoom_is_still():
    assert CameraMotion(torch.zeros(4, 2)).still
    assert not CameraMotion(torch.zeros(2, 2), torch.tensor([1.0, 1.004])[:, None, None] * torch.eye(2)).still
    assert not CameraMotion(torch.tensor([[0.0, 0.0], [0.0, 0.5]])).still
