import pytest
import torch

from infusion.engine.method import diffusion


def test_linear_schedule_matches_ddpm():
    schedule = diffusion.linear_schedule(1000)
    betas = 1 - schedule.alpha_bar[1:] / schedule.alpha_bar[:-1]
    assert schedule.steps == 1000
    assert float(1 - schedule.alpha_bar[0]) == pytest.approx(1e-4)
    assert float(betas[-1]) == pytest.approx(0.02)
    assert float(schedule.alpha_bar[-1]) < 1e-4


def test_single_step_posterior_is_the_textbook_one():
    schedule = diffusion.linear_schedule(1000)
    ab = schedule.alpha_bar
    t = 500
    beta_t = float(1 - ab[t] / ab[t - 1])
    c_x0, c_xt, std = diffusion.posterior_coefficients(schedule, t, t - 1)
    assert c_x0 == pytest.approx(float(ab[t - 1]) ** 0.5 * beta_t / float(1 - ab[t]))
    assert c_xt == pytest.approx((1 - beta_t) ** 0.5 * float(1 - ab[t - 1]) / float(1 - ab[t]))
    assert std ** 2 == pytest.approx(beta_t * float(1 - ab[t - 1]) / float(1 - ab[t]))


def test_last_step_returns_x0_exactly():
    schedule = diffusion.linear_schedule(1000)
    x0, x_t, noise = torch.rand(3, 4), torch.randn(3, 4), torch.randn(3, 4)
    assert torch.equal(diffusion.ancestral_step(schedule, x0, x_t, 0, -1, noise), x0)


def test_posterior_rejects_bad_steps():
    schedule = diffusion.linear_schedule(10)
    with pytest.raises(ValueError, match="posterior"):
        diffusion.posterior_coefficients(schedule, 3, 3)


def test_intervals_cover_every_step_once_noisiest_first():
    steps = []
    for k in range(20):
        highest, lowest = diffusion.interval_bounds(1000, 20, k)
        assert highest - lowest + 1 == 50
        steps.extend(range(highest, lowest - 1, -1))
    assert steps == list(range(999, -1, -1))


def test_strided_timesteps_span_the_interval():
    assert diffusion.interval_timesteps(999, 950, 50) == list(range(999, 949, -1))
    strided = diffusion.interval_timesteps(999, 500, 4)
    assert strided[0] == 999 and strided[-1] == 500 and len(set(strided)) == 4
    assert diffusion.interval_timesteps(99, 50, 1) == [99]


def test_reprojection_clips_and_restores_known_pixels():
    observed = torch.full((4,), 0.25)
    known = torch.tensor([True, False, True, False])
    out = diffusion.reproject(torch.tensor([5.0, 5.0, -5.0, -5.0]), observed, known)
    assert out.tolist() == [0.25, 1.0, 0.25, -1.0]


def test_q_sample_uses_each_items_step():
    schedule = diffusion.linear_schedule(1000)
    x0 = torch.ones(2, 3)
    out = diffusion.q_sample(schedule, x0, torch.tensor([0, 999]), torch.zeros(2, 3))
    assert out[0, 0] == pytest.approx(float(schedule.alpha_bar[0]) ** 0.5)
    assert out[1, 0] < 0.01
