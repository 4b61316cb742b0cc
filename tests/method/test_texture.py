"""The clone brush: the detail of a nearby patch for pixels the shot never reveals, or reveals
only in frames whose copy is a poor guess."""
import math

import torch

from infusion.engine.method.pyramid import degrade
from infusion.engine.method.refinement import build_centre
from infusion.engine.method.texture import donor_detail

PERIOD = 16  # pixels: a texture that repeats at one of the clone's offsets


def stripes(frames: int = 4, height: int = 80, width: int = 128) -> torch.Tensor:
    """(1,3,T,H,W) vertical stripes of period ``PERIOD`` that drift one pixel a frame."""
    x = torch.arange(width, dtype=torch.float32)[None, None, :] + torch.arange(frames, dtype=torch.float32)[:, None, None]
    wave = torch.sin(2 * math.pi * x / PERIOD) + 0.5 * torch.sin(6 * math.pi * x / PERIOD)
    return wave.expand(frames, height, width)[None, None].repeat(1, 3, 1, 1, 1) * 0.4


def grey_grain(frames: int, height: int, width: int, seed: int, strength: float) -> torch.Tensor:
    """(1,3,T,H,W) grey noise of deviation ``strength``, new every frame."""
    noise = torch.randn(1, 1, frames, height, width, generator=torch.Generator().manual_seed(seed))
    return (strength * noise).repeat(1, 3, 1, 1, 1)


def box_hole(video: torch.Tensor) -> torch.Tensor:
    hole = torch.zeros(video.shape[0], *video.shape[2:], dtype=torch.bool)
    hole[:, :, 32:48, 56:72] = True  # its donors a period or two away are clear of the frame edges
    return hole


def test_a_repeating_texture_gets_back_the_detail_its_hole_hid():
    video = stripes()
    hole = box_hole(video)
    known = torch.where(hole[:, None], torch.zeros(()), video)
    detail = donor_detail(known, hole, hole.float(), degrade(video, 4.0), 4.0)
    truth = video - degrade(video, 4.0)
    inside = hole[:, None].expand_as(video)
    # A shift by a whole period matches the guide (the level below) exactly: the hidden detail
    # itself, scaled by at most 1 to the power of the detail around the hole in that frame.
    for frame in range(video.shape[2]):
        cloned, hidden = detail[:, :, frame][inside[:, :, frame]], truth[:, :, frame][inside[:, :, frame]]
        gain = float((cloned * hidden).sum() / hidden.square().sum())  # one per frame
        assert 0.95 < gain <= 1.0 + 1e-6
        assert torch.allclose(cloned, gain * hidden, atol=1e-5)
    assert bool((detail[~inside] == 0).all())


def test_the_clone_reads_no_hidden_pixel():
    video = stripes()
    hole = box_hole(video)
    other = torch.where(hole[:, None], torch.full_like(video, 7.0), video)
    guide = degrade(torch.where(hole[:, None], torch.zeros(()), video), 4.0)
    assert torch.equal(donor_detail(video, hole, hole.float(), guide, 4.0),
                       donor_detail(other, hole, hole.float(), guide, 4.0))


def test_each_part_of_the_hole_clones_the_texture_its_guide_asks_for():
    # Two materials side by side, bright vertical stripes left and dark horizontal ones right, and
    # a hole across their border, nearly as tall as the frame: its donors lie left and right only,
    # so no one offset serves both halves. Each block takes a donor of its own material.
    frames, height, width = 2, 48, 160
    y, x = torch.meshgrid(torch.arange(height, dtype=torch.float32), torch.arange(width, dtype=torch.float32),
                          indexing="ij")
    left = 0.5 + 0.2 * torch.sin(2 * math.pi * x / PERIOD)
    right = -0.5 + 0.2 * torch.sin(2 * math.pi * y / PERIOD)
    video = torch.where(x < width // 2, left, right).expand(frames, height, width)[None, None].repeat(1, 3, 1, 1, 1)
    hole = torch.zeros(1, frames, height, width, dtype=torch.bool)
    hole[:, :, 8:40, 48:112] = True
    known = torch.where(hole[:, None], torch.zeros(()), video)
    guide = torch.where(x < width // 2, 0.5, -0.5).expand_as(video)  # each material's colour, no detail of its own
    detail = donor_detail(known, hole, hole.float(), guide, 4.0)
    truth = video - degrade(video, 4.0)
    for columns in (slice(56, 72), slice(88, 104)):  # a block's width inside each material, clear of the border
        cloned, hidden = detail[..., 16:32, columns], truth[..., 16:32, columns]
        correlation = float((cloned * hidden).sum() / (cloned.square().sum() * hidden.square().sum()).sqrt())
        assert correlation > 0.8  # the other material's stripes run across: about 0


def test_a_finer_centre_clones_only_where_nothing_is_revealed_or_the_copy_is_poor():
    video = stripes()
    hole = box_hole(video)
    hole[1:, :, 40:56] = False  # the hole's place is seen in every frame but the first: revealed
    hole[:, 16:32, 8:16] = True  # hidden in every frame: never revealed
    below = degrade(video, 4.0)
    plain = build_centre(video, hole, below, 4.0)
    cloned = build_centre(video, hole, below, 4.0, clone=1.0)
    never = (hole.all(dim=1, keepdim=True) & hole)[:, None].expand(-1, 3, -1, -1, -1)
    assert torch.equal(plain[:, :3][~never], cloned[:, :3][~never])
    truth_error = (video - plain[:, :3])[never].square().mean()
    assert float((video - cloned[:, :3])[never].square().mean()) < 0.1 * float(truth_error)


def test_the_clone_takes_each_place_the_strength_of_its_own_surroundings():
    # Busy noise about 0.5 on the left half, faint noise about -0.5 on the right, and a guide
    # that asks for the busy material in both holes (as a level below that blurred the two
    # together may): the quiet hole clones busy donors. Its detail is toned down to its own
    # surroundings' power, not to the shot's (which would leave it many times busier).
    frames, height, width = 2, 64, 192
    noise = torch.randn(1, 1, frames, height, width, generator=torch.Generator().manual_seed(3)).repeat(1, 3, 1, 1, 1)
    busy = (torch.arange(width) < width // 2).view(1, 1, 1, 1, width)
    video = torch.where(busy, 0.5 + 0.3 * noise, -0.5 + 0.01 * noise)
    hole = torch.zeros(1, frames, height, width, dtype=torch.bool)
    hole[:, :, 16:48, 32:64] = True
    hole[:, :, 16:48, 128:160] = True
    known = torch.where(hole[:, None], torch.zeros(()), video)
    detail = donor_detail(known, hole, hole.float(), torch.full_like(video, 0.5), 4.0)
    truth = video - degrade(video, 4.0)
    for inside in (slice(32, 64), slice(128, 160)):
        cloned = float(detail[..., 16:48, inside].square().mean())
        hidden = float(truth[..., 16:48, inside].square().mean())
        assert 0.5 * hidden < cloned < 1.5 * hidden


def test_a_finer_centre_clones_where_a_revealed_copy_is_a_poor_guess():
    # Grain that changes every frame, its hole seen in the first and last frames: a copy from
    # another frame predicts the hole's ring worse than the smooth fill, so the prior is mostly
    # the smooth fill and lacks most of the grain's power. The clone brings it back. A hole seen
    # on one side only (hidden to the clip's end) whose copy is poor is left to the smooth fill:
    # something may have come into view there (a figure walked in), and cloned texture over it
    # showed as cracks and speckle on bbb.
    video = grey_grain(4, 48, 96, seed=4, strength=0.2)
    hole = torch.zeros(1, 4, 48, 96, dtype=torch.bool)
    hole[:, 1:3, 16:32, 40:56] = True
    below = degrade(video, 4.0)
    inside = hole[:, None].expand(-1, 3, -1, -1, -1)
    truth = float((video - below)[inside].square().mean())
    plain, cloned = (float((build_centre(video, hole, below, 4.0, clone=clone)[:, :3] - below)[inside].square().mean())
                     for clone in (0.0, 1.0))
    assert plain < 0.5 * truth
    assert 0.7 * truth < cloned < 1.3 * truth
    hole[:] = False
    hole[:, 2:, 16:32, 40:56] = True  # hidden in frames 2 and 3: seen before only
    plain_centre, cloned_centre = (build_centre(video, hole, below, 4.0, clone=clone) for clone in (0.0, 1.0))
    assert torch.equal(plain_centre, cloned_centre)


def test_the_clone_fills_the_detail_up_to_its_surroundings_and_no_further():
    # Where the guess already carries all the detail its surroundings have (a good copy), the
    # clone adds little (what one 16 px cell's surroundings hold above it by chance); where it
    # carries none, the clone brings the surroundings' power.
    video = grey_grain(2, 64, 96, seed=6, strength=0.3)
    inside = torch.zeros_like(video, dtype=torch.bool)
    inside[..., 16:48, 32:64] = True
    hole = inside[:, 0]
    known = torch.where(inside, torch.zeros(()), video)
    guide = degrade(video, 4.0)
    truth = video - guide
    empty = donor_detail(known, hole, hole.float(), guide, 4.0)
    full = donor_detail(known, hole, hole.float(), torch.where(inside, video, guide), 4.0)
    power = float(truth[inside].square().mean())
    brought = float(empty[inside].square().mean())
    assert 0.5 * power < brought < 1.5 * power
    assert float(full[inside].square().mean()) < 0.25 * brought
