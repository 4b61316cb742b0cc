"""Coarse to fine: level sizes, no leakage at any level, resume inside a finer level."""
import pytest
import torch

from conftest import level_stacks, tiny_shot
from infusion.engine.method.inpaint import inpaint
from infusion.engine.method.levels import finer_window, inpaint_levels
from infusion.engine.method.presets import preset
from infusion.engine.method.progress import IntervalFinished, ShotMeasured, StepProgress
from infusion.engine.method.pyramid import level_shapes, scale_known, upscale_video
from infusion.engine.storage.checkpoint_file import CheckpointFile, load_checkpoint

SETTINGS = preset("test", working_size=16, refine_levels=2, refine_factor=2.0, refine_steps=100, refine_intervals=2,
                  tile_size=16, tile_overlap=4, variants=2, seed=3)


def test_level_shapes_run_from_the_working_size_to_the_shot_at_most_a_factor_apart():
    settings = preset("preview")
    assert level_shapes(360, 640, settings) == [(36, 64), (114, 202), (360, 640)]
    assert level_shapes(40, 60, settings) == [(40, 60)]  # smaller than the working size: one level
    assert level_shapes(360, 640, settings.replace(refine_levels=0)) == [(36, 64)]  # the paper: one level
    shapes = level_shapes(2160, 4096, preset("test"))  # 128x in all: refine_levels=3 caps it, equal steps
    assert shapes[-1] == (2160, 4096) and len(shapes) == 4 and shapes[0] == (17, 32)
    assert all(abs(b[1] / a[1] - 128 ** (1 / 3)) < 0.05 for a, b in zip(shapes, shapes[1:]))
    assert len(level_shapes(2160, 4096, preset("test", refine_levels=9))) == 1 + 4  # 4x apart at most


def test_scaling_down_never_lets_a_hidden_pixel_reach_a_known_one():
    video, hole = tiny_shot(height=32, width=32)
    frames = video.permute(1, 0, 2, 3)
    junk = torch.where(hole[:, None], torch.full_like(frames, 0.9), frames)
    a, small = scale_known(frames, hole, (11, 13))
    b, _ = scale_known(junk, hole, (11, 13))
    assert torch.equal(a, b) and bool(small.any()) and bool((a[small[:, None].expand_as(a)] == 0).all())


def test_a_finer_level_starts_from_the_level_below_and_keeps_known_pixels():
    video, hole = tiny_shot(height=32, width=32)
    stacks = level_stacks(video, hole, SETTINGS)
    assert [tuple(v.shape[-2:]) for v, _ in stacks] == [(16, 16), (32, 32)]
    result = inpaint_levels(stacks, SETTINGS)
    fine_video, fine_hole = stacks[-1]
    assert result.variants.shape == (2, 3) + tuple(fine_video.shape[1:])
    assert torch.equal(result.variants[:, :, ~fine_hole], fine_video[None][:, :, ~fine_hole].expand(2, -1, -1))


def test_nothing_under_the_matte_leaks_into_a_finer_level():
    video, hole = tiny_shot(height=32, width=32)
    coarse = upscale_video(inpaint(*level_stacks(video, hole, SETTINGS)[0], SETTINGS).variants, (32, 32))
    junk = torch.where(hole[None], torch.full_like(video, -0.7), video)
    first = inpaint(video, hole, SETTINGS, coarse=coarse, level=1, levels=2).variants
    second = inpaint(junk, hole, SETTINGS, coarse=coarse, level=1, levels=2).variants
    assert torch.equal(first, second)


def test_a_finer_level_needs_the_level_below_and_the_coarsest_refuses_one():
    video, hole = tiny_shot(height=32, width=32)
    with pytest.raises(ValueError, match="needs"):
        inpaint(video, hole, SETTINGS, level=1)
    with pytest.raises(ValueError, match="takes no"):
        inpaint(video, hole, SETTINGS, coarse=torch.zeros((2,) + tuple(video.shape)))


def test_progress_names_the_level():
    video, hole = tiny_shot(height=32, width=32)
    events = []
    inpaint_levels(level_stacks(video, hole, SETTINGS), SETTINGS, progress=events.append)
    steps = [e for e in events if isinstance(e, StepProgress)]
    previews = [e for e in events if isinstance(e, IntervalFinished)]
    assert {(e.level, e.levels) for e in steps} == {(0, 2), (1, 2)}
    assert [(e.level, e.interval) for e in previews] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert tuple(previews[-1].preview.shape[-2:]) == (32, 32)


class Stop(Exception):
    pass


@pytest.mark.parametrize("settings", [SETTINGS, SETTINGS.replace(ema_decay=0.9, refine_clone=1.0)],
                         ids=["trained weights", "averaged weights and cloned detail"])
def test_a_run_stopped_inside_a_finer_level_resumes_there_bit_identical(tmp_path, settings):
    video, hole = tiny_shot(height=32, width=32)
    stacks = level_stacks(video, hole, settings)

    def checkpoints(level):
        return CheckpointFile(tmp_path / f"level{level}.pt")

    def stop_in_level_one(event):
        if isinstance(event, IntervalFinished) and event.level == 1:
            raise Stop()

    uninterrupted = inpaint_levels(stacks, settings).variants
    with pytest.raises(Stop):
        inpaint_levels(stacks, settings, checkpoints=checkpoints, progress=stop_in_level_one)
    assert load_checkpoint(tmp_path / "level1.pt")["finished_intervals"] == 1
    resumed_steps = []
    resumed = inpaint_levels(stacks, settings, checkpoints=checkpoints,
                             progress=lambda e: resumed_steps.append(e) if isinstance(e, StepProgress) else None)
    assert torch.equal(resumed.variants, uninterrupted)
    assert {(e.level, e.interval) for e in resumed_steps} == {(1, 1)}  # only what was left


def test_a_finer_level_works_on_the_hole_box_grown_by_a_tile():
    hole = torch.zeros(3, 100, 120, dtype=torch.bool)
    hole[0, 40:50, 30:35] = True
    hole[2, 45:60, 70:80] = True  # the box spans every frame's hole
    assert finer_window(hole, 16) == (slice(24, 76), slice(14, 96))
    assert finer_window(hole, 100) == (slice(0, 100), slice(0, 120))  # kept inside the frame


def test_a_prior_that_does_not_predict_the_shot_is_dropped_at_every_level_and_the_run_says_so():
    """Fresh noise in every frame: its reveal prior's error is far above ``prior_drop``, so the
    run is the one without the prior, bit for bit, at the coarsest level and the finer one; with
    ``prior_drop`` 0 the same shot keeps the prior (as an input only) and fills differently."""
    generator = torch.Generator().manual_seed(1)
    video = torch.rand(3, 6, 32, 32, generator=generator) * 2 - 1
    _, hole = tiny_shot(height=32, width=32)
    stacks = level_stacks(video, hole, SETTINGS)
    without = inpaint_levels(stacks, SETTINGS.replace(reveal_prior=False)).variants
    for drop, choice in ((0.5, "dropped at 0.5"), (0.0, "as an input only")):
        events = []
        result = inpaint_levels(stacks, SETTINGS.replace(prior_drop=drop), progress=events.append)
        said = [e.description for e in events if isinstance(e, ShotMeasured) and "reveal prior" in e.description]
        assert len(said) == 1 and choice in said[0] and result.prior_dropped is (drop > 0.0)
        assert torch.equal(result.variants, without) is (drop > 0.0)
