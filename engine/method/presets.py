"""Named settings. Which presets sample fewer steps than the interval length (strided DDPM inside
each interval) is stated with each one; ``paper`` and ``standard`` take every step.
"""
from __future__ import annotations

from typing import Any, Dict

from .settings import Settings

PRESETS: Dict[str, Settings] = {
    # A few seconds on a CPU for a 6-frame 32x32 clip: a tiny network, 2 intervals of 500 steps
    # sampled with 2 strided steps each, 3 training steps per interval. For tests only.
    # Finer levels (up to 3, 4x apart) only on shots larger than the 32 px working size.
    "test": Settings(
        channels=8, intervals=2, sample_steps=2, train_steps=3, window_frames=6, learning_rate=1e-3,
        working_size=32, log_every=1, refine_levels=3, refine_steps=100, refine_intervals=1, refine_train_steps=3,
        refine_sample_steps=2, tile_size=64, tile_overlap=16, match_detail=1.0, match_contrast=1.5, reveal_prior=True,
        camera="auto", preset="test",
    ),
    # The built-in demo and quick looks on 2 CPU cores (README: what it costs): half-width
    # network, 10 intervals of 150 training steps sampled with 5 strided steps each, training on
    # two 8-frame 32x32 crops per step (on the CPU the second costs about what the oneDNN twin of
    # a single one does). A coarsest level that corrects the reveal prior does not train: its
    # network's zero output samples the Wiener guess around the prior (``prior_train``; a level
    # that drops the prior trains). Then up to two finer levels to the plate's own resolution,
    # each the last 200 steps of the chain in 2 intervals of 2 strided steps, untrained: each
    # step the Wiener guess around the level below sharpened by the prior, with detail cloned
    # where the shot never reveals the place or its copy is poor (``refine_clone``). 75 training steps an interval
    # there (2026-12-07, plate resolution, seeds 0-2) moved PSNR by at most 0.1 dB a run on the
    # six clips whose prior is corrected, for 25-35% more time; on waves the untrained levels
    # scored +0.06 dB (still boxes) and -0.28 dB (moving blobs, one seed -0.79) on the means.
    "preview": Settings(
        channels=16, intervals=10, sample_steps=5, train_steps=150, train_batch=2, window_frames=8, train_crop=32,
        learning_rate=1e-3, working_size=64, log_every=10, prior_train=False, refine_levels=2, refine_steps=200,
        refine_intervals=2, refine_train_steps=0, refine_sample_steps=2, refine_clone=1.0, match_detail=1.0,
        match_contrast=1.5, reveal_prior=True, prior_drop=0.5, camera="auto", preset="preview",
    ),
    # GPU default: the paper's network and full DDPM sampling, 2k steps per interval (the paper
    # found 2k enough on simple textures), then finer levels to the plate's resolution.
    "standard": Settings(train_steps=2_000, learning_rate=1e-4, refine_levels=3, refine_steps=200, refine_intervals=4,
                         refine_train_steps=1_000, refine_sample_steps=10, refine_clone=1.0, match_detail=1.0,
                         match_contrast=1.5, tile_size=256, tile_overlap=32, reveal_prior=True, prior_drop=0.5, camera="auto",
                         preset="standard"),
    # The paper: 20 intervals of 50 steps, every step sampled, 10k training steps per interval,
    # 20-frame windows, 432x240 working size, Adam at 1e-4, one level (scaled up to the plate).
    "paper": Settings(train_steps=10_000, learning_rate=1e-4, working_size=432, preset="paper"),
}


def preset(name: str, **overrides: Any) -> Settings:
    """The named preset with some fields overridden; an unknown name is an error that lists them."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    return PRESETS[name].replace(**overrides) if overrides else PRESETS[name]
