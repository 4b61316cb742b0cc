"""EXR sequences: patterns, round trips (half, float, extra channels, overscan, metadata), errors."""
from pathlib import Path

import numpy as np
import OpenImageIO as oiio
import pytest

from infusion.engine.plates.exr import read_frame, write_frame
from infusion.engine.plates.sequence import FramePattern, parse_frame_range


def spec_for(width, height, names, formats, origin=(0, 0), display=None):
    spec = oiio.ImageSpec(width, height, len(names), formats[0])
    spec.channelnames = tuple(names)
    spec.channelformats = tuple(formats)
    spec.x, spec.y = origin
    if display is not None:
        spec.full_x, spec.full_y, spec.full_width, spec.full_height = display
    spec.attribute("compression", "zip")
    return spec


def raw(path, fmt):
    image = oiio.ImageInput.open(str(path))
    pixels = image.read_image(0, 0, 0, image.spec().nchannels, fmt)
    image.close()
    return pixels


@pytest.mark.parametrize("pattern, frame, expected", [
    ("shot/plate.####.exr", 1001, "shot/plate.1001.exr"),
    ("shot/plate.%04d.exr", 7, "shot/plate.0007.exr"),
    ("shot/plate.%d.exr", 7, "shot/plate.7.exr"),
    ("v2.1/plate_##.exr", 3, "v2.1/plate_03.exr"),
])
def test_patterns_name_frames(pattern, frame, expected):
    assert FramePattern.parse(pattern).path(frame) == expected


def test_variant_names_and_bad_patterns():
    assert str(FramePattern.parse("out/fill.####.exr").renamed("v2")) == "out/fill_v2.####.exr"
    assert str(FramePattern.parse("out/####.exr").renamed("mean")) == "out/mean.####.exr"
    for bad in ("plate.exr", "plate.####.####.exr"):
        with pytest.raises(ValueError, match="frame token"):
            FramePattern.parse(bad)
    assert parse_frame_range("1001-1048") == (1001, 1048) and parse_frame_range("5") == (5, 5)
    with pytest.raises(ValueError, match="ends before"):
        parse_frame_range("1048-1001")


def test_half_and_float_channels_with_overscan_and_metadata_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    names, formats = ["R", "G", "B", "A", "depth.Z", "N.x"], ["half"] * 4 + ["float", "half"]
    spec = spec_for(12, 9, names, formats, origin=(-3, -2), display=(0, 0, 8, 6))
    spec.attribute("Copyright", "comp dept")
    spec.attribute("framesPerSecond", oiio.TypeRational, (24, 1))
    spec.attribute("infusion:note", "kept")
    pixels = (rng.standard_normal((9, 12, 6)) * 100).astype(np.float32)
    pixels[0, 0, :4] = [np.nan, np.inf, -np.inf, 64.0]
    write_frame(str(tmp_path / "a.exr"), pixels, spec)
    first = read_frame(str(tmp_path / "a.exr"))
    write_frame(str(tmp_path / "b.exr"), first.pixels, first.spec)
    second = read_frame(str(tmp_path / "b.exr"))

    # EXR stores channels sorted by name (RGBA first): compare them by name
    assert sorted(second.spec.channelnames) == sorted(names)
    assert second.spec.channelnames == first.spec.channelnames
    order = [names.index(name) for name in second.spec.channelnames]
    assert [str(f) for f in second.spec.channelformats] == [formats[i] for i in order]
    pixels = pixels[..., order]
    assert (second.spec.x, second.spec.y, second.spec.width, second.spec.height) == (-3, -2, 12, 9)
    assert (second.spec.full_x, second.spec.full_y, second.spec.full_width, second.spec.full_height) == (0, 0, 8, 6)
    for attribute, value in [("Copyright", "comp dept"), ("infusion:note", "kept"), ("compression", "zip")]:
        assert second.spec.get_string_attribute(attribute) == value
    assert second.spec.getattribute("framesPerSecond") == (24, 1)
    # float channels exact, half channels exact to half; the second write changes no bit at all
    depth = second.spec.channelnames.index("depth.Z")
    halves = [i for i in range(6) if i != depth]
    assert np.array_equal(first.pixels[..., depth], pixels[..., depth])
    assert np.array_equal(first.pixels[..., halves], pixels[..., halves].astype(np.float16).astype(np.float32),
                          equal_nan=True)
    assert raw(tmp_path / "a.exr", "half")[..., halves].tobytes() == raw(tmp_path / "b.exr", "half")[..., halves].tobytes()
    assert raw(tmp_path / "a.exr", "float")[..., depth].tobytes() == raw(tmp_path / "b.exr", "float")[..., depth].tobytes()
    assert read_frame(str(tmp_path / "b.exr"), "depth.Z").pixels.shape == (9, 12, 1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.exr", "b.exr"]  # no temporary left behind


def test_missing_truncated_and_unreadable_frames_name_the_file(tmp_path):
    spec = spec_for(64, 64, "RGB", ["half"] * 3)
    good = tmp_path / "plate.0001.exr"
    write_frame(str(good), np.random.default_rng(1).random((64, 64, 3), np.float32), spec)
    data = good.read_bytes()
    (tmp_path / "plate.0002.exr").write_bytes(data[: len(data) // 2])
    (tmp_path / "plate.0003.exr").write_bytes(b"not an exr")
    pattern = FramePattern.parse(str(tmp_path / "plate.####.exr"))
    for frame, reason in [(2, "cannot read"), (3, "cannot read"), (4, "missing")]:
        with pytest.raises(ValueError, match=reason) as error:
            read_frame(pattern.path(frame))
        assert pattern.path(frame) in str(error.value)
    with pytest.raises(ValueError, match="no channel 'A'.*R, G, B") as error:
        read_frame(str(good), "A")
    assert str(good) in str(error.value)


def test_an_interrupted_write_leaves_the_old_frame(tmp_path, monkeypatch):
    path = tmp_path / "out.0001.exr"
    spec = spec_for(4, 4, "RGB", ["float"] * 3)
    write_frame(str(path), np.ones((4, 4, 3), np.float32), spec)
    with pytest.raises(ValueError, match=r"pixels shaped \(4, 4, 2\)"):
        write_frame(str(path), np.zeros((4, 4, 2), np.float32), spec)

    def crash(*args):
        raise KeyboardInterrupt  # killed between writing the temporary file and the rename

    monkeypatch.setattr("os.replace", crash)
    with pytest.raises(KeyboardInterrupt):
        write_frame(str(path), np.zeros((4, 4, 3), np.float32), spec)
    assert np.array_equal(read_frame(str(path)).pixels, np.ones((4, 4, 3), np.float32))
    assert [p.name for p in Path(tmp_path).iterdir()] == ["out.0001.exr"]
