import pytest

from infusion.engine.method.presets import PRESETS, preset
from infusion.engine.method.settings import Settings, describe_differences


def test_presets_are_valid_and_paper_is_the_paper():
    paper = preset("paper")
    assert (paper.intervals, paper.interval_length, paper.sample_steps) == (20, 50, 50)
    assert (paper.train_steps, paper.window_frames, paper.working_size, paper.learning_rate) == (10_000, 20, 432, 1e-4)
    assert set(PRESETS) >= {"test", "preview", "standard", "paper"}


@pytest.mark.parametrize("changes, match", [
    ({"intervals": 7}, "divide"), ({"sample_steps": 51}, "sample_steps"), ({"variants": 0}, "variants"),
    ({"chunk_frames": 4, "chunk_overlap": 4}, "chunk_overlap"), ({"learning_rate": 0}, "learning_rate"),
])
def test_invalid_settings_are_refused_with_the_reason(changes, match):
    with pytest.raises(ValueError, match=match):
        Settings(**changes)


def test_round_trip_and_unknown_keys():
    settings = preset("preview", seed=4)
    assert Settings.from_dict(settings.to_dict()) == settings
    with pytest.raises(ValueError, match="unknown settings: bogus"):
        Settings.from_dict({"bogus": 1})
    with pytest.raises(ValueError, match="unknown preset"):
        preset("fastest")


def test_differences_are_described():
    saved = preset("test").result_fields()
    assert describe_differences(saved, preset("test")) is None
    assert "seed: 0 -> 3" in describe_differences(saved, preset("test", seed=3))
