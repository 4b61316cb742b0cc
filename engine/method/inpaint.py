"""Interval training interleaved with sampling, checkpointed after every interval.

The network is trained on the noisiest interval, then used at once to sample the whole shot
through that interval; training goes on (same weights, same optimizer) on the next interval, and
so on down to t = 0. After each interval one atomic checkpoint holds the weights, the optimizer,
the sampler state x_t of every variant, every generator state and the settings, so a run killed
at any moment resumes from its last finished interval and ends bit-identical (on the CPU) to an
uninterrupted run with the same seed.

Works on tensors in the network encoding ([-1, 1]); the known values are first spread over all
of [-1, 1] and the result mapped back (engine/method/value_range.py), so previews and the output are in
the caller's encoding and pixels outside the hole come back exactly as given. Files, colour and
resolution are the business of engine/plates/.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Dict, Optional, Sequence

import torch
from torch import nn

from . import diffusion
from .acceleration import Acceleration
from .averaging import WeightAverage
from .camera import CameraMotion, crop_maps, measure_camera
from .checkpoint import CheckpointStore
from .model import UNet3D
from .progress import IntervalFinished, ProgressCallback, ProgressClock, ShotMeasured, StepProgress
from .refinement import NoCorrection, Refinement, Spread, build_centre, centre_fit, with_local_spread
from .sampling import sample_steps
from .settings import Settings, describe_differences
from .training import CentreOf, Where, train_interval
from .value_range import ValueRange

CHECKPOINT_FORMAT = 1


@dataclass
class InpaintResult:
    """variants: (K, 3, T, H, W) on the CPU, hole filled, every other pixel equal to the input;
    corrects_prior: the coarsest level predicted x0 as a correction of the shot's reveal prior
    (the shot's prior predicts it: engine/method/refinement.py), which its finer levels follow;
    prior_dropped: the coarsest level dropped the prior (``settings.prior_drop``), and so do they."""

    variants: torch.Tensor
    corrects_prior: bool = False
    prior_dropped: bool = False

    def mean(self) -> torch.Tensor:
        """The mean of the variants (higher PSNR, less texture: the paper's Table 2)."""
        return self.variants.mean(dim=0)


def validate_shot(video: torch.Tensor, hole: torch.Tensor) -> None:
    """Raise ValueError naming the problem if the shot cannot be inpainted."""
    if video.dim() != 4 or video.shape[0] != 3:
        raise ValueError(f"video must be shaped (3, frames, height, width), got {tuple(video.shape)}")
    if hole.shape != video.shape[1:] or hole.dtype != torch.bool:
        raise ValueError(f"hole must be a bool tensor shaped {tuple(video.shape[1:])}, got {hole.dtype} {tuple(hole.shape)}")
    if not bool(hole.any()):
        raise ValueError("the matte is empty: there is nothing to inpaint")
    if bool(hole.all()):
        raise ValueError("the matte covers every pixel of every frame: there is nothing to learn from")
    visible = video[:, ~hole]
    if not bool(torch.isfinite(visible).all()):
        raise ValueError("the video has NaN or infinite values outside the matte (encode it first)")
    if visible.numel() and float(visible.abs().max()) > 1.0 + 1e-6:
        raise ValueError("the video must lie in [-1, 1] outside the matte (the network encoding)")


def shot_digest(video: torch.Tensor, hole: torch.Tensor, coarse: Optional[torch.Tensor] = None) -> str:
    """A fingerprint of what the network may see: the video with the hole zeroed, the hole and,
    at a finer level, the level below."""
    digest = hashlib.sha256()
    digest.update(str(tuple(video.shape)).encode())
    for tensor in (video, hole) if coarse is None else (video, hole, coarse):
        digest.update(tensor.detach().to("cpu").contiguous().numpy().tobytes())
    return digest.hexdigest()


def level_seed(seed: int, level: int) -> int:
    """The seed of level ``level``'s network and generators (level 0: ``seed`` itself)."""
    return seed if level == 0 else (seed * 1_000_033 + 104_729 * level) % (2 ** 63)


def variant_seed(seed: int, variant: int) -> int:
    return (seed * 1_000_003 + 7919 * (variant + 1)) % (2 ** 63)


class Run:
    """The mutable state of one inpainting run: network, optimizer, generators, sampler state."""

    def __init__(self, settings: Settings, video: torch.Tensor, device: torch.device, acceleration: Acceleration,
                 schedule: diffusion.Schedule, level: int = 0, start: Optional[torch.Tensor] = None,
                 spread: Optional[Spread] = None, centred: bool = False, trains: bool = True):
        """``start`` (K,3,T,H,W), at a finer level: the level below upsampled, noised to the
        first step of this level's chain (else x_t starts as pure noise); ``centred``: the network
        reads a centre; ``spread``, for one that corrects it: the spread of the shot around it
        (engine/method/refinement.py); ``trains`` False: a correcting network is never trained,
        and samples with its zero output (``NoCorrection``)."""
        self.settings = settings
        self.device = device
        seed = level_seed(settings.seed, level)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.model = UNet3D.from_settings(settings, centred=centred)
            if spread is not None:
                self.model.zero_output()
        self.model.to(device)
        self.average = WeightAverage(self.model, settings.ema_decay) if settings.ema_decay > 0.0 else None

        def centred_network(network: UNet3D) -> nn.Module:
            """``network`` run the fast way (its own parameters), as a correction of the centre
            when the level has a spread (engine/method/refinement.py)."""
            if spread is None:
                return acceleration.wrap(network)
            return Refinement(acceleration.wrap(network) if trains else NoCorrection(), schedule, spread)

        self.network = centred_network(self.model)  # trains
        self.sampler = self.network if self.average is None else centred_network(self.average.module)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=settings.learning_rate)
        self.train_generator = torch.Generator(device=device).manual_seed(seed)
        self.variant_generators = [
            torch.Generator(device=device).manual_seed(variant_seed(seed, k)) for k in range(settings.variants)
        ]
        shape = (3,) + tuple(video.shape[1:])
        self.x_t = torch.stack([torch.randn(shape, generator=g, device=device) for g in self.variant_generators])
        if start is not None:  # a finer level: from the level below, partly noised
            first = settings.level_plan(level).chain_steps - 1
            self.x_t = diffusion.q_sample(schedule, start, torch.full((len(start),), first, device=device), self.x_t)
        self.finished_intervals = 0

    def state(self, digest: str) -> Dict[str, object]:
        return {
            "format": CHECKPOINT_FORMAT,
            "settings": self.settings.result_fields(),
            "shot_digest": digest,
            "finished_intervals": self.finished_intervals,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "average": None if self.average is None else self.average.state_dict(),
            "x_t": self.x_t.detach().cpu(),
            "train_generator": self.train_generator.get_state(),
            "variant_generators": [g.get_state() for g in self.variant_generators],
        }

    def restore(self, saved: Dict[str, object], digest: str, source: str) -> None:
        if saved.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f"checkpoint {source} has format {saved.get('format')}, expected {CHECKPOINT_FORMAT}")
        differences = describe_differences(saved["settings"], self.settings)
        if differences:
            raise ValueError(f"checkpoint {source} was made with other settings ({differences}); use another work dir")
        if saved["shot_digest"] != digest:
            raise ValueError(f"checkpoint {source} belongs to another shot or matte; use another work dir")
        self.model.load_state_dict(saved["model"])
        self.optimizer.load_state_dict(saved["optimizer"])
        if self.average is not None:
            self.average.load_state_dict(saved["average"])
        self.x_t = saved["x_t"].to(self.device)
        self.train_generator.set_state(saved["train_generator"])
        for generator, state in zip(self.variant_generators, saved["variant_generators"]):
            generator.set_state(state)
        self.finished_intervals = int(saved["finished_intervals"])


def prior_choice_text(share: float, trust: float, drop: float, trained: bool = True) -> str:
    """What the coarsest level does with the reveal prior, in words (``trained``: whether a level
    that corrects it trains, ``Settings.prior_train``)."""
    if prior_dropped(share, drop):
        return (f"reveal prior: its error on hidden known pixels is {share:.2f} of their variance "
                f"(dropped at {drop:g} or more): every level reads the masked video alone")
    choice = ("corrects it" + ("" if trained else ", untrained (its Wiener guess around the prior)")
              if share < trust else "reads it as an input only (it regenerates)")
    return (f"reveal prior: its error on hidden known pixels is {share:.2f} of their variance "
            f"(trust below {trust:g}): the coarsest level {choice}")


def prior_dropped(share: float, drop: float) -> bool:
    """Whether a reveal prior with this ``CentreFit.share`` is dropped (``Settings.prior_drop``; 0 never)."""
    return drop > 0.0 and share >= drop


def inpaint(
    video: torch.Tensor,
    hole: torch.Tensor,
    settings: Settings,
    device: str = "cpu",
    checkpoint: Optional[CheckpointStore] = None,
    progress: Optional[ProgressCallback] = None,
    acceleration: Optional[Acceleration] = None,
    coarse: Optional[torch.Tensor] = None,
    level: int = 0,
    levels: int = 1,
    below_factor: float = 1.0,
    motion: Optional[CameraMotion] = None,
    corrects_prior: bool = False,
    prior_dropped_below: bool = False,
) -> InpaintResult:
    """Fill ``hole`` (T,H,W bool, True = unknown) of ``video`` (3,T,H,W in [-1, 1]).

    One level of a coarse-to-fine run (engine/method/levels.py). At level 0 (the default, the
    paper) the whole chain runs from noise, its network centred on the reveal prior when
    ``settings.reveal_prior``; at a finer level ``coarse`` (K,3,T,H,W, the level below upsampled
    to this size, one per variant, ``below_factor`` times smaller before that) centres the network
    and, noised, starts its shorter chain (``settings.level_plan``). With ``checkpoint`` the run saves after every
    interval and resumes from there when started again. ``progress`` receives StepProgress and
    IntervalFinished events; raising from it (a cancel, say) stops the run, keeping the last
    finished interval on disk. ``acceleration`` defaults to the engine's choice for the device
    (engine/method/acceleration.py); a resumed run must use the same one to end bit-identical.
    ``motion``: the camera's, in this level's pixels (measured here when ``settings.camera`` is
    "auto" and none is given). ``corrects_prior``, at a finer level: the coarsest level's
    ``InpaintResult.corrects_prior``; this level then takes its own prior more readily
    (engine/method/refinement.py, ``_sharpen``). ``prior_dropped_below``: the coarsest level's
    ``InpaintResult.prior_dropped``; this level then reads no prior either.
    """
    validate_shot(video, hole)
    plan = settings.level_plan(level)
    if plan.conditioned != (coarse is not None):
        raise ValueError(f"level {level} {'needs' if plan.conditioned else 'takes no'} upsampled fill of the level below")
    if coarse is not None and tuple(coarse.shape) != (settings.variants,) + tuple(video.shape):
        raise ValueError(f"the level below must be shaped {(settings.variants,) + tuple(video.shape)}, got {tuple(coarse.shape)}")
    torch_device = torch.device(device)
    observed = torch.where(hole[None], torch.zeros(()), video.float()).to(torch_device)
    hole = hole.to(torch_device)
    values = ValueRange.of_known(observed, hole)
    video = torch.where(hole[None], torch.zeros((), device=torch_device), values.to_network(observed))
    below = None if coarse is None else values.to_network(coarse.float().to(torch_device)).clamp(-1.0, 1.0)
    digest = shot_digest(video, hole, below)

    schedule = diffusion.linear_schedule(settings.diffusion_steps)
    centre: Optional[torch.Tensor] = None
    spread: Optional[Spread] = None
    centre_of: Optional[CentreOf] = None
    trusted = corrects_prior and coarse is not None
    prior = settings.reveal_prior and not prior_dropped_below
    dropped = False
    if plan.centred:
        if motion is None:
            motion = measure_camera(video, hole, settings, progress)
        offsets = None if motion is None or motion.still else motion.maps().to(torch_device)  # (T,2,3)
        local_factor: Optional[torch.Tensor] = None  # the spread place by place, once the fit has measured it

        def centre_at(clips: torch.Tensor, hidden: torch.Tensor, level_below: Optional[torch.Tensor],
                      wheres: Sequence[Where]) -> torch.Tensor:
            moved = None if offsets is None else torch.stack([
                crop_maps(offsets[frames], rows.start or 0, cols.start or 0) for frames, rows, cols in wheres])
            centre = build_centre(clips, hidden, level_below, below_factor, prior, moved, trusted, settings.refine_clone)
            return with_local_spread(centre, local_factor, [rows for _, rows, _ in wheres], [cols for _, _, cols in wheres])

        centre_of = centre_at
        if plan.trust > 0.0:
            spread_masks = torch.Generator(device=torch_device).manual_seed(level_seed(settings.seed, level) + 1)
            fit = centre_fit(video, hole, None if below is None else below[0], spread_masks,
                             settings.max_train_mask_fraction, below_factor, prior, offsets, trusted,
                             plan.fit_frames, settings.refine_clone)
            dropped = coarse is None and prior_dropped(fit.share, settings.prior_drop)
            if dropped:  # the plain network of the paper, no centre
                plan, centre_of = replace(plan, centred=False), None
            elif fit.share < plan.trust:
                local_factor = fit.local
                copied = plan.copy_detail if trusted else 1.0  # trusted, a sourced centre is a copy
                spread = fit.spread.scaled(settings.refine_detail, settings.refine_detail * copied)
                if coarse is None:  # one band: its last noise is scaled up smooth, and bands there cost bbb 1.5 dB
                    spread = spread.whitened()
                corrects_prior = corrects_prior or coarse is None
                if coarse is None and not settings.prior_train:
                    plan = replace(plan, train_steps=0)
            if level == 0 and progress is not None:
                progress(ShotMeasured(prior_choice_text(fit.share, plan.trust, settings.prior_drop,
                                                        settings.prior_train)))
    if plan.centred:
        variants = settings.variants
        centre = centre_at(video[None].expand(variants, -1, -1, -1, -1), hole[None].expand(variants, -1, -1, -1), below,
                           [(slice(None), slice(None), slice(None))] * variants)
    # Chosen once the plan's training budget is final (``prior_train`` may have cut it).
    acceleration = acceleration or Acceleration.for_run(torch_device, plan.train_steps * plan.intervals)
    run = Run(settings, video, torch_device, acceleration, schedule, level, below, spread, plan.centred,
              trains=plan.train_steps > 0)
    if checkpoint is not None:
        saved = checkpoint.load()
        if saved is not None:
            run.restore(saved, digest, checkpoint.describe())

    intervals = plan.intervals
    remaining_intervals = intervals - run.finished_intervals
    clock = ProgressClock(remaining_intervals * plan.train_steps, remaining_intervals * plan.sample_steps)

    def report(phase: str, interval: int, step: int, steps: int, loss: Optional[float]) -> None:
        clock.tick(phase)
        if progress is not None:
            progress(StepProgress(phase, interval, intervals, step, steps, loss, clock.elapsed, clock.remaining(),
                                  level, levels))

    for interval in range(run.finished_intervals, intervals):
        highest, lowest = diffusion.interval_bounds(plan.chain_steps, intervals, interval)
        clock.mark()
        if plan.train_steps > 0:
            train_interval(
                run.network, run.optimizer, schedule, video, hole, settings, lowest, highest, run.train_generator,
                on_step=lambda step, loss: report("train", interval, step, plan.train_steps, loss),
                plan=plan, coarse=None if below is None else below[0], centre_of=centre_of, average=run.average,
            )
        timesteps = diffusion.interval_timesteps(highest, lowest, plan.sample_steps)
        clock.mark()
        run.x_t, estimate = sample_steps(
            run.sampler, schedule, run.x_t, video, hole, timesteps, lowest - 1, run.variant_generators,
            settings.chunk_frames, settings.chunk_overlap,
            on_step=lambda step: report("sample", interval, step, len(timesteps), None),
            centre=centre, tile=plan.tile_size, tile_overlap=plan.tile_overlap,
        )
        run.finished_intervals = interval + 1
        if checkpoint is not None:
            checkpoint.save(run.state(digest))
        if progress is not None:
            progress(IntervalFinished(interval, intervals, values.from_network(estimate.detach()).cpu(), clock.elapsed,
                                      level, levels))

    filled = torch.where(hole[None, None], values.from_network(run.x_t.clamp(-1.0, 1.0)), observed[None])
    return InpaintResult(variants=filled.cpu(), corrects_prior=corrects_prior,
                         prior_dropped=dropped or prior_dropped_below)
