import numpy as np
import pytest

from infusion.engine.measure.synthetic_mattes import AREA_BOUNDS, KINDS, synthetic_matte


@pytest.mark.parametrize("kind", list(KINDS))
def test_mattes_are_seeded(kind):
    first = synthetic_matte(kind, 8, 36, 64, seed=3)
    assert first.dtype == bool and first.shape == (8, 36, 64)
    assert np.array_equal(first, synthetic_matte(kind, 8, 36, 64, seed=3))
    assert not np.array_equal(first, synthetic_matte(kind, 8, 36, 64, seed=4))


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("shape", [(6, 16, 24), (12, 36, 64), (5, 64, 40)])
def test_every_frame_hides_an_area_within_the_bounds(kind, shape):
    low, high = AREA_BOUNDS[kind]
    for seed in range(8):
        fraction = synthetic_matte(kind, *shape, seed=seed).mean(axis=(1, 2))
        assert fraction.min() >= low and fraction.max() <= high, (seed, fraction)


def test_boxes_stand_still_and_blobs_and_strokes_move():
    assert all(np.array_equal(f, synthetic_matte("still_boxes", 6, 32, 48)[0]) for f in synthetic_matte("still_boxes", 6, 32, 48))
    for kind in ("moving_blobs", "thin_stroke"):
        matte = synthetic_matte(kind, 6, 32, 48)
        assert not np.array_equal(matte[0], matte[-1])


def test_unknown_kind_and_tiny_frames_are_refused():
    with pytest.raises(ValueError, match="moving_blobs"):
        synthetic_matte("circles", 4, 16, 16)
    with pytest.raises(ValueError, match="8x8"):
        synthetic_matte("still_boxes", 4, 4, 16)
