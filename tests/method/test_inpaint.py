import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from conftest import tiny_shot
from infusion.engine.storage.checkpoint_file import CheckpointFile, load_checkpoint
from infusion.engine.method.inpaint import inpaint
from infusion.engine.method.presets import preset
from infusion.engine.method.progress import IntervalFinished, ShotMeasured, StepProgress

SETTINGS = preset("test")
WORKER = Path(__file__).parents[1] / "resume_worker.py"


def test_pixels_outside_the_matte_come_back_identical(shot):
    video, hole = shot
    result = inpaint(video, hole, SETTINGS)
    for variant in result.variants:
        assert torch.equal(variant[:, ~hole], video[:, ~hole])
        assert variant[:, hole].abs().max() <= 1.0
        assert not torch.equal(variant[:, hole], torch.zeros_like(variant[:, hole]))


@pytest.mark.parametrize("fill", ["noise", "huge", "nan"])
def test_nothing_under_the_matte_leaks_into_the_output(shot, fill):
    video, hole = shot
    reference = inpaint(video, hole, SETTINGS).variants
    tampered = video.clone()
    values = {"noise": torch.randn(3, int(hole.sum())), "huge": torch.full((3, int(hole.sum())), 1e6),
              "nan": torch.full((3, int(hole.sum())), float("nan"))}[fill]
    tampered[:, hole] = values
    assert torch.equal(inpaint(tampered, hole, SETTINGS).variants, reference)


def test_runs_are_deterministic_and_seeds_matter(shot):
    video, hole = shot
    first = inpaint(video, hole, SETTINGS).variants
    assert torch.equal(first, inpaint(video, hole, SETTINGS).variants)
    assert not torch.equal(first, inpaint(video, hole, SETTINGS.replace(seed=1)).variants)


def test_variants_differ_and_mean_is_their_average(shot):
    video, hole = shot
    result = inpaint(video, hole, SETTINGS.replace(variants=3))
    assert result.variants.shape == (3, 3) + tuple(hole.shape)
    assert not torch.equal(result.variants[0], result.variants[1])
    assert torch.allclose(result.mean(), result.variants.mean(0))


def test_whole_shot_longer_than_a_window_is_sampled_in_chunks():
    video, hole = tiny_shot(frames=14, height=16, width=16)
    settings = SETTINGS.replace(window_frames=4, chunk_frames=6, chunk_overlap=2)
    result = inpaint(video, hole, settings).variants[0]
    assert result.shape == video.shape
    assert torch.equal(result[:, ~hole], video[:, ~hole])
    assert bool(torch.isfinite(result).all())


def test_progress_reports_steps_losses_and_previews(shot):
    video, hole = shot
    events = []
    inpaint(video, hole, SETTINGS, progress=events.append)
    steps = [e for e in events if isinstance(e, StepProgress)]
    previews = [e for e in events if isinstance(e, IntervalFinished)]
    assert {e.phase for e in steps} == {"train", "sample"}
    assert all(e.loss is not None and e.loss >= 0 for e in steps if e.phase == "train")
    assert [e.interval for e in previews] == [0, 1]
    assert previews[0].preview.shape == (1, 3) + tuple(hole.shape)
    assert steps[-1].remaining == 0 and all(e.elapsed >= 0 for e in steps)


def test_raising_from_progress_stops_the_run(shot):
    video, hole = shot

    def cancel(event):
        if isinstance(event, StepProgress) and event.phase == "sample":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        inpaint(video, hole, SETTINGS, progress=cancel)


@pytest.mark.parametrize("problem, match", [
    ("empty", "empty"), ("full", "every pixel"), ("nan", "NaN"), ("range", r"\[-1, 1\]"), ("shape", "shaped"),
])
def test_bad_shots_get_errors_that_name_the_problem(shot, problem, match):
    video, hole = shot
    if problem == "empty":
        hole = torch.zeros_like(hole)
    elif problem == "full":
        hole = torch.ones_like(hole)
    elif problem == "nan":
        video = video.clone()
        video[0, 0, 0, 0] = float("nan")
    elif problem == "range":
        video = video * 3
    else:
        video = video[:2]
    with pytest.raises(ValueError, match=match):
        inpaint(video, hole, SETTINGS)


def test_checkpoint_loads_weights_only_and_refuses_other_settings(shot, tmp_path):
    video, hole = shot
    checkpoint = tmp_path / "checkpoint.pt"
    first = inpaint(video, hole, SETTINGS, checkpoint=CheckpointFile(checkpoint)).variants
    saved = load_checkpoint(checkpoint)
    assert saved["finished_intervals"] == SETTINGS.intervals
    # A finished checkpoint yields the finished result again without training.
    assert torch.equal(inpaint(video, hole, SETTINGS, checkpoint=CheckpointFile(checkpoint)).variants, first)
    with pytest.raises(ValueError, match="other settings.*seed"):
        inpaint(video, hole, SETTINGS.replace(seed=5), checkpoint=CheckpointFile(checkpoint))
    with pytest.raises(ValueError, match="another shot"):
        inpaint(video.flip(-1), hole, SETTINGS, checkpoint=CheckpointFile(checkpoint))
    checkpoint.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="cannot be read"):
        inpaint(video, hole, SETTINGS, checkpoint=CheckpointFile(checkpoint))


def run_worker(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(WORKER), *args], stdout=subprocess.PIPE, text=True, **kwargs)


def test_sigkill_mid_run_then_restart_is_bit_identical(tmp_path):
    uninterrupted = run_worker(str(tmp_path / "a.pt"), str(tmp_path / "a.out"))
    assert uninterrupted.wait(timeout=120) == 0

    checkpoint = tmp_path / "b.pt"
    victim = run_worker(str(checkpoint), str(tmp_path / "b.out"), "30")
    assert victim.stdout.readline().strip() == "interval 0 done"
    assert victim.stdout.readline().strip() == "interval 1 done"
    time.sleep(0.2)  # now sleeping after interval 1, then training interval 2
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(timeout=30)
    assert load_checkpoint(checkpoint)["finished_intervals"] == 2
    assert not (tmp_path / "b.out").exists()

    resumed = run_worker(str(checkpoint), str(tmp_path / "b.out"))
    lines = resumed.stdout.read().split()
    assert resumed.wait(timeout=120) == 0
    assert lines == "interval 2 done interval 3 done".split()  # resumed after the last finished interval

    expected = torch.load(tmp_path / "a.out", weights_only=True)["variants"]
    actual = torch.load(tmp_path / "b.out", weights_only=True)["variants"]
    assert torch.equal(expected, actual)


def test_sigkill_at_random_moments_never_corrupts_the_checkpoint(tmp_path):
    checkpoint = tmp_path / "c.pt"
    for delay in (0.9, 1.3, 1.7):
        victim = run_worker(str(checkpoint), str(tmp_path / "c.out"), stderr=subprocess.DEVNULL)
        time.sleep(delay)
        victim.kill()
        victim.wait(timeout=30)
        if checkpoint.exists():
            assert load_checkpoint(checkpoint)["finished_intervals"] >= 1
    finisher = run_worker(str(checkpoint), str(tmp_path / "c.out"))
    assert finisher.wait(timeout=120) == 0
    reference = run_worker(str(tmp_path / "d.pt"), str(tmp_path / "d.out"))
    assert reference.wait(timeout=120) == 0
    assert torch.equal(torch.load(tmp_path / "c.out", weights_only=True)["variants"],
                       torch.load(tmp_path / "d.out", weights_only=True)["variants"])


def test_the_coarsest_level_corrects_a_prior_that_predicts_the_shot_and_says_so():
    """A still, smooth scene is predicted by its reveal prior: the coarsest network corrects it.
    Fresh noise in every frame is not: the network is free, and the run says which it chose (and
    the result tells the finer levels)."""
    generator = torch.Generator().manual_seed(0)
    coarse = torch.rand(3, 1, 4, 4, generator=generator) * 2 - 1
    still = torch.nn.functional.interpolate(coarse, size=(32, 32), mode="bilinear")[:, :, None].expand(3, 1, 6, 32, 32)
    changing = torch.rand(3, 6, 32, 32, generator=generator) * 2 - 1
    hole = torch.zeros(6, 32, 32, dtype=torch.bool)
    hole[:, 8:20, 10:22] = True
    for video, choice, corrects in ((still[:, 0].contiguous(), "corrects it", True),
                                    (changing, "as an input only", False)):
        found = []
        result = inpaint(video, hole, SETTINGS.replace(refine_levels=0, prior_trust=0.5),
                         progress=lambda event: found.append(event))
        said = [event.description for event in found if isinstance(event, ShotMeasured) and "reveal prior" in event.description]
        assert len(said) == 1 and choice in said[0] and result.corrects_prior is corrects


def _ramp() -> torch.Tensor:
    ramp = torch.linspace(0.0, 1.0, 32)
    return (0.5 * (ramp[None, :] + ramp[:, None])).expand(3, 6, 32, 32).clone()


def _moving_hole() -> torch.Tensor:
    """A 12 px box that moves 3 px a frame: most of what it hides, other frames show."""
    hole = torch.zeros(6, 32, 32, dtype=torch.bool)
    for frame in range(6):
        hole[frame, 8:20, 2 + 3 * frame:14 + 3 * frame] = True
    return hole


@pytest.mark.parametrize("kind, trains", [("ramp", False), ("noise", True)])
def test_a_coarsest_level_that_corrects_the_prior_samples_untrained_when_asked(kind, trains):
    """A ramp is predicted by the reveal prior (the level corrects it): with ``prior_train`` off
    it samples every interval without training, its fill the Wiener guess around the prior; a
    free network (white noise, the prior dropped) trains every interval all the same."""
    video = _ramp() if kind == "ramp" else torch.rand(3, 6, 32, 32, generator=torch.Generator().manual_seed(0))
    hole = _moving_hole()
    events = []
    settings = SETTINGS.replace(train_steps=4, prior_train=False, prior_drop=0.5, refine_levels=0)
    result = inpaint(video, hole, settings, progress=events.append)
    trained = {e.interval for e in events if isinstance(e, StepProgress) and e.phase == "train"}
    sampled = {e.interval for e in events if isinstance(e, StepProgress) and e.phase == "sample"}
    assert trained == (set(range(settings.intervals)) if trains else set())
    assert sampled == set(range(settings.intervals))
    said = [e.description for e in events if isinstance(e, ShotMeasured) and "reveal prior" in e.description]
    assert len(said) == 1 and ("untrained" in said[0]) != trains
    assert result.corrects_prior != trains and bool(torch.isfinite(result.variants).all())
    if not trains:  # the guess around the prior: the ramp runs on through the hole
        assert float((result.variants[0] - video)[:, hole].abs().mean()) < 0.1


def test_a_run_stopped_after_an_untrained_interval_resumes_bit_identical(tmp_path):
    """A coarsest level that samples untrained (``prior_train`` off) keeps its checkpoint per
    interval like any other: stopped after the first, the resumed run ends as the uninterrupted one."""
    video, hole = _ramp(), _moving_hole()
    settings = SETTINGS.replace(train_steps=4, prior_train=False, refine_levels=0)
    expected = inpaint(video, hole, settings).variants

    def stop(event):
        if isinstance(event, IntervalFinished):
            raise KeyboardInterrupt

    checkpoint = CheckpointFile(tmp_path / "checkpoint.pt")
    with pytest.raises(KeyboardInterrupt):
        inpaint(video, hole, settings, checkpoint=checkpoint, progress=stop)
    resumed = inpaint(video, hole, settings, checkpoint=checkpoint)
    assert torch.equal(resumed.variants, expected)
