"""`infusion demo` at a reduced budget and size writes the sample shot, the filled frames, the contact sheet
and the animations."""
import numpy as np
import OpenImageIO as oiio

from infusion.engine.cli import main
from infusion.engine.plates.exr import read_frame
from plate_helpers import raw_pixels, same_bits


def test_demo_writes_its_outputs(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--preset", "test", "--train-steps", "2", "--width", "192"]) == 0
    frames = range(1001, 1025)
    for folder, name in [("plate", "demo"), ("plate", "demo_matte"), ("result", "demo_fill")]:
        assert sorted(p.name for p in (tmp_path / folder).glob(f"{name}.*.exr")) == [f"{name}.{f}.exr" for f in frames]
    for frame in (1001, 1012, 1024):
        before = raw_pixels(str(tmp_path / "plate" / f"demo.{frame}.exr"))
        after = raw_pixels(str(tmp_path / "result" / f"demo_fill.{frame}.exr"))
        matte = read_frame(str(tmp_path / "plate" / f"demo_matte.{frame}.exr")).pixels[..., 0] > 0
        assert same_bits(before[~matte], after[~matte]).all()
        red_buoy = before[matte][:, 0] - before[matte][:, 2]
        assert np.mean(after[matte][:, 0] - after[matte][:, 2]) < np.mean(red_buoy)  # the red buoy is gone
    sheet = read_frame(str(tmp_path / "contact_sheet.png"))  # rows: whole before, after; 1:1 crops before, after
    assert (sheet.spec.width, sheet.spec.height, sheet.spec.nchannels) == (6 * (192 + 2) + 2, 4 * (108 + 2) + 2, 3)
    for name, size in [("before_after.gif", (2 * 64, 36)), ("before_after_crop.gif", (96, 2 * 36))]:
        animation = oiio.ImageInput.open(str(tmp_path / name))
        assert (animation.spec().width, animation.spec().height) == size
        assert animation.seek_subimage(23, 0) and not animation.seek_subimage(24, 0)  # all 24 frames
        animation.close()
    printed = capsys.readouterr().out
    assert "contact sheet (before / after, whole; before / after, 1:1 around the hole)" in printed and "demo took" in printed
