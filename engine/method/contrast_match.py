"""The fill's coarse contrast raised toward the plate's around the hole.

At a small training budget the network regresses toward the mean: the finished fill's smooth
band (what ``bands.split`` leaves after ``MATCH_BANDS - 1`` octaves of detail) varies far less
inside the hole than the plate does around it. On the shared plates, preview's fill had about
half the ring's spread there (bbb under still boxes 0.087 against the ring's 0.174 and the
truth's 0.175, encoded units), and the ring predicted the truth's spread. So the smooth band's
deviation from a membrane fill of its own values on the hole's edge (``prior.membrane_fill``:
what the edge alone implies) is scaled, per variant and colour channel over the whole shot, by
the gain that brings the smooth band's variance in the hole to its variance on the ring of
known pixels beyond the band's reach (``detail_match.regions``), within [1, ``most_gain``]:
only ever raised, and then only part way. The membrane itself is kept, so the hole still meets
its edge and nothing outside the hole changes.

Why at most 1.5 in the presets: the ring over-states the hole's spread. Even the truth would be
given x1.0-3.2 (bbb 1.46 under still boxes, 1.78 under moving blobs; flicker 2.16 and 3.21),
and preview's fills were asked for x1.0-14, so the cap, not the match, sets the step's size.
Measured on preview's saved fills at plate resolution with ``infusion eval``'s scores (this
stage alone applied to the same fills, seeds 0 and 1, 2026-12-07; PSNR / dynamics / texture
distance, before -> cap 1.25 -> cap 1.5 -> cap 2, seed 0):

    bbb still boxes       17.75/.72/.078  17.79/.78/.078  17.82/.85/.077  17.89/1.00/.075
    bbb moving blobs      21.88/.49/.024  22.03/.59/.022  21.92/.73/.022  21.10/1.14/.030
    cyclist still boxes   20.38/.44/.044  20.45/.49/.040  20.43/.56/.036  20.11/.73/.032
    cyclist moving blobs  25.83/.48/.020  25.86/.51/.017  25.63/.55/.014  25.60/.56/.013
    flicker still boxes   30.37/.52/.014  31.04/.57/.012  31.63/.63/.011  32.39/.78/.008
    flicker moving blobs  33.93/.57/.010  34.76/.62/.009  35.59/.68/.008  36.98/.81/.005

Seed 1's changes lay within 0.15 dB of seed 0's. With 1.5 the texture distance fell on every
case but waves and the motion energy rose toward the truth's, for at most 0.2 dB (cyclist under
moving blobs, and under still boxes with seed 1); 2 cost
bbb under moving blobs 0.8 dB and overshot its motion. Waves, whose fill already had the
plate's spread, were asked for x1.0-1.2 whatever the cap and lost 0.07-1.0 dB (detail 1.42 ->
1.77 against the truth's 1): a fill that is already busy is made busier, the step's known cost.
"""
from __future__ import annotations

from typing import NamedTuple

import torch

from .bands import split
from .detail_match import MATCH_BANDS, MATCH_REACH, regions
from .prior import membrane_fill


class ContrastMatch(NamedTuple):
    """The matched ``variants`` (K,3,T,H,W) and the gain of the smooth band's deviation, averaged
    over variants and channels (1.0 where the hole or its ring is too thin to measure)."""

    variants: torch.Tensor
    gain: float

    def describe(self) -> str:
        """What the match did, in words, for the run's log."""
        return f"coarse contrast matched to the plate around the hole: x{self.gain:.2f}"


def match_contrast(variants: torch.Tensor, hole: torch.Tensor, most_gain: float) -> ContrastMatch:
    """``variants`` (K,3,T,H,W), filled where ``hole`` (T,H,W) says, with the hole's smooth band
    pulled away from the membrane of its edge by ``contrast_gain`` (at most ``most_gain``).
    Unchanged outside the hole, and everywhere when the ring is too thin to measure."""
    where = regions(hole, MATCH_REACH)
    if where is None:
        return ContrastMatch(variants, 1.0)
    _, ring = where
    matched = variants.clone()
    gains = []
    for variant in range(variants.shape[0]):
        image = variants[variant].float()
        smooth = torch.stack([split(channel, MATCH_BANDS)[-1] for channel in image])
        edge = membrane_fill(smooth[None], ~hole[None])[0]
        deviation = smooth - edge
        for channel in range(image.shape[0]):
            gain = contrast_gain(edge[channel][hole], deviation[channel][hole], smooth[channel][ring], most_gain)
            gains.append(gain)
            matched[variant, channel] = torch.where(hole, image[channel] + (gain - 1.0) * deviation[channel],
                                                    image[channel]).to(variants.dtype)
    return ContrastMatch(matched, sum(gains) / len(gains))


def contrast_gain(edge: torch.Tensor, deviation: torch.Tensor, ring: torch.Tensor, most_gain: float) -> float:
    """The gain g for which ``edge + g * deviation`` (the hole's pixels) has the variance of
    ``ring``, clamped to [1, ``most_gain``]; 1 when no such gain exists."""
    edge, deviation = edge.double(), deviation.double()
    target = float(ring.double().var()) if ring.numel() > 1 else 0.0
    spread = float(deviation.var()) if deviation.numel() > 1 else 0.0
    if spread <= 0.0:
        return 1.0
    covariance = float(((edge - edge.mean()) * (deviation - deviation.mean())).mean())
    # var(edge + g dev) = var(edge) + 2 g cov + g^2 var(dev): the larger root of it = target
    discriminant = covariance * covariance - spread * (float(edge.var()) - target)
    if discriminant <= 0.0:
        return 1.0
    return min(max((-covariance + discriminant ** 0.5) / spread, 1.0), most_gain)
