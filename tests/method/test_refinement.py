"""A finer level's x0: the Wiener guess around the level below plus a scaled correction."""
import torch

from infusion.engine.method.diffusion import linear_schedule
from infusion.engine.method.refinement import MIN_DETAIL, Refinement, detail_spread


class Silent(torch.nn.Module):
    """An untrained correction: zero."""

    def forward(self, x_t, condition, t):
        return torch.zeros_like(x_t)


def test_an_untrained_correction_keeps_x_t_at_low_noise_and_the_coarse_fill_at_high_noise():
    generator = torch.Generator().manual_seed(1)
    coarse = torch.rand(1, 3, 2, 8, 8, generator=generator)
    x_t = coarse + 0.1 * torch.randn(1, 3, 2, 8, 8, generator=generator)  # near t = 0 x_t is near x0
    condition = torch.cat([torch.zeros(1, 4, 2, 8, 8), coarse], dim=1)
    refine = Refinement(Silent(), linear_schedule(1000), 0.1)
    assert torch.allclose(refine(x_t, condition, torch.tensor([0])), x_t, atol=0.01)  # skip 0.99 at d = 0.1
    assert torch.allclose(refine(x_t, condition, torch.tensor([999])), coarse, atol=2e-3)


def test_the_detail_spread_is_the_known_pixels_rms_around_the_coarse_fill():
    coarse = torch.zeros(3, 2, 4, 4)
    video = torch.full((3, 2, 4, 4), 0.2)
    hole = torch.zeros(2, 4, 4, dtype=torch.bool)
    hole[:, :2] = True
    video[:, hole] = 5.0  # under the hole: never read
    assert abs(detail_spread(video, hole, coarse) - 0.2) < 1e-6
    assert detail_spread(video, torch.ones_like(hole), coarse) == MIN_DETAIL
