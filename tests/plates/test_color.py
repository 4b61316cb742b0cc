"""OCIO: the network encoding round trip, the config choice, and values that must not break it."""
import numpy as np
import pytest

from infusion.engine.plates.color import BUILTIN_CONFIG, Encoding, load_config


@pytest.fixture(scope="module")
def encoding():
    return Encoding()


def test_defaults_come_from_the_builtin_studio_config_roles(encoding, monkeypatch):
    monkeypatch.delenv("OCIO", raising=False)
    assert "studio-config" in load_config().getName()
    assert (encoding.colorspace, encoding.encoding) == ("ACEScg", "ACEScct")
    monkeypatch.setenv("OCIO", "/nonexistent/config.ocio")
    with pytest.raises(ValueError, match="/nonexistent/config.ocio"):
        load_config()
    assert "studio-config" in load_config(BUILTIN_CONFIG).getName()


@pytest.mark.parametrize("colorspace", [None, "Linear Rec.709 (sRGB)"])
def test_encoding_round_trips_from_black_to_64(colorspace):
    encoding = Encoding(colorspace=colorspace)
    grey = np.geomspace(1e-3, 64.0, 200, dtype=np.float32)
    linear = np.stack([grey, grey[::-1] * 0.5, np.full_like(grey, 0.18)], axis=-1)
    encoded = encoding.encode(linear)
    assert encoded.min() >= -1.0 and encoded.max() <= 1.0
    neutral = encoding.encode(np.repeat(grey[:, None], 3, axis=1))
    assert np.all(np.diff(neutral, axis=0) > 0)  # monotonic: highlights keep their order
    # float32 precision relative to the brightest channel of each pixel (a gamut matrix mixes them)
    error = np.abs(encoding.decode(encoded) - linear)
    assert np.all(error <= 2e-4 * linear.max(axis=-1, keepdims=True))
    assert np.allclose(encoding.encode(np.zeros((1, 3), np.float32)), -1.0, atol=1e-3)


def test_nan_inf_negatives_and_highlights_encode_to_finite_values(encoding):
    wild = np.array([[np.nan, np.inf, -np.inf], [-5.0, -1e-3, 0.0], [64.0, 1e4, 3e38]], np.float32)
    encoded = encoding.encode(wild)
    assert np.isfinite(encoded).all() and encoded.min() >= -1.0 and encoded.max() <= 1.0
    assert encoded[0, 0] == -1.0 and encoded[0, 1] == 1.0 and encoded[1, 0] == -1.0
    assert np.isfinite(encoding.decode(encoded)).all()
    shown = encoding.display(wild)
    assert np.isfinite(shown).all() and shown.min() >= 0.0 and shown.max() <= 1.0


def test_unknown_colourspace_is_named():
    with pytest.raises(ValueError, match="'NoSuchLog'"):
        Encoding(encoding="NoSuchLog")
