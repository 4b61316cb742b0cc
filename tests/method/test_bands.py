"""Spatial bands: they sum to the image, a gradient is smooth (pixel detail too), white noise splits by its shares."""
import torch

from infusion.engine.method.bands import BANDS, NOISE_SHARES, pixel_detail, split


def test_the_bands_sum_to_the_image():
    images = torch.rand(2, 3, 4, 20, 30, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    bands = split(images)
    assert len(bands) == BANDS and all(band.shape == images.shape for band in bands)
    assert torch.allclose(sum(bands), images, atol=1e-12)


def test_a_gradient_has_no_detail_even_at_the_edges():
    rows, cols = torch.meshgrid(torch.arange(12, dtype=torch.float64), torch.arange(17, dtype=torch.float64), indexing="ij")
    bands = split(0.3 * rows - 0.2 * cols)
    assert all(float(band.abs().max()) < 1e-12 for band in bands[:-1])
    assert float(pixel_detail(0.3 * rows - 0.2 * cols).abs().max()) < 1e-12


def test_white_noise_splits_by_the_noise_shares():
    noise = torch.randn(8, 256, 256, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    for band, share in zip(split(noise), NOISE_SHARES):
        assert abs(float(band[:, 16:-16, 16:-16].square().mean()) / share - 1.0) < 0.03
