"""The fill's coarse contrast raised toward the plate's around the hole: only raised, within a
bound, never a pixel outside the hole changed, nothing done where the hole is too thin."""
import torch

from infusion.engine.method.bands import split
from infusion.engine.method.contrast_match import match_contrast
from infusion.engine.method.detail_match import MATCH_BANDS, MATCH_REACH, regions
from infusion.engine.method.prior import membrane_fill


def shot(contrast: float):
    """(1,3,T,H,W) broad blobs (a 40 px wave in both directions) whose deviation from the
    membrane of a square hole's edge is scaled by ``contrast`` inside the hole, and the hole."""
    frames, size = 3, 112
    y = torch.arange(size, dtype=torch.float32)[:, None]
    x = torch.arange(size, dtype=torch.float32)[None, :]
    t = torch.arange(frames, dtype=torch.float32)[:, None, None]
    waves = 0.4 * torch.sin(2 * torch.pi * (x / 40 + t / 7)) * torch.cos(2 * torch.pi * y / 40)
    video = torch.stack([waves, 0.5 * waves, -waves])[None]
    hole = torch.zeros(frames, size, size, dtype=torch.bool)
    hole[:, 36:76, 36:76] = True
    edge = membrane_fill(video, ~hole[None])
    return torch.where(hole, edge + contrast * (video - edge), video), hole


def smooth_spread(video, where):
    """The variance of the smooth band of ``video``'s first channel on ``where``."""
    return float(split(video[0, 0], MATCH_BANDS)[-1][where].var())


def test_a_flat_fill_gets_its_coarse_contrast_raised_toward_the_ring_and_nothing_outside_changes():
    flat, hole = shot(contrast=0.3)
    _, ring = regions(hole, MATCH_REACH)
    before = smooth_spread(flat, hole)
    assert before < 0.5 * smooth_spread(flat, ring)
    match = match_contrast(flat, hole, 4.0)
    assert 1.5 < match.gain < 4.0 and match.describe().startswith("coarse contrast matched")
    after, around = smooth_spread(match.variants, hole), smooth_spread(flat, ring)
    assert before + 0.4 * (around - before) < after < around  # toward the ring's, not past it
    assert torch.equal(match.variants[..., ~hole], flat[..., ~hole])


def test_the_gain_stops_at_the_bound_and_a_fill_as_busy_as_the_plate_is_kept():
    flat, hole = shot(contrast=0.3)
    bounded = match_contrast(flat, hole, 1.2)
    assert abs(bounded.gain - 1.2) < 1e-9
    assert smooth_spread(flat, hole) < smooth_spread(bounded.variants, hole) < 1.2 ** 2 * smooth_spread(flat, hole)
    busy, _ = shot(contrast=3.0)
    kept = match_contrast(busy, hole, 4.0)
    assert kept.gain == 1.0 and torch.equal(kept.variants, busy)


def test_a_hole_too_thin_for_the_smooth_band_is_left_as_it_is():
    flat, _ = shot(contrast=0.3)
    thin = torch.zeros(flat.shape[2:], dtype=torch.bool)
    thin[:, 50:54, 20:90] = True
    match = match_contrast(flat, thin, 4.0)
    assert match.gain == 1.0 and torch.equal(match.variants, flat)
