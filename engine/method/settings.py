"""The one configuration object of a run: network, diffusion, training, sampling and working size.

Everything that changes the result lives here, so that a checkpoint can record it and a resumed
run can refuse settings that differ. Plain values only (no tensors), so it travels as JSON or
msgpack and loads from a checkpoint with ``weights_only=True``.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Tuple

from infusion.protocol.shot import CAMERAS  # their one home: the shot's camera choice offers the same


@dataclass(frozen=True)
class Settings:
    # Network (engine/method/model.py).
    levels: int = 4
    channels: int = 32
    embed_channels: int = 16

    # Diffusion (engine/method/diffusion.py): T steps split into equal intervals, noisiest first.
    diffusion_steps: int = 1000
    intervals: int = 20
    # Denoising steps actually taken inside each interval. Equal to the interval length means
    # plain ancestral DDPM over every step; fewer means strided DDPM (the posterior between
    # non-adjacent steps), which is exact in distribution for the chosen sub-sequence.
    sample_steps: int = 50

    # Training (engine/method/training.py).
    train_steps: int = 10_000  # per interval
    window_frames: int = 20  # consecutive frames per training sample (fewer if the shot is shorter)
    # Side of a random square spatial crop of each training window; 0 trains on whole frames (the
    # paper). The network is fully convolutional, so crops only cut the cost of a step.
    train_crop: int = 0
    # Windows per training step, through the network as one batch. On the CPU a second window
    # costs little more than the all-zero twin that a batch of one carries (engine/method/acceleration.py).
    train_batch: int = 1
    learning_rate: float = 1e-4
    # Sampling reads an exponential moving average of the weights with this decay per training
    # step (engine/method/averaging.py); 0 samples with the trained weights themselves.
    ema_decay: float = 0.0
    max_train_mask_fraction: float = 0.5

    # Sampling (engine/method/sampling.py).
    variants: int = 1
    chunk_frames: int = 0  # 0: the whole shot in one forward pass; else overlapping temporal chunks
    chunk_overlap: int = 8

    # Working resolution of the region of interest (longest side, pixels) at the coarsest level.
    working_size: int = 432

    # The reveal prior (engine/method/prior.py): the coarsest level's network also reads, for
    # every hidden pixel, what the shot shows there in the nearest frames where it is visible
    # (else a smooth spatial fill), and predicts a correction of it (engine/method/refinement.py).
    # Off is the paper: the network sees only the masked video.
    reveal_prior: bool = False
    # With the reveal prior, whether the coarsest level predicts x0 as a correction of it (the
    # Wiener guess around the prior, engine/method/refinement.py) or x0 itself, the prior being
    # only an input: it corrects when the prior's squared error on known pixels that training
    # masks hide is below ``prior_trust`` of their squared distance from the shot's mean colour
    # (``CentreFit.share``: the prior predicts the shot, as a still background revealed does),
    # else the network is free (a dynamic texture, whose stale reveals a correction copies while
    # a free network learns to regenerate them). 0 never corrects; 10 always does. Measured at the
    # preview budget (plate resolution, seed 0, PSNR / SSIM; the share as the coarsest level
    # measures it), 2026-12-05, with the prior that weighs its copy against the spatial fill:
    #   cyclist (share 0.31-0.33) corrects at 0.45: moving blobs 25.82 / 0.827 against 22.31 /
    #     0.729 free (nearest-visible 20.70 / 0.591), still boxes 20.38 / 0.653 against 18.74 /
    #     0.581 (Telea 18.72 / 0.659);
    #   waves (0.56-0.58) stays free: 35.22 / 0.960 under moving blobs, 30.25 / 0.926 under
    #     still boxes (Telea 24.24 and 21.83 dB); a correction copied stale waves (21.5 against
    #     34.0 dB with the copy-only prior before, 2026-12-01); since 2026-12-07 ``prior_drop``
    #     (below) drops that prior altogether in preview and standard;
    #   bbb (0.09) and flicker (0.05) correct at either threshold: bbb moving blobs 21.87 / 0.802
    #     (nearest-visible 20.77 / 0.763), flicker moving blobs 33.86 / 0.972 (Telea 30.11).
    # With the copy-only prior (2026-12-01) cyclist had to stay free (correcting 19.92 against
    # 21.51 dB under moving blobs) and 0.2 was the threshold.
    # A better rule than one share (per kind of pixel, or from the trained network's own error)
    # is open work.
    prior_trust: float = 0.45
    # Where that share is at least this, the reveal prior is dropped for the whole run: the
    # coarsest level's network reads the masked video alone, as the paper's, and the finer levels
    # are centred on the level below alone (no prior, no clone). 0 keeps it whatever its share. A
    # prior that predicts a dynamic texture this badly hurt it on average even as an input only:
    # at the preview budget (plate resolution, 2026-12-07, seeds 0-2, PSNR with / without) the
    # waves clip (share 0.56-0.68) under still boxes 31.56 / 34.07, 31.85 / 30.55, 30.84 / 33.06
    # (camera "still" 31.66 and no clone 31.00 with seed 0: neither is the cause), under moving
    # blobs 35.55 / 33.52, 34.53 / 35.28, 36.33 / 38.36: means 31.42 / 32.56 and 35.47 / 35.72,
    # one seed against another moving them by 2-4 dB. The shots whose prior is kept have shares
    # of 0.05-0.33 (bbb, flicker, cyclist, drifting noise 0.17).
    prior_drop: float = 0.0
    # Whether a coarsest level that corrects the reveal prior trains its network. Off, it samples
    # with the network's first output, zero: each step takes the Wiener guess around the prior
    # (engine/method/refinement.py); finer levels train as ``refine_train_steps`` says. At preview's budget (plate
    # resolution, 2026-12-07, seeds 0-2, means) the trained correction added nothing the scores
    # see: PSNR / SSIM with it and without, bbb under still boxes 17.72 / 0.319 and 17.78 / 0.322,
    # under moving blobs 21.90 / 0.802 and 21.89 / 0.802, cyclist under still boxes 19.47 / 0.634
    # and 20.44 / 0.656 (one seed lost 2.5 dB with training), under moving blobs 25.58 / 0.831 and
    # 25.61 / 0.833, flicker 31.54 / 35.57 and 31.56 / 35.55, in 43-69% of the time (README,
    # "Presets"). Half the training (intervals=5) was worse than none: bbb under still boxes 15.45 dB.
    prior_train: bool = True
    # How the reveal prior follows the camera (engine/method/camera.py): "still" looks a place up
    # at the same pixel in every frame; "auto" measures the camera's pan and zoom from the known
    # pixels and follows them (a camera whose measured motion does not explain the change between
    # frames, or is below a fraction of a pixel, is treated as still).
    camera: str = "still"

    # Coarse to fine (engine/method/levels.py, pyramid.py): finer levels up to the region's own
    # resolution, each an internal model conditioned on the level below (upsampled), add detail
    # and grain. A finer level runs only the chain's last ``refine_steps`` steps, starting from
    # the upsampled fill noised to that step: structure and motion are already there.
    refine_levels: int = 0  # the most finer levels; 0 is the paper (one level, scaled up after)
    refine_factor: float = 4.0  # the most one level enlarges the one below
    refine_steps: int = 200
    refine_intervals: int = 2
    refine_train_steps: int = 150  # per interval
    refine_sample_steps: int = 4  # per interval
    # The spread a centred network's prior assumes around its centre (the reveal prior, the level
    # below), as a fraction of what hiding known pixels shows (engine/method/refinement.py): below
    # 1 leaves the network less untextured noise to shape where its training budget is small. At
    # the preview budget on the shared plates 0.3 scored better than 0.75 on every case (PSNR
    # +0.2 to +1.0 dB, SSIM +0.05 to +0.12, dynamics nearer 1 on still mattes).
    refine_detail: float = 0.3
    # At a finer level that copies its prior (the coarsest level corrected it: refinement.py,
    # ``_sharpen``), the spread where the centre was copied from another frame, as a fraction of
    # ``refine_detail``'s: a copy already carries the plate's own grain, and the network's on top
    # of it doubled the fill's detail against the truth's (bbb under moving blobs: 2.24 at 1,
    # 1.56 at 0.3). Cut where the centre is the level below (cyclist), it lost 0.7 dB.
    refine_copy_detail: float = 0.3
    # A finer level's centre, where the shot never reveals the place or its copy from another
    # frame is a poor guess, gets up to this much of the
    # detail of a nearby patch of the shot (a clone brush: engine/method/texture.py) on top of the
    # level below; 0 none. Measured at the preview budget (plate resolution, seed 0, 2026-12-06;
    # PSNR / SSIM / detail / texture distance), none against 0.6: bbb under still boxes 17.15 /
    # 0.363 / 0.30 / 0.063 against 16.69 / 0.233 / 1.30 / 0.054 (the whole donor's detail, before it
    # was toned down to the surroundings' power: detail 2.2, SSIM 0.210),
    # cyclist under still boxes 20.40 / 0.657 / 0.96 / 0.044 against 20.27 / 0.644 / 1.03 / 0.042;
    # moving blobs (bbb, cyclist) and waves under still boxes within 0.03 dB. The box over bbb's
    # grass was a smooth green patch and is grass; PSNR and SSIM, which reward a blur where the
    # texture cannot be known, pay for it. 1 in the presets since each place's clone is toned
    # down to its own surroundings' detail (texture.py: figures there).
    refine_clone: float = 0.0
    # Last (after ``match_contrast``), the finished fill's detail bands are matched to the plate's
    # around the hole, scaled at most this much (engine/method/detail_match.py): 0 leaves the fill
    # as sampled (the paper), 1 only tones down a fill busier than the plate, above 1 also
    # sharpens a smoother one.
    match_detail: float = 0.0
    # First, the finished fill's smooth band's deviation from what the hole's edge implies is raised
    # toward the plate's spread around the hole, by at most this gain
    # (engine/method/contrast_match.py): 1 leaves the fill's coarse contrast as sampled (the paper).
    match_contrast: float = 1.0
    # The share of a finer level's training windows hidden whole. A finer level trains on small
    # crops whose random masks always leave known pixels near; deep inside a hole larger than a
    # crop it sees none, and a network never trained so there drifted in colour (a cyan disc
    # where the demo's buoy was). A window hidden whole teaches it what to add to the level
    # below with no context at all.
    refine_hidden_share: float = 0.25
    # Finer levels predict x0 in overlapping square tiles (only those that touch the hole),
    # cross-faded before the shared posterior step, so memory is bounded at any plate size.
    tile_size: int = 128
    tile_overlap: int = 32

    seed: int = 0
    log_every: int = 10  # training steps between two loss reads (a read syncs the device)

    # Free-form note of where these settings came from (preset name); does not change results.
    preset: str = field(default="custom", compare=False)

    def __post_init__(self) -> None:
        problems = []
        if self.levels < 1 or self.channels < 1 or self.embed_channels < 2 or self.embed_channels % 2:
            problems.append("levels and channels must be positive and embed_channels even")
        if self.intervals < 1 or self.diffusion_steps % self.intervals:
            problems.append(f"intervals ({self.intervals}) must divide diffusion_steps ({self.diffusion_steps})")
        elif not 1 <= self.sample_steps <= self.interval_length:
            problems.append(f"sample_steps must be between 1 and the interval length {self.interval_length}")
        if (self.train_steps < 0 or self.window_frames < 1 or self.learning_rate <= 0 or self.train_crop < 0
                or self.train_batch < 1):
            problems.append("train_steps >= 0, window_frames >= 1, train_crop >= 0, train_batch >= 1 and "
                            "learning_rate > 0 are required")
        if not 0.0 < self.max_train_mask_fraction < 1.0:
            problems.append("max_train_mask_fraction must lie in (0, 1)")
        if self.variants < 1:
            problems.append("variants must be at least 1")
        if self.chunk_frames < 0 or self.chunk_overlap < 0:
            problems.append("chunk_frames and chunk_overlap must not be negative")
        if self.chunk_frames and self.chunk_overlap >= self.chunk_frames:
            problems.append("chunk_overlap must be smaller than chunk_frames")
        if self.refine_levels < 0 or not self.refine_factor > 1.0 or self.refine_intervals < 1 or \
                not 1 <= self.refine_steps <= self.diffusion_steps or self.refine_steps % self.refine_intervals:
            problems.append("refine_levels >= 0, refine_factor > 1 and refine_intervals dividing refine_steps "
                            f"(at most {self.diffusion_steps}) are required")
        elif not 1 <= self.refine_sample_steps <= self.refine_steps // self.refine_intervals or self.refine_train_steps < 0:
            problems.append("refine_sample_steps must lie between 1 and refine_steps / refine_intervals, "
                            "refine_train_steps must not be negative")
        if not 0.0 <= self.refine_hidden_share < 1.0:
            problems.append("refine_hidden_share must lie in [0, 1)")
        if not 0.0 <= self.ema_decay < 1.0:
            problems.append("ema_decay must lie in [0, 1)")
        if not 0.0 <= self.refine_clone <= 1.0:
            problems.append("refine_clone must lie in [0, 1]")
        if not 0.0 <= self.match_detail <= 4.0:
            problems.append("match_detail must lie in [0, 4]")
        if not 1.0 <= self.match_contrast <= 4.0:
            problems.append("match_contrast must lie in [1, 4]")
        if not 0.0 < self.refine_detail <= 4.0 or not 0.0 < self.refine_copy_detail <= 1.0:
            problems.append("refine_detail must lie in (0, 4] and refine_copy_detail in (0, 1]")
        if self.tile_size < 16 or not 0 <= self.tile_overlap < self.tile_size:
            problems.append("tile_size must be at least 16 and tile_overlap in [0, tile_size)")
        if not 0.0 <= self.prior_trust <= 10.0:
            problems.append("prior_trust must lie in [0, 10]")
        if not 0.0 <= self.prior_drop <= 10.0:
            problems.append("prior_drop must lie in [0, 10]")
        if self.camera not in CAMERAS:
            problems.append(f"camera must be one of {', '.join(CAMERAS)}, got {self.camera!r}")
        if self.working_size < 8 or self.log_every < 1:
            problems.append("working_size must be at least 8 and log_every at least 1")
        if problems:
            raise ValueError("invalid settings: " + "; ".join(problems))

    @property
    def interval_length(self) -> int:
        return self.diffusion_steps // self.intervals

    def run_interval(self, level: int, interval: int) -> int:
        """The place of interval ``interval`` of level ``level`` among all intervals of a run."""
        return interval if level == 0 else self.intervals + (level - 1) * self.refine_intervals + interval

    def run_intervals(self, levels: int) -> int:
        """All intervals of a run of ``levels`` levels."""
        return self.run_interval(levels, 0) if levels > 1 else self.intervals

    def level_plan(self, level: int) -> "LevelPlan":
        """How level ``level`` (0 the coarsest) runs: the whole chain at level 0, its last
        ``refine_steps`` steps, conditioned on the level below and tiled, above."""
        if level == 0:
            return LevelPlan(self.diffusion_steps, self.intervals, self.train_steps, self.sample_steps, False,
                             self.reveal_prior, self.prior_trust if self.reveal_prior else 0.0, self.train_crop, 0, 0,
                             0.0, 1.0, 0)
        return LevelPlan(self.refine_steps, self.refine_intervals, self.refine_train_steps, self.refine_sample_steps,
                         True, True, math.inf, self.train_crop or self.tile_size, self.tile_size, self.tile_overlap,
                         self.refine_hidden_share, self.refine_copy_detail, self.window_frames)

    def training_window(self, frames: int, height: int, width: int, crop: Optional[int] = None) -> Tuple[int, int, int]:
        """(frames, height, width) of one training window on a shot of this size: the window
        length and the square crop (``crop``, else ``train_crop``; 0 the whole frame), each cut
        to the shot."""
        crop = self.train_crop if crop is None else crop
        return (min(self.window_frames, frames), min(crop or height, height), min(crop or width, width))

    def replace(self, **changes: Any) -> "Settings":
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> Dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: Dict[str, Any]) -> "Settings":
        """Settings from a plain dict; unknown keys are an error that names them."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown settings: {', '.join(unknown)}")
        return cls(**values)

    def result_fields(self) -> Dict[str, Any]:
        """The fields that change the output (everything but the preset label and log cadence)."""
        values = self.to_dict()
        values.pop("preset")
        values.pop("log_every")
        return values


@dataclass(frozen=True)
class LevelPlan:
    """One level's run. chain_steps: the steps of the chain it runs (the last ones, T-1 down to 0
    for the whole chain), split into ``intervals``; conditioned: the level starts from the level
    below, upsampled; centred: the network reads a guess of the fill, its centre (the level below,
    or at the coarsest level the reveal prior); trust: it predicts x0 as a correction of that
    centre when the centre's ``CentreFit.share`` is below this (inf: always; 0: never);
    train_crop: the side of a training crop (0 the whole frame; finer levels always train on
    crops); tile_size 0: sample the whole frame at once; hidden_share: the share of training
    windows hidden whole; copy_detail: when the level copies its prior, the spread where the
    centre was copied from another frame, as a fraction of the one measured there (before
    ``refine_detail``); fit_frames: the frames each mask of the centre's fit covers
    (refinement.py, ``centre_fit``; 0 the whole shot); train_steps 0: the level samples with its
    network untrained (``Settings.prior_train``, ``refine_train_steps``). The coarsest level fits
    on the whole shot (its share decides whether it corrects the prior, and ``prior_trust`` was
    set so; at the working size it costs a second); a finer level on training
    windows' length, as it trains: four whole-window priors at the plate's size were a fifth of a
    preview run."""

    chain_steps: int
    intervals: int
    train_steps: int
    sample_steps: int
    conditioned: bool
    centred: bool
    trust: float
    train_crop: int
    tile_size: int
    tile_overlap: int
    hidden_share: float
    copy_detail: float
    fit_frames: int


def describe_differences(saved: Dict[str, Any], current: "Settings") -> Optional[str]:
    """A readable list of result-changing settings that differ, or None when they agree."""
    now = current.result_fields()
    diffs = [f"{k}: {saved.get(k)!r} -> {now[k]!r}" for k in sorted(now) if saved.get(k) != now[k]]
    return "; ".join(diffs) if diffs else None
