"""Camera motion from the known pixels, and the reveal prior that follows it."""
import math

import torch
import torch.nn.functional as F

from infusion.engine.method.camera import CameraMotion, estimate_motion
from infusion.engine.method.prior import reveal_prior


def panning_shot(frames=6, height=48, width=64, step=(0.6, -1.3), seed=0):
    """A smooth random scene seen through a window that moves ``step`` (dy, dx) pixels a frame."""
    generator = torch.Generator().manual_seed(seed)
    scene = F.interpolate(torch.rand(1, 3, 24, 32, generator=generator), size=(3 * height, 3 * width),
                          mode="bicubic", align_corners=False)
    video = []
    for frame in range(frames):
        dy, dx = step[0] * frame, step[1] * frame
        ys = torch.arange(height, dtype=torch.float32)[:, None] + height + dy
        xs = torch.arange(width, dtype=torch.float32)[None, :] + width + dx
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
    followed, reach = reveal_prior(video[None], hole[None], offsets)
    still, _ = reveal_prior(video[None], hole[None])
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
