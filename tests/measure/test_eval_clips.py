"""The panning clip: a known camera move made from any clip."""
import numpy as np
import pytest
import torch

from infusion.engine.measure.eval_clips import Clip, panning_clip
from infusion.engine.method.camera import estimate_motion


def test_the_window_moves_its_step_a_frame_and_reads_the_clip_exactly_on_whole_pixels():
    rows, cols = np.mgrid[0:40, 0:60].astype(np.float32)
    still = np.repeat(np.stack([rows / 40, cols / 60, rows * cols / 2400], axis=-1)[None], 6, axis=0)
    panned = panning_clip(Clip("ramp", still), step=(1.0, 2.0), zoom=0.0, fraction=0.5)
    assert panned.name == "ramp_pan" and panned.video.shape == (6, 20, 30, 3)
    top, left = (40 - 20 - 5) // 2, (60 - 30 - 10) // 2  # the travel is centred in the room left
    for t in range(6):
        window = still[t, top + t:top + t + 20, left + 2 * t:left + 2 * t + 30]
        assert np.abs(panned.video[t] - window).max() < 1e-5


def test_the_camera_estimate_recovers_the_pan_and_a_pan_that_leaves_the_clip_is_refused():
    generator = torch.Generator().manual_seed(1)
    scene = torch.nn.functional.interpolate(torch.rand(1, 3, 12, 16, generator=generator), size=(96, 128),
                                            mode="bicubic", align_corners=False)[0].permute(1, 2, 0).numpy()
    clip = Clip("scene", np.repeat(scene[None], 8, axis=0) * 2 - 1)
    panned = panning_clip(clip, step=(0.5, 2.0), zoom=0.0)
    motion = estimate_motion(torch.from_numpy(panned.video).permute(3, 0, 1, 2), torch.zeros(8, 77, 102, dtype=torch.bool))
    assert float((motion.offsets[-1] - torch.tensor([-3.5, -14.0])).abs().max()) < 0.3  # content moves against the window
    with pytest.raises(ValueError, match="leaves"):
        panning_clip(clip, step=(0.0, 5.0))
