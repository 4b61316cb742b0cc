import torch

from conftest import tiny_shot
from infusion.engine.inpaint import inpaint
from infusion.engine.presets import preset
from infusion.engine.value_range import MIN_SPAN, ValueRange


def test_known_values_span_the_network_range_and_come_back():
    video = torch.rand(3, 4, 8, 8) * 0.3 - 0.7  # an ordinary plate: a small part of [-1, 1]
    hole = torch.zeros(4, 8, 8, dtype=torch.bool)
    hole[:, 2:5, 2:5] = True
    video[:, hole] = 5.0  # whatever lies under the matte is not looked at
    values = ValueRange.of_known(video, hole)
    stretched = values.to_network(video)[:, ~hole]
    assert abs(float(stretched.min()) + 1.0) < 1e-6 and abs(float(stretched.max()) - 1.0) < 1e-6
    assert torch.allclose(values.from_network(values.to_network(video))[:, ~hole], video[:, ~hole], atol=1e-6)


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
