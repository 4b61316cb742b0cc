"""How a centred network's output becomes x0: a correction of a guess of the fill, the centre.

The centre of a pixel is what the level already knows about it: at the coarsest level the
reveal prior (engine/method/prior.py: the shot's own view of that place in other frames, else a
smooth spatial fill), at a finer level the level below, upsampled, replaced, where the level
below agrees with this level's prior, by that prior: a revealed background comes back sharp in
that frame's own pixels, and a smooth fill keeps the hole's edge at this level's resolution, not
only the level below's blur of them.
The true pixel is the centre
plus a residual whose spread ``d`` is measured on the shot (``centre_fit``). Given
x_t = sqrt(ab) x0 + sqrt(1 - ab) noise, the best linear guess of x0 under that prior is

    centre + skip(t) (x_t - sqrt(ab) centre),   skip = sqrt(ab) d^2 / (ab d^2 + 1 - ab),

which is x_t itself at low noise and the centre at high noise (the Wiener filter, as in the
preconditioning of Karras et al., EDM). The network adds a correction scaled by that guess's own
error, out(t) = d sqrt(1 - ab) / sqrt(ab d^2 + 1 - ab). An untrained network thus already samples
the centre plus grain of the right strength, and training has only to shape that grain into the
shot's texture and motion: what a few hundred steps on crops can do.

The spread is measured for two kinds of pixel: those the prior copies from another frame (a
revealed background is close to its centre) and the rest; the centre's reach channel tells them
apart. And it is measured in spatial bands (engine/method/bands.py), as the Wiener filter is
best applied band by band (at the finer levels; the coarsest level takes white noise's
shares, which give every band the whole's gains: one band, computed without splitting): noise
is white, so at low noise a band the shot has little of (the fine detail of smooth water, of a
soft gradient) is mostly noise and its guess keeps the centre there. One
band for all kept x_t, so the chain's last step left its noise (sqrt(1 - ab) = 0.01 at t = 0)
in the fill, many times the truth's fine detail on smooth textures (`infusion eval`'s detail 29
on the waves clip, 300 on flicker). The correction's bands are scaled alike, but for the
smoothest, which keeps the whole spread's scale.

And it is measured along colour axes (engine/method/colour_axes.py): the principal directions
of the distance's colour, each with its share of it; the Wiener guess and the correction work
along them. The noise in x_t is independent in R, G and B; the shot's distance from its
centre mostly lies along one colour (grey, or a texture's tint). With one spread for the three
channels an untrained level kept x_t's noise in every colour, and where the shot is smooth it
showed as coloured speckle (confetti over the sky of the eval's ``sea`` clip, red and violet
flecks on bbb's dark leaves, at 1:1); along the axes the colours the shot does not vary in keep
the centre's. With the regrain along the ring's colour axes too (engine/method/detail_match.py),
at the preview budget (plate resolution, 2026-12-07, means of seeds 0-2, PSNR / SSIM / detail,
before -> after): sea under still boxes 23.83 / 0.617 / 2.02 -> 23.85 / 0.639 / 1.15;
drifting noise 36.35 -> 36.39 and 38.75 -> 38.92 dB; cyclist under still boxes 20.45 / 0.660 ->
20.48 / 0.662; bbb under still boxes 17.84 / 0.322 / 0.46 -> 17.80 / 0.327 / 0.41 (dynamics
0.81 -> 0.56: the leaves' flecks had moved); flicker under moving blobs 35.58 -> 35.52 (one seed
-0.11); the rest within 0.04 dB.

And place by place (``local_spread``): one spread for the whole shot gave the sea clip's sky
box grain at the sea's strength (grey wisps, once the colour was right: they changed every
frame, dynamics 3.3). The fit's squared distances are summed in cells of ``LOCAL_CELL`` pixels;
each cell's RMS over the shot's is a factor on the spread there, the hole's cells taking the
smooth fill of their neighbours' logarithms (a box over the sky takes the sky's, one over the
sea the sea's). It travels with the centre as one more channel (``with_local_spread``), so
training windows and sampling tiles crop it with the centre; the network never sees it.
At the preview budget (plate resolution, 2026-12-07, means of seeds 0-2, PSNR / SSIM /
dynamics, the colour axes alone -> place by place too): sea under still boxes 23.85 / 0.639 /
3.26 -> 24.55 / 0.713 / 0.70 (the sky box clean at 1:1; Telea 23.82 / 0.739); drifting noise
36.39 -> 36.46 and 38.92 -> 39.07 dB; flicker under moving blobs 35.52 -> 35.61; cyclist under
still boxes 20.48 / 0.662 -> 20.53 / 0.665; bbb under still boxes 17.80 / 0.327 -> 17.79 / 0.325;
the rest within 0.02 dB.
"""
from __future__ import annotations

from typing import NamedTuple, Optional, Sequence, Tuple

import torch
from torch import nn

from .diffusion import Schedule
from .model import CENTRE_CHANNELS, CONDITION_CHANNELS, VIDEO_CHANNELS
from .bands import NOISE_SHARES, REACH, split
from .cells import cell_means, to_pixels
from .colour_axes import along, back, principal_axes, second_moments
from .prior import reveal_prior, shrink
from .pyramid import degrade
from .texture import donor_detail
from .training_masks import random_training_mask

MIN_DETAIL = 0.01  # a flat shot still gets a little grain, never a division by zero
SPREAD_MASKS = 4  # training masks drawn to measure the spread
AGREEMENT = 0.1  # network units: the level below agrees with this level's prior to about this
# ... and to about this, where the prior has no temporal source, when the coarsest level
# corrected the shot's prior (``trusted``: the prior predicts the shot): see ``_sharpen``.
TRUSTED_AGREEMENT = 0.3

Pair = Tuple[float, float]  # (where the centre has no temporal source, where it has one)
# The spread place by place (``local_spread``): measured in cells of LOCAL_CELL pixels with at
# least LOCAL_LEAST scored pixel values over the fit, carried into the hole from the cells
# around it, its factor on the shot's spread kept within LOCAL_RANGE.
LOCAL_CELL = 8
LOCAL_LEAST = 16.0
LOCAL_RANGE = (0.05, 3.0)


Axes = Tuple[Tuple[float, float, float], ...]  # three orthonormal colour directions, rows
RGB_AXES: Axes = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))


class Spread(NamedTuple):
    """How the shot sits around its centre, per kind of pixel (``Pair``): ``total``, the RMS
    distance; ``bands``, the RMS of that distance in each spatial band (``bands.split``), finest
    first; ``axes``, the principal colour directions of that distance, strongest first, and
    ``shares``, its RMS along each over its RMS per channel (their squares average 1)."""

    total: Pair
    bands: Tuple[Pair, ...]
    axes: Axes = RGB_AXES
    shares: Tuple[float, float, float] = (1.0, 1.0, 1.0)

    @classmethod
    def white(cls, total: Pair) -> "Spread":
        """A distance with no spatial or colour structure: each band holds white noise's share of it."""
        return cls(total, tuple((total[0] * share ** 0.5, total[1] * share ** 0.5) for share in NOISE_SHARES))

    def whitened(self) -> "Spread":
        """This spread with white noise's shares in the bands (its colour kept)."""
        return self._replace(bands=Spread.white(self.total).bands)

    def scaled(self, unsourced: float, sourced: float) -> "Spread":
        """Every figure of each kind times that kind's factor."""
        def times(pair: Pair) -> Pair:
            return pair[0] * unsourced, pair[1] * sourced
        return self._replace(total=times(self.total), bands=tuple(times(pair) for pair in self.bands))


def build_centre(video: torch.Tensor, hidden: torch.Tensor, below: Optional[torch.Tensor] = None,
                 below_factor: float = 1.0, prior: bool = True, offsets: Optional[torch.Tensor] = None,
                 trusted: bool = False, clone: float = 0.0) -> torch.Tensor:
    """The centre (B, CENTRE_CHANNELS, T, H, W) of ``video`` (B,3,T,H,W) where ``hidden``
    (B,T,H,W), with the reach of the reveal prior (zero without ``prior``). At the coarsest level
    (``below`` None) the prior itself; at a finer one ``below`` (B,3,T,H,W, the level below,
    upsampled; ``below_factor`` times smaller than this level) sharpened by the prior where it
    agrees with it, or wherever it was copied when ``trusted`` (``_sharpen``). ``offsets``: the
    camera's (engine/method/camera.py), each frame's map (B,T,2,3) or, for a pan alone, offset
    (B,T,2); None for a still camera. ``clone``: at a finer level, pixels whose guess lacks
    detail (the shot never reveals them, or the prior took little of its copy from the frames
    before and after that show them: ``lack``, the share of the copy's detail power the prior does
    not carry; a copy from one side only, poor, may mean something came into view, and is left
    smooth) get up to this much of the detail of a nearby patch (engine/method/texture.py).
    Nothing hidden is read."""
    if not prior:
        return torch.cat([below, torch.zeros_like(below[:, :1])], dim=1)
    known = torch.where(hidden[:, None], torch.zeros((), device=video.device), video)
    guess, reach, copy_share, two_sided = reveal_prior(known, hidden, offsets)
    if below is not None:
        seen = (~hidden).flatten(2).any(dim=2)[:, None, :, None, None] | (reach > 0)  # a frame the prior can fill
        guess = _sharpen(guess, seen, reach > 0, below, below_factor, trusted)
        if clone > 0.0:
            one_sided = (reach[:, 0] > 0) & ~two_sided[:, 0]
            lack = torch.where(one_sided, 0.0, 1.0 - copy_share[:, 0].square())  # s of the copy carries s^2 of its power
            guess = guess + donor_detail(known, hidden, lack, guess, below_factor, clone)
    return torch.cat([guess, reach], dim=1)


def _sharpen(prior: torch.Tensor, seen: torch.Tensor, copied: torch.Tensor, below: torch.Tensor, factor: float,
             trusted: bool) -> torch.Tensor:
    """The level below, sharpened by this level's reveal prior: the prior itself where the level
    below agrees with the prior's own blur (it copied what was revealed, or filled in smoothly
    what never was: the prior's spatial fill at this level keeps the hole's edge sharp), else
    the level below alone (it generated something else: the network adds that texture's detail,
    and the prior's belongs to a copy it did not make. Adding it there doubled the fill's detail
    and grain against the truth's on bbb under moving blobs: 2.2 and 1.8 against 1.15 and 1.03).
    Until 2026-12 only pixels whose whole footprint had a temporal source were sharpened; taking
    the spatial fill too scored, at the preview budget with the coarsest level correcting the
    prior, 16.26 / 0.338 against 15.66 / 0.312 (PSNR / SSIM) on bbb under still boxes and
    19.79 / 0.748 against 19.44 / 0.718 under moving blobs, and on the waves clip (a free
    coarsest level, which regenerates: the level below disagrees) 30.28 against 30.29 dB.
    ``seen`` (B,1,T,H,W): where the prior has a source at all (a frame with a known pixel, or a
    temporal one); a frame hidden whole has none, and there the level below stays.

    ``trusted``: the coarsest level corrected the shot's prior (it predicts the shot: a still
    background), so the level below is that prior, corrected and blurred. Then the prior is taken
    wherever it was copied from another frame (``copied``, B,1,T,H,W) and, elsewhere, over the
    wider ``TRUSTED_AGREEMENT``. At the preview budget (plate resolution, seed 0) on bbb, against
    AGREEMENT everywhere: under moving blobs copying scored 20.90 / 0.765 against 19.71 / 0.745
    (nearest-visible 20.77 / 0.763; the wider agreement alone 20.33 / 0.761), and under still
    boxes the wider agreement 17.97 / 0.348 against 17.24 / 0.351. Where the coarsest level
    regenerates (waves, cyclist) the wider agreement lost 1.3 and 0.5 dB under still boxes: there
    the level below made something else, and AGREEMENT stays."""
    blurred = degrade(prior, factor)
    disagreement = (below - blurred).square().mean(dim=1, keepdim=True)
    weight = torch.exp(-disagreement / (2.0 * (TRUSTED_AGREEMENT if trusted else AGREEMENT) ** 2))
    if trusted:
        weight = torch.where(copied, torch.ones_like(weight), weight)
    weight = weight * seen.to(prior.dtype)
    return weight * prior + (1.0 - weight) * below


class NoCorrection(nn.Module):
    """What a correcting network outputs before it trains (``UNet3D.zero_output``): zero, for
    free. An untrained level (``Settings.prior_train`` off, or no ``refine_train_steps``)
    samples with it, the same fill without running the network."""

    def forward(self, x_t: torch.Tensor, condition: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(x_t)


class Refinement(nn.Module):
    """Calls ``network`` like the U-Net, (x_t, condition, t) -> x0, for a centred network."""

    def __init__(self, network: nn.Module, schedule: Schedule, spread: Spread):
        super().__init__()
        self.network = network
        self.banded = spread.bands != Spread.white(spread.total).bands
        self.coloured = (spread.axes, spread.shares) != (RGB_AXES, (1.0, 1.0, 1.0))
        self.spread = spread._replace(total=tuple(max(float(d), MIN_DETAIL) for d in spread.total))
        self.register_buffer("alpha_bar", schedule.alpha_bar.float(), persistent=False)
        self.register_buffer("axes", torch.tensor(spread.axes, dtype=torch.float32), persistent=False)
        self.register_buffer("share_squares", torch.tensor(spread.shares, dtype=torch.float32).view(1, 3, 1, 1, 1) ** 2,
                             persistent=False)

    def _along(self, colours: torch.Tensor) -> torch.Tensor:
        """(B,3,T,H,W) R, G, B -> components along the spread's colour axes (unchanged without them)."""
        return along(self.axes, colours) if self.coloured else colours

    def _back(self, components: torch.Tensor) -> torch.Tensor:
        """The inverse of ``_along``."""
        return back(self.axes, components) if self.coloured else components

    def forward(self, x_t: torch.Tensor, condition: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        local = None
        if condition.shape[1] == CONDITION_CHANNELS + CENTRE_CHANNELS + 1:  # ``with_local_spread``'s
            local, condition = condition[:, -1:], condition[:, :-1]
        centre = condition[:, CONDITION_CHANNELS:CONDITION_CHANNELS + VIDEO_CHANNELS]
        reach = condition[:, CONDITION_CHANNELS + VIDEO_CHANNELS:CONDITION_CHANNELS + CENTRE_CHANNELS]
        ab = self.alpha_bar.to(x_t.device)[t].view(-1, 1, 1, 1, 1)
        sourced = reach > 0

        def gains(pair: Pair, noise_share: float) -> Tuple[torch.Tensor, torch.Tensor]:
            """(skip, out) of a band holding ``pair``'s spread of the shot and ``noise_share`` of
            the noise: its Wiener gain, and that guess's RMS error over the band's share of white
            noise (a white correction of unit RMS then has the error's strength in that band)."""
            signal = torch.where(sourced, torch.full_like(reach, pair[1] ** 2), torch.full_like(reach, pair[0] ** 2))
            if self.coloured:
                signal = signal * self.share_squares.to(signal.dtype)
            if local is not None:
                signal = signal * local.square()
            total = ab * signal + (1.0 - ab) * noise_share
            return ab.sqrt() * signal / total, (signal * (1.0 - ab) / total).sqrt()

        skip, out = gains(self.spread.total, 1.0)
        residual = self._along(x_t - ab.sqrt() * centre)
        correction = self._along(self.network(x_t, condition, t))
        if not self.banded:
            return centre + self._back(skip * residual + out * correction)
        change = torch.zeros_like(residual)
        for index, (band_residual, band_correction, pair, share) in enumerate(zip(
                split(residual), split(correction), self.spread.bands, NOISE_SHARES)):
            band_skip, band_out = gains(pair, share)
            change = change + band_skip * band_residual + (out if index == len(NOISE_SHARES) - 1 else band_out) * band_correction
        return centre + self._back(change)


class CentreFit(NamedTuple):
    """How the shot's known pixels that training masks hide sit around their centre: ``spread``,
    their RMS distance from it per kind and band (``Spread``); ``share``, their squared distance from it over
    their squared distance from the shot's mean colour, pooled (below 1 the centre predicts them
    better than a flat fill does; 1 for a shot with no such pixel)."""

    spread: Spread
    share: float
    local: Optional[torch.Tensor] = None


def local_spread(error: torch.Tensor, count: torch.Tensor) -> torch.Tensor:
    """The factor (H,W) on the shot's spread, place by place: the RMS distance from the centre of
    the scored pixels in each ``LOCAL_CELL`` cell (``error``, ``count``: their squared distances
    and their number, summed over frames and channels, (H,W)) over the whole shot's; a cell with
    fewer than ``LOCAL_LEAST`` takes the smooth fill of its neighbours' logarithms (the hole's
    cells take the ring's around them), cross-faded bilinearly from cell to cell."""
    overall = float(error.sum() / count.sum()) if float(count.sum()) > 0 else 0.0
    means = cell_means(error, count, LOCAL_CELL, LOCAL_LEAST, 1e-4 * overall) if overall > 0.0 else None
    if means is None:
        return torch.ones_like(error, dtype=torch.float32)
    return to_pixels((means / overall).sqrt().clamp(*LOCAL_RANGE), tuple(error.shape))


def with_local_spread(centre: torch.Tensor, local: Optional[torch.Tensor], rows: Sequence[slice],
                      cols: Sequence[slice]) -> torch.Tensor:
    """``centre`` (B,CENTRE_CHANNELS,T,H,W) with each window's part (``rows``, ``cols`` of the
    shot, one each per window) of the ``local`` factor (H,W) as one more channel, which
    ``Refinement`` reads and does not give the network; unchanged when there is none."""
    if local is None:
        return centre
    parts = torch.stack([local[r, c] for r, c in zip(rows, cols)]).to(centre.device, centre.dtype)
    return torch.cat([centre, parts[:, None, None].expand(-1, 1, centre.shape[2], -1, -1)], dim=1)


def centre_fit(video: torch.Tensor, hole: torch.Tensor, below: Optional[torch.Tensor], generator: torch.Generator,
               max_fraction: float, below_factor: float = 1.0, prior: bool = True,
               offsets: Optional[torch.Tensor] = None, trusted: bool = False, window: int = 0,
               clone: float = 0.0) -> CentreFit:
    """The fit of ``video`` (3,T,H,W) to its centre on known pixels that training masks hide
    (``SPREAD_MASKS`` of them, drawn from ``generator``), split by whether the centre has a
    temporal source there; ``below`` (3,T,H,W), ``below_factor``, ``prior``, ``offsets``
    (T,2,3) or (T,2), ``trusted`` and ``clone`` as for ``build_centre``. With ``window`` > 0 each mask
    covers that many consecutive frames, drawn at random, whose centre looks only at them (as a
    training window's does; the cost of a fit follows it), else the whole shot. A kind with no
    such pixel takes the other's spread, and MIN_DETAIL when there are none at all. The bands
    are measured where the blur reads hidden known pixels only, as shares of the distance there
    (white noise's shares when there is no such pixel)."""
    frames, height, width = hole.shape
    length = min(window or frames, frames)
    squares = torch.zeros(2, dtype=torch.float64)
    counts = torch.zeros(2, dtype=torch.float64)
    bands = torch.zeros(1 + len(NOISE_SHARES), 2, dtype=torch.float64)  # (distance, each band) x kind, band pixels
    flat = torch.zeros((), dtype=torch.float64)
    colour = torch.zeros(3, 3, dtype=torch.float64)  # the distances' colours: their second moments
    place_error = torch.zeros(height, width, dtype=torch.float64, device=video.device)  # over frames and channels
    place_count = torch.zeros(height, width, dtype=torch.float64, device=video.device)
    mean = video[:, ~hole].double().mean(dim=1) if bool((~hole).any()) else torch.zeros(video.shape[0], dtype=torch.float64)
    for _ in range(SPREAD_MASKS):
        start = int(torch.randint(0, frames - length + 1, (1,), generator=generator, device=generator.device)) \
            if length < frames else 0
        span = slice(start, start + length)
        clip, clip_hole = video[:, span], hole[span]
        hidden = random_training_mask(generator, length, height, width, max_fraction) | clip_hole
        centre = build_centre(clip[None], hidden[None], None if below is None else below[None, :, span], below_factor,
                              prior, None if offsets is None else offsets[None, span], trusted, clone)[0]
        scored = hidden & ~clip_hole
        sourced = centre[VIDEO_CHANNELS] > 0
        distance = torch.where(scored, clip - centre[:VIDEO_CHANNELS], torch.zeros((), device=clip.device)).double()
        parts = [part.square().sum(dim=0) for part in [distance] + split(distance)]
        colour += second_moments(distance[:, scored]).cpu()
        error = parts[0]
        place_error += error.sum(dim=0)
        place_count += scored.sum(dim=0).double() * video.shape[0]
        banded = shrink(scored[None], REACH)[0]
        flat += (clip[:, scored].double() - mean[:, None]).square().sum()
        for kind, kind_pixels in enumerate((~sourced, sourced)):
            where = scored & kind_pixels
            squares[kind] += error[where].sum()
            counts[kind] += where.sum() * video.shape[0]
            for band, part in enumerate(parts):
                bands[band, kind] += part[banded & kind_pixels].sum()
    if not bool((counts > 0).any()):
        return CentreFit(Spread.white((MIN_DETAIL, MIN_DETAIL)), 1.0)
    values = [float((squares[k] / counts[k]).sqrt()) if counts[k] > 0 else None for k in range(2)]
    total = (values[0] if values[0] is not None else values[1], values[1] if values[1] is not None else values[0])
    shares = [tuple(float((bands[1 + band, k] / bands[0, k]).sqrt()) for band in range(len(NOISE_SHARES)))
              if bands[0, k] > 0 else None for k in range(2)]
    if shares == [None, None]:
        spread = Spread.white(total)
    else:
        shares = [own or other for own, other in zip(shares, shares[::-1])]
        spread = Spread(total, tuple((total[0] * unsourced, total[1] * sourced) for unsourced, sourced in zip(*shares)))
    return CentreFit(spread._replace(**colour_spread(colour)), float(squares.sum() / flat) if float(flat) > 0 else 1.0,
                     local_spread(place_error.cpu(), place_count.cpu()))


def colour_spread(moments: torch.Tensor) -> dict:
    """``Spread``'s ``axes`` and ``shares`` from the ``second_moments`` of the distances' colours
    (nothing when they are all zero: RGB's)."""
    axes, squares = principal_axes(moments)
    if float(squares.sum()) <= 0.0:
        return {}
    return {"axes": tuple(tuple(float(v) for v in row) for row in axes),
            "shares": tuple(float(share) for share in (squares / squares.mean()).sqrt())}
