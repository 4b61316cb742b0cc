"""The reveal prior: what other frames show at a hidden place, else a smooth spatial fill."""
import torch

import torch.nn.functional as F

from infusion.engine.method.camera import as_maps
from infusion.engine.method.prior import RELAX_SWEEPS, _relax, cross_fade, membrane_fill, reveal_prior


def test_a_hidden_pixel_takes_the_nearest_visible_frames_interpolated_in_time():
    video = torch.arange(5, dtype=torch.float32).view(1, 1, 5, 1, 1).expand(1, 3, 5, 1, 1).contiguous()
    hidden = torch.tensor([False, True, True, True, False]).view(1, 5, 1, 1)
    junk = torch.where(hidden[:, None], torch.full_like(video, 99.0), video)
    prior, reach, *_ = reveal_prior(junk, hidden)
    assert torch.allclose(prior[0, 0, :, 0, 0], torch.arange(5, dtype=torch.float32))  # 0 .. 4 on a line
    assert torch.allclose(reach[0, 0, :, 0, 0], torch.tensor([1.0, 0.5, 1 / 3, 0.5, 1.0]))


def test_a_pixel_seen_on_one_side_only_copies_that_side():
    video = torch.tensor([7.0, 0.0, 0.0]).view(1, 1, 3, 1, 1).expand(1, 3, 3, 1, 1).contiguous()
    hidden = torch.tensor([False, True, True]).view(1, 3, 1, 1)
    prior, reach, *_ = reveal_prior(video, hidden)
    assert torch.equal(prior[0, 0, :, 0, 0], torch.tensor([7.0, 7.0, 7.0]))
    assert torch.allclose(reach[0, 0, :, 0, 0], torch.tensor([1.0, 0.5, 1 / 3]))


def test_a_pixel_never_visible_gets_a_smooth_fill_from_its_surroundings_only():
    video = torch.zeros(1, 3, 2, 9, 9)
    video[..., :, :4] = 1.0  # left half bright, right half dark
    hidden = torch.zeros(1, 2, 9, 9, dtype=torch.bool)
    hidden[:, :, 3:6, 3:6] = True
    junk = torch.where(hidden[:, None], torch.full_like(video, 50.0), video)
    prior, reach, *_ = reveal_prior(junk, hidden)
    inside = prior[0, 0, 0, 3:6, 3:6]
    assert bool((reach[0, 0, :, 3:6, 3:6] == 0).all())
    assert bool((inside >= 0).all() and (inside <= 1).all())  # between what surrounds it, nothing from under it
    assert float(inside[:, 0].mean()) > float(inside[:, 2].mean())  # brighter on the bright side
    assert torch.equal(prior[:, :, ~hidden[0]], video[:, :, ~hidden[0]])


def test_membrane_fill_keeps_known_pixels_and_fills_odd_sized_frames():
    generator = torch.Generator().manual_seed(0)
    video = torch.rand(2, 3, 1, 7, 11, generator=generator)
    known = torch.rand(2, 1, 7, 11, generator=generator) > 0.7
    filled = membrane_fill(video, known)
    keep = known[:, None].expand_as(video)
    assert torch.equal(filled[keep], video[keep])
    assert bool(torch.isfinite(filled).all()) and float(filled.min()) >= 0.0 and float(filled.max()) <= 1.0


def test_membrane_fill_continues_a_ramp_across_a_hole():
    """A linear ramp is harmonic: the fill of a hole in it is the ramp itself, not a blend of
    coarse averages, up to the sweeps' convergence."""
    ramp = torch.linspace(-1.0, 1.0, 40).view(1, 1, 1, 1, 40).expand(1, 3, 2, 30, 40).clone()
    known = torch.ones(1, 2, 30, 40, dtype=torch.bool)
    known[:, :, 8:22, 10:30] = False
    filled = membrane_fill(torch.where(known[:, None], ramp, torch.zeros(())), known)
    error = (filled - ramp)[:, :, ~known[0]].abs()
    assert float(error.max()) < 0.02, float(error.max())  # the ramp spans 2.0; push-pull missed by 0.16
    assert torch.equal(filled[:, :, known[0]], ramp[:, :, known[0]])


def test_a_relaxation_sweep_is_the_four_neighbour_mean_with_the_border_repeated():
    """The in-place sweeps against the stencil written plainly, on a grid whose free pixels
    touch every side and corner (where the repeated border matters)."""
    generator = torch.Generator().manual_seed(1)
    image = torch.rand(3, 2, 6, 9, generator=generator)
    fixed = torch.rand(3, 1, 6, 9, generator=generator) > 0.5
    fixed[..., 0, 0] = fixed[..., -1, -1] = fixed[..., 0, -1] = fixed[..., -1, 0] = False
    mean = torch.where(fixed, torch.rand(3, 2, 6, 9, generator=generator), torch.zeros(()))
    expected = image
    for _ in range(RELAX_SWEEPS):
        padded = F.pad(expected, (1, 1, 1, 1), mode="replicate")
        neighbours = 0.25 * (padded[..., :-2, 1:-1] + padded[..., 2:, 1:-1] + padded[..., 1:-1, :-2] + padded[..., 1:-1, 2:])
        expected = torch.where(fixed, mean, neighbours)
    assert torch.allclose(_relax(image, fixed, mean), expected, atol=1e-6)
    assert torch.equal(_relax(image, fixed, mean)[fixed.expand_as(image)], mean[fixed.expand_as(image)])


def _hole_moving_across(frames: int, size: int) -> torch.Tensor:
    hidden = torch.zeros(1, frames, size, size, dtype=torch.bool)
    for t in range(frames):
        hidden[0, t, 8:16, 2 + 3 * t:10 + 3 * t] = True
    return hidden


def test_a_still_background_is_copied_from_the_frames_that_reveal_it():
    """Static texture: the copy from other frames predicts the ring around the hole, the smooth
    fill does not, so the prior is (nearly) the copy, the texture itself."""
    generator = torch.Generator().manual_seed(1)
    texture = torch.rand(1, 3, 1, 24, 24, generator=generator).expand(1, 3, 6, 24, 24).contiguous()
    hidden = _hole_moving_across(6, 24)
    prior, *_ = reveal_prior(torch.where(hidden[:, None], torch.zeros(()), texture), hidden)
    inside = hidden[:, None].expand_as(texture)
    assert float((prior - texture)[inside].abs().mean()) < 0.02
    smooth = membrane_fill(torch.where(hidden[:, None], torch.zeros(()), texture), ~hidden)
    assert float((smooth - texture)[inside].abs().mean()) > 0.15  # what the copy spares


def test_a_place_that_changes_every_frame_takes_the_smooth_fill_not_a_stale_copy():
    """Every frame shows a different flat colour: a copy from another frame is wrong by the
    change, the ring around the hole says so, and the prior is that frame's own colour."""
    colours = torch.tensor([0.1, 0.9, 0.3, 0.7, 0.2, 0.8])
    video = colours.view(1, 1, 6, 1, 1).expand(1, 3, 6, 24, 24).contiguous()
    hidden = _hole_moving_across(6, 24)
    prior, reach, *_ = reveal_prior(torch.where(hidden[:, None], torch.zeros(()), video), hidden)
    inside = hidden[:, None].expand_as(video)
    assert bool((reach[:, :, 1:][hidden[:, None, 1:]] > 0).all())  # a copy existed for these pixels
    assert float((prior - video)[inside].abs().max()) < 0.05


def test_the_prior_is_the_same_whether_its_work_is_done_all_at_once_or_piece_by_piece(monkeypatch):
    """The membrane fill in pieces of frames, and a moving camera's sources searched nearest
    frame first, a frame at a time, instead of every pair of frames at once, only bound memory
    and time: the prior comes out bit-identical, for a pan and for a pan with a zoom."""
    from infusion.engine.method import prior as module
    from infusion.engine.method.training_masks import random_training_mask
    torch.manual_seed(0)
    video = torch.rand(2, 3, 6, 20, 28) * 2 - 1
    generator = torch.Generator().manual_seed(3)
    hidden = torch.stack([random_training_mask(generator, 6, 20, 28, 0.5) for _ in range(2)])
    camera = torch.zeros(2, 6, 2)
    camera[..., 1] = torch.arange(6, dtype=torch.float32) * 1.5  # a pan of 1.5 px a frame
    zoom = as_maps(camera)
    zoom[..., 0, 0] = zoom[..., 1, 1] = 1.0 + 0.01 * torch.arange(6, dtype=torch.float32)  # and 1% a frame
    cameras = (None, camera, zoom)
    whole = [reveal_prior(video, hidden, offsets) for offsets in cameras]
    monkeypatch.setattr(module, "FILL_PIXELS", 1)
    monkeypatch.setattr(module, "PAIR_PIXELS", 0)
    monkeypatch.setattr(module, "SCAN_PIXELS", 1)
    pieces = [reveal_prior(video, hidden, offsets) for offsets in cameras]
    for expected, got in zip(whole, pieces):
        assert all(torch.equal(a, b) for a, b in zip(expected, got))


def test_a_mask_grows_by_the_square_of_its_radius_clipped_at_the_frame():
    """``grow`` against its definition: a pixel is hidden when any pixel within ``radius`` rows
    and columns of it is."""
    from infusion.engine.method.prior import grow
    hidden = torch.rand(2, 3, 9, 13, generator=torch.Generator().manual_seed(1)) < 0.04
    for radius in (1, 3, 20):
        expected = torch.zeros_like(hidden)
        for b, t, y, x in torch.nonzero(hidden).tolist():
            expected[b, t, max(y - radius, 0):y + radius + 1, max(x - radius, 0):x + radius + 1] = True
        assert torch.equal(grow(hidden, radius), expected)


def test_a_cross_fade_keeps_the_power_of_unrelated_detail_and_leaves_a_still_view_alone():
    generator = torch.Generator().manual_seed(5)
    first, second = (0.2 * torch.randn(1, 3, 2, 64, 64, generator=generator) for _ in range(2))
    half, both = torch.full((1, 1, 2, 64, 64), 0.5), torch.ones(1, 1, 2, 64, 64, dtype=torch.bool)
    # Two frames of moving water, half and half: a plain cross-fade keeps half the power.
    plain = 0.5 * first + 0.5 * second
    faded = cross_fade(first, second, half, both)
    power = float(first.square().mean() + second.square().mean()) / 2
    assert float(plain.square().mean()) < 0.6 * power
    assert 0.8 * power < float(faded.square().mean()) < 1.2 * power
    # Two views of one still wall: the wall itself, whatever the weights, even beside pixels
    # that one side does not show (their other frame's hidden zeros are never averaged in).
    weight = torch.rand(1, 1, 2, 64, 64, generator=generator)
    both[..., 20:40, 30:] = False
    weight[..., 20:40, 30:] = 1.0
    after = torch.where(both, first, torch.zeros(()))
    assert torch.allclose(cross_fade(first, after, weight, both), first, atol=1e-5)
