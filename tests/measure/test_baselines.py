import numpy as np
import pytest

from infusion.engine.measure import baselines


def still_background(frames: int = 6, height: int = 16, width: int = 20):
    rng = np.random.default_rng(0)
    background = rng.random((height, width, 3)).astype(np.float32)
    video = np.repeat(background[None], frames, axis=0)
    hole = np.zeros((frames, height, width), bool)
    for t in range(frames):
        hole[t, 4:10, 2 + 2 * t:7 + 2 * t] = True  # a box sliding right: every pixel seen sometime
    return video, hole


@pytest.mark.parametrize("name", ["temporal_median", "nearest_visible"])
def test_temporal_baselines_recover_a_still_background(name):
    video, hole = still_background()
    hidden = np.where(hole[..., None], np.nan, video)  # nothing under the hole may be read
    filled = baselines.available()[name](hidden, hole)
    assert np.array_equal(filled, video)


def test_nearest_visible_copies_the_nearest_frame():
    video = np.repeat(np.arange(5, dtype=np.float32)[:, None, None, None], 3, axis=3) * np.ones((1, 2, 2, 1), np.float32)
    hole = np.zeros((5, 2, 2), bool)
    hole[1:4, 0, 0] = True  # visible at frames 0 and 4 only
    filled = baselines.nearest_visible(video, hole)
    assert filled[1:4, 0, 0, 0].tolist() == [0.0, 0.0, 4.0]  # frame 2 is a tie: the earlier frame wins


def test_pixels_never_visible_get_the_median_visible_colour():
    video, hole = still_background()
    hole[:, 0, 0] = True
    for fill in (baselines.temporal_median, baselines.nearest_visible):
        filled = fill(video, hole)
        assert np.allclose(filled[:, 0, 0], np.median(video[~hole], axis=0))


@pytest.mark.parametrize("name", ["telea", "navier_stokes"])
def test_opencv_baselines_fill_a_smooth_frame_closely(name):
    pytest.importorskip("cv2")
    y, x = np.mgrid[0:24, 0:32].astype(np.float32)
    frame = np.stack([0.5 + 0.3 * np.sin(x / 6), 0.4 + 0.2 * np.cos(y / 5), 0.3 + 0.01 * x], axis=-1)
    video = np.stack([frame, frame + 0.05]).astype(np.float32)
    hole = np.zeros((2, 24, 32), bool)
    hole[:, 8:14, 10:18] = True
    filled = baselines.available()[name](np.where(hole[..., None], 7.0, video), hole)
    assert np.array_equal(filled[~hole], video[~hole])
    assert np.abs(filled[hole] - video[hole]).mean() < 0.05


def test_temporal_baselines_are_always_available():
    assert {"temporal_median", "nearest_visible"} <= set(baselines.available())
