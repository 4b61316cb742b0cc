import math

import numpy as np
import pytest

from infusion.engine.measure import metrics


def blur(video: np.ndarray, passes: int = 3) -> np.ndarray:
    """A cross-shaped box blur of each frame (T, H, W, C), ``passes`` times."""
    for _ in range(passes):
        video = (video + np.roll(video, 1, -3) + np.roll(video, -1, -3) + np.roll(video, 1, -2) + np.roll(video, -1, -2)) / 5
    return video


def textured(seed: int, frames: int = 6, size: int = 24, smoothing: int = 4) -> np.ndarray:
    """A smooth random texture drifting a pixel a frame, in [0, 1], (frames, size, size, 3)."""
    base = blur(np.random.default_rng(seed).random((size, 2 * size, 3)), smoothing)
    base = (base - base.mean()) / (4 * base.std()) + 0.5
    return np.stack([base[:, t:t + size] for t in range(frames)]).clip(0, 1).astype(np.float32)


@pytest.fixture
def case():
    truth = textured(0)
    hole = np.zeros(truth.shape[:3], bool)
    hole[:, 6:18, 6:18] = True
    return truth, hole


def put(truth, hole, inside):
    return np.where(hole[..., None], inside, truth).astype(np.float32)


def test_identical_fill_scores_perfectly(case):
    truth, hole = case
    assert metrics.psnr(truth, truth, hole) == math.inf
    assert metrics.ssim(truth, truth, hole) == pytest.approx(1.0)
    assert metrics.dynamics_ratio(truth, truth, hole) == pytest.approx(1.0)
    assert metrics.detail_ratio(truth, truth, hole) == pytest.approx(1.0)
    assert metrics.seam_ratio(truth, truth, hole) == pytest.approx(1.0)
    assert metrics.texture_distance(truth, truth, hole) == 0.0


def test_psnr_of_a_known_error(case):
    truth, hole = case
    shifted = put(truth, hole, np.clip(truth, 0, 0.9) + 0.1)
    error = np.mean((shifted[hole] - truth[hole]) ** 2)
    assert metrics.psnr(shifted, truth, hole) == pytest.approx(10 * np.log10(1 / error))
    assert metrics.psnr(put(truth, hole, truth + 0.0), truth, hole) == math.inf


def test_frozen_fill_has_no_dynamics_and_flicker_has_too_much(case):
    truth, hole = case
    frozen = put(truth, hole, np.repeat(truth[:1], len(truth), axis=0))
    assert metrics.dynamics_ratio(frozen, truth, hole) < 1e-6
    flicker = put(truth, hole, np.random.default_rng(1).random(truth.shape))
    assert metrics.dynamics_ratio(flicker, truth, hole) > 1.5


def test_blurred_fill_loses_detail(case):
    truth, hole = case
    assert metrics.detail_ratio(put(truth, hole, blur(truth)), truth, hole) < 0.5


def test_a_step_at_the_hole_edge_is_a_seam_not_detail(case):
    """A smooth truth brightened inside the hole: the same detail inside, a seam at its edge. A
    flat patch of the mean colour has no detail inside, and its edge is a seam."""
    truth, hole = textured(0, smoothing=12), case[1]
    stepped = put(truth, hole, truth + 0.1)
    assert metrics.detail_ratio(stepped, truth, hole) == pytest.approx(1.0)
    assert metrics.grain_ratio(stepped, truth, hole) == pytest.approx(1.0)
    assert metrics.seam_ratio(stepped, truth, hole) > 2.0
    flat = put(truth, hole, np.full_like(truth, truth[hole].mean()))
    assert metrics.detail_ratio(flat, truth, hole) == 0.0 and metrics.seam_ratio(flat, truth, hole) > 1.0


def test_texture_distance_sees_the_texture_not_the_pixels():
    truth = textured(0, size=48, smoothing=1)
    hole = np.zeros(truth.shape[:3], bool)
    hole[:, 8:40, 8:40] = True
    same_kind = put(truth, hole, textured(7, size=48, smoothing=1))  # another draw: every pixel wrong
    blurred = put(truth, hole, blur(truth))
    flat = put(truth, hole, np.full_like(truth, truth[hole].mean()))
    noise = put(truth, hole, np.random.default_rng(2).normal(0.5, 0.5, truth.shape).clip(0, 1))
    near = metrics.texture_distance(same_kind, truth, hole)
    assert metrics.psnr(blurred, truth, hole) > metrics.psnr(same_kind, truth, hole) + 3  # PSNR prefers blur...
    assert near < 0.5 * metrics.texture_distance(blurred, truth, hole)  # ...the texture distance does not
    assert near < 0.3 * metrics.texture_distance(flat, truth, hole)
    assert near < 0.5 * metrics.texture_distance(noise, truth, hole)


def test_diversity(case):
    truth, hole = case
    assert metrics.diversity([truth, truth.copy()], hole) == 0.0
    other = put(truth, hole, truth + 0.1)
    assert metrics.diversity([truth, other], hole) == pytest.approx(0.1, rel=1e-4)
    assert math.isnan(metrics.diversity([truth], hole))


def test_grain_is_matched_by_the_truth_lost_by_upscaling_and_exceeded_by_noise(case):
    truth, hole = case
    grainy = np.clip(truth + np.random.default_rng(2).normal(0, 0.03, truth.shape), 0, 1).astype(np.float32)
    assert metrics.grain_ratio(grainy, grainy, hole) == pytest.approx(1.0)
    # What a fill made at a quarter of the size (4x4 block means) and scaled up smoothly holds.
    small = grainy.reshape(6, 6, 4, 6, 4, 3).mean(axis=(2, 4))
    upscaled = blur(np.repeat(np.repeat(small, 4, axis=1), 4, axis=2), 2)
    assert metrics.grain_ratio(put(grainy, hole, upscaled), grainy, hole) < 0.5
    noisier = np.clip(grainy + np.random.default_rng(3).normal(0, 0.05, truth.shape), 0, 1)
    assert metrics.grain_ratio(put(grainy, hole, noisier), grainy, hole) > 1.2
