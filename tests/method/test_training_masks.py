import numpy as np
import torch

from infusion.engine.method.training_masks import random_training_mask


def draw(count: int, frames=8, height=48, width=64, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return [random_training_mask(generator, frames, height, width, 0.5) for _ in range(count)]


def test_masks_cover_small_to_half_the_frame():
    masks = draw(300)
    assert all(m.shape == (8, 48, 64) and m.dtype == torch.bool for m in masks)
    coverage = np.array([float(m.float().mean()) for m in masks])
    assert coverage.min() < 0.08
    assert np.percentile(coverage, 90) > 0.3
    assert coverage.max() <= 0.6


def test_masks_include_moving_and_still_ones():
    masks = draw(200)
    moving = sum(not torch.equal(m[0], m[-1]) for m in masks)
    still = sum(torch.equal(m[0], m[-1]) for m in masks)
    assert moving > 50 and still > 5


def test_masks_are_seeded():
    first, second = draw(5, seed=3), draw(5, seed=3)
    assert all(torch.equal(a, b) for a, b in zip(first, second))
    assert not all(torch.equal(a, b) for a, b in zip(first, draw(5, seed=4)))


def test_masks_at_tiny_and_large_sizes():
    generator = torch.Generator().manual_seed(0)
    assert random_training_mask(generator, 3, 16, 16).shape == (3, 16, 16)
    assert random_training_mask(generator, 2, 240, 432).shape == (2, 240, 432)
