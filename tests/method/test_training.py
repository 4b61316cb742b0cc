"""Training steps over a batch of windows: the loss, the draws, the settings."""
import pytest
import torch

from infusion.engine.method import diffusion
from infusion.engine.method.averaging import WeightAverage
from infusion.engine.method.model import UNet3D
from infusion.engine.method.settings import Settings
from infusion.engine.method.training import train_interval, training_loss


def windows(batch: int, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    x0 = torch.rand((batch, 3, 4, 16, 16), generator=generator) * 2 - 1
    hole = torch.zeros((batch, 4, 16, 16), dtype=torch.bool)
    hole[:, :, 4:8, 4:8] = True
    hole[1:, :, 10:14, :] = True  # the second window sees a different part of the hole
    x0 = torch.where(hole[:, None], torch.zeros(()), x0)
    hidden = hole | (torch.rand((batch, 4, 16, 16), generator=generator) < 0.3)
    noise = torch.randn(x0.shape, generator=generator)
    return x0, hole, hidden, noise


def test_a_batch_loss_is_the_visible_pixel_weighted_mean_of_its_windows():
    torch.manual_seed(0)
    model = UNet3D(levels=2, channels=8).eval()
    schedule = diffusion.linear_schedule(1000)
    x0, hole, hidden, noise = windows(2)
    t = torch.tensor([100, 700])
    together = training_loss(model, schedule, x0, hole, hidden, t, noise)
    alone = [training_loss(model, schedule, x0[i:i + 1], hole[i:i + 1], hidden[i:i + 1], t[i:i + 1], noise[i:i + 1])
             for i in range(2)]
    visible = [(~hole[i]).sum().item() for i in range(2)]
    expected = (alone[0] * visible[0] + alone[1] * visible[1]) / sum(visible)
    assert torch.allclose(together, expected, rtol=1e-5)
    assert visible[0] != visible[1]  # the weighting is really exercised


def trained_weights(settings: Settings) -> torch.Tensor:
    torch.manual_seed(0)
    model = UNet3D.from_settings(settings)
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.learning_rate)
    video, hole, _, _ = windows(1)
    losses = []
    train_interval(model, optimizer, diffusion.linear_schedule(1000), video[0], hole[0], settings, 0, 999,
                   torch.Generator().manual_seed(1), on_step=lambda step, loss: losses.append(loss))
    assert len(losses) == settings.train_steps and all(loss is not None and loss > 0 for loss in losses)
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def test_more_windows_per_step_is_a_different_deterministic_training():
    single = Settings(levels=2, channels=8, window_frames=2, train_crop=8, train_steps=3, log_every=1)
    batched = single.replace(train_batch=3)
    assert torch.equal(trained_weights(batched), trained_weights(batched))
    assert not torch.equal(trained_weights(batched), trained_weights(single))


def test_a_batch_of_no_windows_is_refused():
    with pytest.raises(ValueError, match="train_batch"):
        Settings(train_batch=0)


def hidden_windows(settings: Settings, level: int) -> list:
    """The hidden mask of every training window that ``level``'s plan draws (the centre builder spied on)."""
    torch.manual_seed(0)
    model = UNet3D.from_settings(settings, centred=True)
    video, hole, _, _ = windows(1)
    seen = []

    def centre_of(clips, hidden, below, wheres):
        seen.extend(window.clone() for window in hidden)
        return torch.zeros(len(clips), 4, *hidden.shape[1:])

    train_interval(model, torch.optim.Adam(model.parameters()), diffusion.linear_schedule(1000), video[0], hole[0],
                   settings, 0, 199, torch.Generator().manual_seed(2), plan=settings.level_plan(level),
                   centre_of=centre_of, coarse=None if level == 0 else video[0])
    return seen


def test_a_finer_level_trains_a_share_of_its_windows_hidden_whole_and_the_coarsest_none():
    settings = Settings(levels=2, channels=8, window_frames=2, train_crop=8, train_steps=40, refine_train_steps=40,
                        refine_levels=1, refine_hidden_share=0.25, reveal_prior=True)
    finer = [bool(mask.all()) for mask in hidden_windows(settings, 1)]
    assert 4 <= sum(finer) <= 18  # about a quarter of 40
    assert not any(mask.all() for mask in hidden_windows(settings, 0))
    assert not any(mask.all() for mask in hidden_windows(settings.replace(refine_hidden_share=0.0), 1))


def test_the_weight_average_follows_the_weights_at_its_ramped_decay():
    source = torch.nn.Linear(2, 1)
    average = WeightAverage(source, decay=0.9)
    start = source.weight.detach().clone()
    with torch.no_grad():
        source.weight.add_(1.0)
    average.update()  # the first update's decay is 1 / 10
    assert torch.allclose(average.module.weight, start + 0.9)
    for _ in range(200):
        average.update()
    assert torch.allclose(average.module.weight, source.weight)  # the decay is capped, the average converges
    assert not average.module.weight.requires_grad
