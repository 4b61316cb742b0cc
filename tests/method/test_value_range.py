import torch

from conftest import tiny_shot
from infusion.engine.method.inpaint import inpaint
from infusion.engine.method.presets import preset
from infusion.engine.method.value_range import MIN_SPAN, SIGMAS, ValueRange


def test_known_values_get_a_third_of_the_network_range_per_standard_deviation():
    generator = torch.Generator().manual_seed(0)
    video = (torch.randn(1, 4, 16, 16, generator=generator) * 0.05 - 0.4).repeat(3, 1, 1, 1)  # a grey plate, encoded
    hole = torch.zeros(4, 16, 16, dtype=torch.bool)
    hole[:, 4:9, 4:9] = True
    video[:, hole] = 5.0  # whatever lies under the matte is not looked at
    values = ValueRange.of_known(video, hole)
    stretched = values.to_network(video)[:, ~hole]
    assert abs(float(stretched.mean())) < 1e-5
    assert abs(float(stretched.std(dim=1, correction=0).max()) - 1.0 / SIGMAS) < 1e-5
    assert torch.allclose(values.from_network(values.to_network(video))[:, ~hole], video[:, ~hole], atol=1e-6)


def test_every_channel_of_a_strongly_coloured_plate_fits_the_band():
    # Green foliage: the channels' means lie far apart, each channel's spread small. A band
    # centred on the mean of all three cut off the green's highs and the red's lows.
    generator = torch.Generator().manual_seed(1)
    means = torch.tensor([-0.6, -0.1, -0.4])[:, None, None, None]
    video = torch.randn(3, 4, 16, 16, generator=generator) * 0.05 + means
    values = ValueRange.of_known(video, torch.zeros(4, 16, 16, dtype=torch.bool))
    stretched = values.to_network(video)
    for channel in range(3):
        assert float((stretched[channel].abs() > 1.0).double().mean()) < 0.01


def test_short_tailed_values_span_no_more_than_they_reach():
    video = torch.linspace(-0.7, -0.4, 2 * 8 * 8).reshape(1, 2, 8, 8).repeat(3, 1, 1, 1)  # uniform: 3 sigma overshoots
    values = ValueRange.of_known(video, torch.zeros(2, 8, 8, dtype=torch.bool))
    assert abs(values.low + 0.7) < 1e-6 and abs(values.high + 0.4) < 1e-6


def test_a_flat_plate_is_not_stretched_past_the_minimum_span():
    video = torch.full((3, 2, 4, 4), 0.2)
    values = ValueRange.of_known(video, torch.zeros(2, 4, 4, dtype=torch.bool))
    assert abs((values.high - values.low) - MIN_SPAN) < 1e-9
    assert abs(float(values.to_network(video).max())) < 1e-6


def test_a_range_widened_at_the_edge_stays_decodable():
    video = torch.full((3, 2, 4, 4), -1.0)
    values = ValueRange.of_known(video, torch.zeros(2, 4, 4, dtype=torch.bool))
    assert float(values.from_network(torch.full((1,), -1.0))) == -1.0


def test_a_shot_with_nothing_known_keeps_the_encoding():
    video = torch.rand(3, 2, 4, 4)
    values = ValueRange.of_known(video, torch.ones(2, 4, 4, dtype=torch.bool))
    assert (values.low, values.high) == (-1.0, 1.0)


def test_the_fill_of_a_narrow_plate_stays_inside_its_known_range():
    video, hole = tiny_shot()
    narrow = video * 0.1 - 0.5
    result = inpaint(narrow, hole, preset("test")).variants[0]
    known = narrow[:, ~hole]
    assert torch.equal(result[:, ~hole], known)
    assert float(result[:, hole].min()) >= float(known.min()) - 1e-6
    assert float(result[:, hole].max()) <= float(known.max()) + 1e-6
