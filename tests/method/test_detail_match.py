"""The fill's detail bands matched to the plate's around the hole: toned down, boosted within a
bound, never a pixel outside the hole; and through a coarse-to-fine run (its coarse contrast matched
too), nothing under the matte read."""
import torch

from conftest import level_stacks, tiny_shot
from infusion.engine.method.bands import pixel_detail, split
from infusion.engine.method.detail_match import MATCH_BANDS, MATCH_REACH, RING, match_detail
from infusion.engine.method.levels import inpaint_levels
from infusion.engine.method.presets import preset
from infusion.engine.method.prior import grow
from infusion.engine.method.progress import ShotMeasured

SETTINGS = preset("test", working_size=16, refine_levels=1, refine_factor=2.0, tile_size=16, tile_overlap=4, variants=2)


def shot(fill_grain: float, plate_grain: float = 0.02):
    """(1,3,T,H,W) a smooth gradient with white grain of ``plate_grain`` outside a square hole
    and ``fill_grain`` inside it, and the hole (T,H,W)."""
    generator = torch.Generator().manual_seed(5)
    frames, size = 3, 96
    rows = torch.linspace(-0.5, 0.5, size)[:, None].expand(size, size)
    base = (rows + 0.3 * rows.T).expand(1, 3, frames, size, size)
    hole = torch.zeros(frames, size, size, dtype=torch.bool)
    hole[:, 30:66, 30:66] = True
    grain = torch.randn(1, 3, frames, size, size, generator=generator)
    return base + torch.where(hole, fill_grain, plate_grain) * grain, hole


def finest_power(video, where):
    return float(split(video, MATCH_BANDS)[0][..., where].square().mean())


def regions(hole, band_reach=MATCH_REACH):
    """The hole's pixels ``band_reach`` or more inside it, and the ring of known pixels around it."""
    inner = hole & ~grow((~hole)[None], band_reach)[0]
    ring = grow(hole[None], RING + band_reach)[0] & ~grow(hole[None], band_reach)[0]
    return inner, ring


def test_a_fill_busier_than_the_plate_is_toned_down_to_it_and_nothing_outside_changes():
    video, hole = shot(fill_grain=0.2)
    inner, ring = regions(hole)
    assert finest_power(video, inner) > 50 * finest_power(video, ring)
    match = match_detail(video, hole, 1.0)
    matched = match.variants
    assert len(match.octave_gains) == MATCH_BANDS - 1 and max(match.octave_gains) < 0.3  # white: every octave
    assert torch.equal(matched[..., ~hole], video[..., ~hole])
    assert abs(finest_power(matched, inner) / finest_power(matched, ring) - 1.0) < 0.3


def test_coloured_speckle_is_toned_down_where_the_plate_varies_in_grey_only():
    """The plate's grain is grey (R = G = B); the fill carries that grey grain plus noise of its
    own in each channel: the match works along the ring's colour axes, so the colour part goes
    and the grey stays (per R, G and B each channel's power was near the ring's: nothing moved)."""
    generator = torch.Generator().manual_seed(8)
    frames, size = 3, 96
    video = 0.1 * torch.randn(1, 1, frames, size, size, generator=generator).expand(1, 3, frames, size, size)
    hole = torch.zeros(frames, size, size, dtype=torch.bool)
    hole[:, 30:66, 30:66] = True
    speckle = 0.05 * torch.randn(video.shape, generator=generator)
    busy = torch.where(hole, video + speckle - speckle.mean(dim=1, keepdim=True), video)
    matched = match_detail(busy, hole, 1.0).variants
    inner, _ = regions(hole)

    def colour_power(images):
        return float((images - images.mean(dim=1, keepdim=True))[..., inner].square().mean())

    def grey_power(images):
        return float(images.mean(dim=1)[..., inner].square().mean())

    assert colour_power(matched) < 0.1 * colour_power(busy)
    assert abs(grey_power(matched) / grey_power(busy) - 1.0) < 0.1
    assert torch.equal(matched[..., ~hole], busy[..., ~hole])


def test_a_smoother_fill_is_kept_unless_boosting_is_asked_and_then_its_octaves_by_at_most_the_bound():
    video, hole = shot(fill_grain=0.002)
    inner, _ = regions(hole)
    assert torch.equal(match_detail(video, hole, 1.0).variants, video)
    boosted = match_detail(video, hole, 2.0).variants
    ratio = finest_power(boosted, inner) / finest_power(video, inner)
    assert 3.0 < ratio < 4.0 + 1e-3  # the plate's grain is 10x: the gain stops at 2, power 4
    assert torch.equal(boosted[..., ~hole], video[..., ~hole])


def test_a_hole_too_thin_for_octaves_gets_its_pixel_detail_matched_and_one_thinner_nothing():
    video, _ = shot(fill_grain=0.02)  # the plate's grain everywhere
    strip = torch.zeros(video.shape[2:], dtype=torch.bool)
    strip[:, 40:46, 10:86] = True  # 6 px: no pixel is 14 px inside it, four are 1 px inside
    busy = video + torch.where(strip, 0.2, 0.0) * torch.randn(video.shape, generator=torch.Generator().manual_seed(2))
    inner, ring = regions(strip, band_reach=1)
    match = match_detail(busy, strip, 1.0)
    matched = match.variants
    assert match.octave_gains == () and match.passes > 1 and "too thin" in match.describe()

    def power(images, where):
        return float(pixel_detail(images)[..., where].square().mean())

    assert power(busy, inner) > 50 * power(busy, ring)
    assert power(matched, inner) < 2.0 * power(busy, ring)
    assert torch.equal(matched[..., ~strip], busy[..., ~strip])
    thin = torch.zeros_like(strip)
    thin[:, 40:42, 10:86] = True
    assert torch.equal(match_detail(busy, thin, 1.0).variants, busy)


def test_a_coarse_to_fine_run_with_matched_detail_reads_nothing_under_the_matte():
    assert SETTINGS.match_detail > 0.0
    video, hole = tiny_shot(height=32, width=32)
    junk = torch.where(hole[None], torch.full_like(video, -0.7), video)
    events = []
    first = inpaint_levels(level_stacks(video, hole, SETTINGS), SETTINGS, progress=events.append).variants
    measured = [event.description for event in events if isinstance(event, ShotMeasured)]
    assert SETTINGS.match_contrast > 1.0
    stages = [text.split(" matched")[0] for text in measured if " matched to the plate" in text]
    assert stages == ["coarse contrast", "detail"]  # the regrain last: the contrast's gain raises detail too
    second = inpaint_levels(level_stacks(junk, hole, SETTINGS), SETTINGS).variants
    assert torch.equal(first, second)
    fine_video, fine_hole = level_stacks(video, hole, SETTINGS)[-1]
    assert torch.equal(first[:, :, ~fine_hole], fine_video[None][:, :, ~fine_hole].expand(len(first), -1, -1))
