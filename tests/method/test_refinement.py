"""A centred network's x0: the Wiener guess around its centre plus a scaled correction."""
import math

import torch

from infusion.engine.method.diffusion import linear_schedule
from infusion.engine.method.pyramid import degrade
from infusion.engine.method.bands import BANDS, NOISE_SHARES, split
from infusion.engine.method.refinement import (AGREEMENT, MIN_DETAIL, TRUSTED_AGREEMENT, NoCorrection, Refinement,
                                               Spread, build_centre, centre_fit, with_local_spread)


def test_an_untrained_correction_keeps_x_t_at_low_noise_and_the_centre_at_high_noise():
    generator = torch.Generator().manual_seed(1)
    coarse = torch.rand(1, 3, 2, 8, 8, generator=generator)
    x_t = coarse + 0.1 * torch.randn(1, 3, 2, 8, 8, generator=generator)  # near t = 0 x_t is near x0
    condition = torch.cat([torch.zeros(1, 4, 2, 8, 8), build_centre(coarse, torch.ones(1, 2, 8, 8, dtype=torch.bool),
                                                                    coarse)], dim=1)
    refine = Refinement(NoCorrection(), linear_schedule(1000), Spread.white((0.1, 0.1)))
    assert torch.allclose(refine(x_t, condition, torch.tensor([0])), x_t, atol=0.01)  # skip 0.99 at d = 0.1
    assert torch.allclose(refine(x_t, condition, torch.tensor([999])), coarse, atol=2e-3)


def test_a_revealed_pixel_trusts_its_centre_by_its_own_spread():
    """Where the reach says the centre was copied from another frame, the smaller spread rules."""
    centre = torch.zeros(1, 4, 1, 2, 1)
    centre[:, 3, :, 1] = 0.5  # the second pixel has a temporal source
    x_t = torch.ones(1, 3, 1, 2, 1)
    condition = torch.cat([torch.zeros(1, 4, 1, 2, 1), centre], dim=1)
    x0 = Refinement(NoCorrection(), linear_schedule(1000), Spread.white((0.5, 0.01)))(x_t, condition, torch.tensor([300]))
    assert float(x0[0, 0, 0, 1, 0]) < 0.05 < float(x0[0, 0, 0, 0, 0])  # near the centre, 0, where sourced


def test_the_spread_is_the_hidden_known_pixels_rms_around_the_centre():
    coarse = torch.zeros(3, 2, 16, 16)
    video = torch.full((3, 2, 16, 16), 0.2)
    hole = torch.zeros(2, 16, 16, dtype=torch.bool)
    hole[:, :4] = True
    video[:, hole] = 5.0  # under the hole: never read
    generator = torch.Generator().manual_seed(0)
    unsourced, sourced = centre_fit(video, hole, coarse, generator, 0.5, prior=False).spread.total
    assert abs(unsourced - 0.2) < 1e-6 and abs(sourced - 0.2) < 1e-6  # no prior: one class, both the same
    unsourced, sourced = centre_fit(video, hole, coarse, generator, 0.5).spread.total
    # The prior (0.2, copied or filled in) disagrees with the level below (0) by twice AGREEMENT:
    # the centre takes exp(-2) of the prior.
    expected = 0.2 * (1.0 - math.exp(-0.2 ** 2 / (2 * AGREEMENT ** 2)))
    assert abs(unsourced - expected) < 1e-6 and abs(sourced - expected) < 1e-6
    assert centre_fit(video, torch.ones_like(hole), coarse, generator, 0.5)[:2] == (Spread.white((MIN_DETAIL, MIN_DETAIL)), 1.0)


def test_a_still_background_revealed_later_has_no_spread_where_it_is_copied():
    """A static scene: what the prior copies from other frames is exact, the spatial fill is not."""
    generator = torch.Generator().manual_seed(0)
    frame = torch.rand(3, 1, 16, 16, generator=generator) * 2 - 1
    video = frame.expand(3, 6, 16, 16).contiguous()
    hole = torch.zeros(6, 16, 16, dtype=torch.bool)
    unsourced, sourced = centre_fit(video, hole, None, generator, 0.5).spread.total
    assert sourced < 1e-6 < 0.1 < unsourced


def test_the_share_tells_a_revealed_still_background_from_a_texture_that_changes_every_frame():
    """The prior predicts a still, smooth scene (it copies it from other frames, fills it in from
    around) far better than the mean colour does; fresh noise in every frame it predicts worse than
    the mean (share above 1)."""
    generator = torch.Generator().manual_seed(0)
    coarse = torch.rand(3, 1, 4, 4, generator=generator) * 2 - 1
    still = torch.nn.functional.interpolate(coarse, size=(16, 16), mode="bilinear")[:, :, None].expand(3, 1, 6, 16, 16)
    still = still[:, 0].contiguous()
    changing = torch.rand(3, 6, 16, 16, generator=generator) * 2 - 1
    hole = torch.zeros(6, 16, 16, dtype=torch.bool)
    hole[:, 4:8, 4:8] = True
    assert centre_fit(still, hole, None, generator, 0.5).share < 0.5
    assert centre_fit(changing, hole, None, generator, 0.5).share > 1.0


def test_a_finer_level_gets_a_revealed_background_back_sharp():
    """A still scene, a hole that moves: the level below is the scene's blur, the centre is the scene."""
    generator = torch.Generator().manual_seed(2)
    scene = (torch.rand(1, 3, 1, 16, 16, generator=generator) * 2 - 1).expand(1, 3, 4, 16, 16).contiguous()
    hidden = torch.zeros(1, 4, 16, 16, dtype=torch.bool)
    for frame in range(4):
        hidden[0, frame, 4:10, 2 + 3 * frame:6 + 3 * frame] = True
    below = degrade(scene, 2.0)
    centre = build_centre(torch.where(hidden[:, None], torch.full_like(scene, 9.0), scene), hidden, below, 2.0)
    assert torch.allclose(centre[:, :3], scene, atol=1e-5)
    without = build_centre(scene, hidden, below, 2.0, prior=False)
    assert torch.equal(without[:, :3], below) and bool((without[:, 3] == 0).all())


def test_where_the_level_below_made_something_else_the_revealed_detail_is_not_added():
    """The level below disagrees with what the other frames show (it generated, say, moving water
    over a place a wrong copy would put a still edge): the centre is the level below, untouched."""
    generator = torch.Generator().manual_seed(3)
    scene = (torch.rand(1, 3, 1, 16, 16, generator=generator) * 2 - 1).expand(1, 3, 4, 16, 16).contiguous()
    hidden = torch.zeros(1, 4, 16, 16, dtype=torch.bool)
    for frame in range(4):
        hidden[0, frame, 4:10, 2 + 3 * frame:6 + 3 * frame] = True
    below = degrade(scene, 2.0) + 1.5  # far from the revealed frames' blur everywhere
    centre = build_centre(scene, hidden, below, 2.0)
    assert torch.allclose(centre[:, :3], below, atol=1e-4)

def test_a_level_below_that_corrected_the_prior_gives_way_to_it_more_readily():
    """A still scene (0.2, one pixel 0.6 that the next frame shows) under a still box, and a level
    below at 0 there. Untrusted, the centre takes exp(-d^2 / 2a^2) of the prior, a =
    AGREEMENT; trusted (the coarsest level corrected the prior), a = TRUSTED_AGREEMENT where it
    was filled in and all of it where it was copied."""
    video = torch.full((1, 3, 2, 16, 16), 0.2)
    video[:, :, :, 7, 8] = 0.6
    hidden = torch.zeros(1, 2, 16, 16, dtype=torch.bool)
    hidden[:, :, 6:10, 6:8] = True  # a still box: filled in
    hidden[0, 0, 7, 8] = True  # seen in the next frame: copied
    below = torch.where(hidden[:, None], torch.zeros(()), video)
    prior = build_centre(video, hidden)[0, 0, 0]
    assert abs(float(prior[7, 8]) - 0.6) < 1e-6  # copied from the next frame
    blurred = degrade(build_centre(video, hidden)[:, :3], 2.0)[0, 0, 0]
    for trusted, tolerance in ((False, AGREEMENT), (True, TRUSTED_AGREEMENT)):
        centre = build_centre(video, hidden, below, 2.0, trusted=trusted)[0, 0, 0]
        filled = float(prior[7, 7]) * math.exp(-float(blurred[7, 7]) ** 2 / (2 * tolerance ** 2))
        copied = 0.6 if trusted else 0.6 * math.exp(-float(blurred[7, 8]) ** 2 / (2 * AGREEMENT ** 2))
        assert abs(float(centre[7, 7]) - filled) < 1e-5 and abs(float(centre[7, 8]) - copied) < 1e-5
    assert TRUSTED_AGREEMENT > AGREEMENT


def test_an_untrained_centred_network_corrects_nothing():
    from infusion.engine.method.model import UNet3D

    network = UNet3D(levels=2, channels=4, centred=True)
    network.zero_output()
    x_t = torch.randn(1, 3, 2, 8, 8)
    condition = torch.randn(1, network.condition_channels, 2, 8, 8)
    assert bool((network(x_t, condition, torch.tensor([10])) == 0).all())
    assert not bool((UNet3D(levels=2, channels=4)(x_t, condition[:, :4], torch.tensor([10])) == 0).all())
    schedule = linear_schedule(1000)
    for spread in (Spread.white((0.2, 0.05)), Spread((0.2, 0.05), ((0.1, 0.01), (0.1, 0.02), (0.1, 0.03)))):
        run, skipped = Refinement(network, schedule, spread), Refinement(NoCorrection(), schedule, spread)
        for t in (0, 500, 999):  # the network not run at all: the same x0, bit for bit
            assert torch.equal(run(x_t, condition, torch.tensor([t])), skipped(x_t, condition, torch.tensor([t])))


def test_a_fit_on_windows_of_frames_reads_only_their_frames_and_agrees_with_the_whole_shot_at_full_length():
    """Each mask covers a random run of ``window`` frames and the centre looks only at them: a
    still background revealed in another frame of the shot but outside every window of one frame
    has no temporal source there; a window as long as the shot is the whole-shot fit, draw for draw."""
    generator = torch.Generator().manual_seed(0)
    frame = torch.rand(3, 1, 16, 16, generator=generator) * 2 - 1
    video = frame.expand(3, 6, 16, 16).contiguous()
    hole = torch.zeros(6, 16, 16, dtype=torch.bool)
    whole = centre_fit(video, hole, None, torch.Generator().manual_seed(3), 0.5)
    for window in (6, 9):
        fit = centre_fit(video, hole, None, torch.Generator().manual_seed(3), 0.5, window=window)
        assert fit[:2] == whole[:2] and torch.equal(fit.local, whole.local)
    unsourced, sourced = centre_fit(video, hole, None, torch.Generator().manual_seed(3), 0.5, window=1).spread.total
    assert sourced == unsourced > 0.1  # one frame: nothing copied, the spatial fill's error alone


def _fine(images: torch.Tensor) -> torch.Tensor:
    return split(images)[0]


class Grainy(torch.nn.Module):
    """A correction of white noise, the same at every call."""

    def forward(self, x_t, condition, t):
        return torch.randn(x_t.shape, generator=torch.Generator().manual_seed(5))


def test_at_low_noise_the_fine_band_of_a_smooth_shot_is_taken_for_noise():
    """x_t near t = 0 is the shot plus white noise: where the shot has no fine detail the guess
    drops the noise's fine band, and the correction's fine band is held to that band's small
    spread; a spread without spatial structure keeps both, as one band did."""
    generator = torch.Generator().manual_seed(2)
    ramp = torch.linspace(-0.5, 0.5, 16).view(1, 1, 1, 1, 16).expand(1, 3, 2, 16, 16)
    x_t = ramp + 0.01 * torch.randn(1, 3, 2, 16, 16, generator=generator)
    condition = torch.zeros(1, 8, 2, 16, 16)  # a centre of 0 with no temporal source
    smooth_shot = Spread((0.3, 0.3), ((1e-4, 1e-4),) * (BANDS - 1) + ((0.3, 0.3),))  # all in the smoothest band
    t = torch.tensor([0])
    for network in (NoCorrection(), Grainy()):
        smooth = Refinement(network, linear_schedule(1000), smooth_shot)(x_t, condition, t)
        white = Refinement(network, linear_schedule(1000), Spread.white((0.3, 0.3)))(x_t, condition, t)
        noise = _fine(x_t).square().mean().sqrt()
        assert _fine(smooth).square().mean().sqrt() < 0.2 * noise  # what is left: the fine band of blurred noise
        assert _fine(white).square().mean().sqrt() > 0.95 * noise
        assert (smooth - ramp).square().mean().sqrt() < 0.5 * (x_t - ramp).square().mean().sqrt()  # nearer the shot


def test_a_spread_without_spatial_structure_is_one_band_with_the_same_result():
    """White noise's shares give every band the whole's gains: the one-band shortcut equals the
    band-by-band sum (a spread a hair off white takes the banded path)."""
    generator = torch.Generator().manual_seed(3)
    x_t = torch.randn(2, 3, 2, 16, 16, generator=generator)
    condition = torch.cat([torch.zeros(2, 4, 2, 16, 16), torch.rand(2, 4, 2, 16, 16, generator=generator)], dim=1)
    white = Spread.white((0.3, 0.05))
    almost = white._replace(bands=tuple((a * (1 + 1e-12), b) for a, b in white.bands))
    schedule = linear_schedule(1000)
    one, banded = Refinement(Grainy(), schedule, white), Refinement(Grainy(), schedule, almost)
    assert not one.banded and banded.banded
    for t in (0, 400, 999):
        step = torch.tensor([t, t])
        assert torch.allclose(one(x_t, condition, step), banded(x_t, condition, step), atol=1e-5)


def test_the_fit_measures_how_much_of_the_distance_is_fine_detail():
    generator = torch.Generator().manual_seed(4)
    coarse = torch.rand(3, 6, 4, 4, generator=generator) * 2 - 1
    smooth = torch.nn.functional.interpolate(coarse, size=(32, 32), mode="bicubic", align_corners=False)
    noise = torch.rand(3, 6, 32, 32, generator=generator) * 2 - 1
    hole = torch.zeros(6, 32, 32, dtype=torch.bool)
    for video, low, high in ((smooth, 0.0, 0.1), (noise, 0.85 * NOISE_SHARES[0] ** 0.5, 1.15 * NOISE_SHARES[0] ** 0.5)):
        spread = centre_fit(video, hole, None, torch.Generator().manual_seed(0), 0.5).spread
        unsourced, fine = spread.total[0], spread.bands[0][0]
        assert low * unsourced <= fine <= high * unsourced


def test_the_fit_finds_the_colour_the_shot_varies_along():
    """A grey texture (R = G = B) varies along grey only: the fit's first axis is grey and holds
    all of the distance (share sqrt 3), the other two none."""
    generator = torch.Generator().manual_seed(4)
    video = (torch.rand(1, 4, 16, 16, generator=generator) * 2 - 1).expand(3, 4, 16, 16).contiguous()
    spread = centre_fit(video, torch.zeros(4, 16, 16, dtype=torch.bool), None, torch.Generator().manual_seed(1), 0.5).spread
    grey = torch.tensor(spread.axes[0]).abs()
    assert torch.allclose(grey, torch.full((3,), 3 ** -0.5), atol=1e-4)
    assert abs(spread.shares[0] - 3 ** 0.5) < 1e-4 and max(spread.shares[1:]) < 1e-3
    assert torch.allclose(torch.tensor(spread.axes) @ torch.tensor(spread.axes).T, torch.eye(3), atol=1e-6)


def test_an_untrained_level_adds_grain_only_along_the_shots_colour():
    """x_t's noise is independent in R, G and B; where the shot varies along grey only, the guess
    keeps the centre's colour and takes the noise's grey part alone: no coloured speckle."""
    generator = torch.Generator().manual_seed(6)
    x_t = torch.randn(1, 3, 2, 8, 8, generator=generator)
    centre = torch.tensor([0.3, -0.1, 0.2]).view(1, 3, 1, 1, 1).expand(1, 3, 2, 8, 8)
    condition = torch.cat([torch.zeros(1, 4, 2, 8, 8), centre, torch.zeros(1, 1, 2, 8, 8)], dim=1)
    grey = 3 ** -0.5
    axes = ((grey, grey, grey), (2 ** -0.5, -(2 ** -0.5), 0.0), (6 ** -0.5, 6 ** -0.5, -2 * 6 ** -0.5))
    coloured = Spread.white((0.3, 0.3))._replace(axes=axes, shares=(3 ** 0.5, 0.0, 0.0))
    for t in (0, 300, 600):
        x0 = Refinement(NoCorrection(), linear_schedule(1000), coloured)(x_t, condition, torch.tensor([t]))
        deviation = x0 - centre
        assert float(deviation.abs().max()) > 1e-3  # it does take some of x_t
        assert torch.allclose(deviation, deviation.mean(dim=1, keepdim=True).expand_as(deviation), atol=1e-5)
        plain = Refinement(NoCorrection(), linear_schedule(1000), Spread.white((0.3, 0.3)))(x_t, condition, torch.tensor([t]))
        assert float((plain - centre).std(dim=1).mean()) > 1e-3  # RGB's spread keeps each channel's noise


def test_the_spread_is_measured_place_by_place_and_a_hole_takes_its_surroundings():
    """A still, smooth left half beside a right half that changes every frame: the local factor
    is far below 1 on the left, above it on the right, and a hole inside the left half (never
    scored) takes the left's."""
    generator = torch.Generator().manual_seed(9)
    frames, size = 6, 48
    video = torch.zeros(3, frames, size, size)
    video[:, :, :, size // 2:] = 0.5 * torch.randn(3, frames, size, size // 2, generator=generator)
    hole = torch.zeros(frames, size, size, dtype=torch.bool)
    hole[:, 16:32, 4:18] = True
    local = centre_fit(video, hole, None, torch.Generator().manual_seed(2), 0.5).local
    assert local.shape == (size, size)
    assert float(local[:, :12].max()) < 0.1 and float(local[:, size // 2 + 8:].min()) > 1.0
    assert float(local[16:32, 4:12].max()) < 0.1  # the hole's far side from the noise (its near side fades)


def test_an_untrained_level_adds_grain_by_the_local_spread_and_the_network_never_sees_it():
    """A centre carrying the local factor: where it is 0 the guess is the centre, where it is 1
    x_t's noise is taken as with no factor; the network gets the condition without it."""

    class Checked(torch.nn.Module):
        def forward(self, x_t, condition, t):
            assert condition.shape[1] == 8  # the observed video, its mask, the centre and its reach
            return torch.zeros_like(x_t)

    generator = torch.Generator().manual_seed(7)
    x_t = torch.randn(1, 3, 2, 8, 8, generator=generator)
    centre = torch.cat([torch.zeros(1, 4, 2, 8, 8), torch.full((1, 3, 2, 8, 8), 0.2), torch.zeros(1, 1, 2, 8, 8)], dim=1)
    local = torch.ones(8, 8)
    local[:, :4] = 0.0
    condition = with_local_spread(centre[:, 4:], local, [slice(None)], [slice(None)])
    condition = torch.cat([centre[:, :4], condition], dim=1)
    spread, t = Spread.white((0.3, 0.3)), torch.tensor([300])
    x0 = Refinement(Checked(), linear_schedule(1000), spread)(x_t, condition, t)
    plain = Refinement(Checked(), linear_schedule(1000), spread)(x_t, centre, t)
    assert torch.equal(x0[..., :4], torch.full_like(x0[..., :4], 0.2))
    assert torch.allclose(x0[..., 4:], plain[..., 4:]) and float((plain[..., 4:] - 0.2).abs().max()) > 1e-2
