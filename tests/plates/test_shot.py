"""The shot pipeline on real EXR sequences: exactness outside the matte, 4K, events, cancel, errors."""
import os
import tracemalloc
from dataclasses import replace

import numpy as np
import pytest

from infusion.engine.storage.checkpoint_file import load_checkpoint
from infusion.engine.plates.exr import read_frame
from infusion.engine.method.presets import preset
from infusion.engine.method.progress import StepProgress
from infusion.engine.plates.roi import Box
from infusion.engine.plates.sequence import FramePattern
from infusion.engine.plates.shot import FrameWritten, PlateFrameRead, PreviewWritten, ShotRequest, run_shot
from plate_helpers import raw_pixels, same_bits, write_sequence

FIRST = 1001
SETTINGS = preset("test")


def small_shot(tmp_path, fmt="half", frames=6, height=20, width=28):
    """RGB + a float-ish Z channel, overscan data window, NaN/inf/-5/64 outside the matte; a
    separate soft matte sequence with its own, smaller data window (in the plate's display window)."""
    rng = np.random.default_rng(3)
    plate = rng.random((frames, height, width, 4), dtype=np.float32) * 2.0
    plate[:, 0, 0:4, 0] = [np.nan, np.inf, -np.inf, -5.0]
    plate[:, 1, 0:3, 1] = [64.0, 1000.0, -0.25]
    plate[:, -1, -1, :3] = np.nan
    matte = np.zeros((frames, 12, 14), np.float32)
    matte[:, 4:9, 5:10] = 1.0
    matte[:, 3, 5:10] = 0.4  # a soft edge
    matte[:, 5, 6, ] = 1.0
    plate[:, 6:10, 6:10, :3] = np.nan  # NaN under the matte is fine: it is never seen
    write_sequence(str(tmp_path / "plate.####.exr"), FIRST, plate, ["R", "G", "B", "Z"], fmt, origin=(-2, -3),
                   display=(24, 16))
    write_sequence(str(tmp_path / "matte.%04d.exr"), FIRST, matte, ["A"], "half", origin=(-1, -2), display=(24, 16))
    return ShotRequest(plate=str(tmp_path / "plate.####.exr"), frames=(FIRST, FIRST + frames - 1),
                       out=str(tmp_path / "out" / "fill.####.exr"), settings=SETTINGS,
                       matte=str(tmp_path / "matte.%04d.exr"), margin=0.5)


@pytest.mark.parametrize("fmt", ["half", "float"])
def test_pixels_outside_the_matte_survive_bit_identical(tmp_path, fmt):
    request = small_shot(tmp_path, fmt)
    result = run_shot(request, tmp_path / "work", progress=None)
    plate_pattern, out_pattern = FramePattern.parse(request.plate), FramePattern.parse(request.out)
    matte_pattern = FramePattern.parse(request.matte)
    for frame in range(FIRST, FIRST + 6):
        before, after = raw_pixels(plate_pattern.path(frame)), raw_pixels(out_pattern.path(frame))
        assert after.dtype == before.dtype == (np.float16 if fmt == "half" else np.float32)
        matte = np.zeros(before.shape[:2], bool)  # the matte's data window starts at (-1, -2); the plate's at (-2, -3)
        matte[1:13, 1:15] = read_frame(matte_pattern.path(frame)).pixels[..., 0] > 0
        assert same_bits(before[~matte], after[~matte]).all()
        assert same_bits(before[..., 3], after[..., 3]).all()  # the extra channel, everywhere
        assert np.isfinite(after[matte][:, :3]).all() and not same_bits(before[matte], after[matte])[:, :3].all()
        spec, out_spec = read_frame(plate_pattern.path(frame)).spec, read_frame(out_pattern.path(frame)).spec
        assert (out_spec.x, out_spec.y, out_spec.full_width, out_spec.full_height) == (-2, -3, 24, 16)
        assert out_spec.get_string_attribute("shot:name") == "test plate" == spec.get_string_attribute("shot:name")
    assert result.outputs == (request.out,) and result.mean is None
    assert result.roi == Box(1, -2, 12, 10)  # the matte's box (4, 1)..(9, 7) grown by 0.5 x 6 pixels
    assert result.working_shape == (12, 11)  # smaller than the working size: never enlarged


def test_a_4k_plate_with_a_small_matte_runs_holding_few_full_frames(tmp_path):
    frames, height, width = 3, 2160, 4096
    plate = np.empty((frames, height, width, 4), np.float16)
    plate[..., :3] = np.linspace(0.0, 4.0, width, dtype=np.float16)[None, None, :, None]
    plate[..., 3] = 0.0
    for index in range(frames):
        plate[index, 1500:1540, 3000 + 8 * index:3040 + 8 * index, 3] = 1.0
        plate[index, 1500:1540, 3000 + 8 * index:3040 + 8 * index, :3] = 50.0  # under the matte: never read
    write_sequence(str(tmp_path / "big.####.exr"), FIRST, plate, "RGBA", "half", compression="none")
    del plate
    request = ShotRequest(plate=str(tmp_path / "big.####.exr"), frames=(FIRST, FIRST + frames - 1),
                          out=str(tmp_path / "out.####.exr"), settings=SETTINGS)
    full_frame = height * width * 4 * 4  # one frame of RGBA as float32
    tracemalloc.start()
    try:
        result = run_shot(request, tmp_path / "work")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2.5 * full_frame, f"peak {peak / full_frame:.2f} full frames"
    grow = 40 + 8 * (frames - 1)  # margin 1.0 x the matte's box (40 high, 40 + 8 per frame wide)
    assert result.roi == Box(3000 - grow, 1500 - grow, 3000 + 2 * grow, 1540 + grow)
    assert result.working_shape == (round(32 * (40 + 2 * grow) / (3 * grow)), 32)
    for index in range(frames):
        before, after = raw_pixels(f"{tmp_path}/big.{FIRST + index}.exr"), raw_pixels(f"{tmp_path}/out.{FIRST + index}.exr")
        hole = before[..., 3] > 0
        assert same_bits(before[~hole], after[~hole]).all() and same_bits(before[..., 3], after[..., 3]).all()
        filled = after[hole][:, :3].astype(np.float32)
        assert np.isfinite(filled).all() and filled.max() < 5.0  # the gradient's run on, nothing of what it hid


def test_events_variants_and_the_mean(tmp_path):
    request = small_shot(tmp_path, fmt="float")  # at 3 training steps variants differ by less than a half's step
    events = []
    result = run_shot(replace(request, settings=SETTINGS.replace(variants=2)), tmp_path / "work",
                      progress=events.append)
    kinds = [type(event) for event in events]
    assert kinds[:6] == [PlateFrameRead] * 6 and StepProgress in kinds
    previews = [e for e in events if isinstance(e, PreviewWritten)]
    assert [e.interval for e in previews] == [0, 1] and previews[0].images.shape == (2, 6, 12, 11, 3)
    assert all(os.path.isfile(path) for path in previews[-1].paths) and len(previews[-1].paths) == 12
    written = [e for e in events if isinstance(e, FrameWritten)]
    assert [(e.frame, e.variant) for e in written[:3]] == [(FIRST, 1), (FIRST, 2), (FIRST, None)]
    assert len(written) == 18 and kinds.index(FrameWritten) > kinds.index(PreviewWritten)
    assert result.outputs == (f"{tmp_path}/out/fill_v1.####.exr", f"{tmp_path}/out/fill_v2.####.exr")
    assert result.mean == f"{tmp_path}/out/fill_mean.####.exr"
    v1, v2, mean = (read_frame(p.replace("####", str(FIRST))).pixels for p in result.outputs + (result.mean,))
    assert not np.array_equal(v1, v2, equal_nan=True) and not np.array_equal(v1, mean, equal_nan=True)


def test_raising_from_progress_cancels_and_the_same_call_resumes(tmp_path):
    request = small_shot(tmp_path)

    def cancel(event):
        if isinstance(event, PreviewWritten):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_shot(request, tmp_path / "work", progress=cancel)
    assert not (tmp_path / "out").exists()
    assert load_checkpoint(tmp_path / "work" / "checkpoint.pt")["finished_intervals"] == 1
    run_shot(request, tmp_path / "work")
    resumed = read_frame(request.out.replace("####", str(FIRST))).pixels
    run_shot(request, tmp_path / "fresh")
    assert np.array_equal(resumed, read_frame(request.out.replace("####", str(FIRST))).pixels, equal_nan=True)


def test_missing_frame_and_empty_matte_are_named(tmp_path):
    request = small_shot(tmp_path)
    missing = FramePattern.parse(request.plate).path(FIRST + 2)
    os.rename(missing, missing + ".moved")
    with pytest.raises(ValueError, match="missing") as error:
        run_shot(request, tmp_path / "work")
    assert missing in str(error.value)
    os.rename(missing + ".moved", missing)
    empty = write_sequence(str(tmp_path / "empty.####.exr"), FIRST, np.zeros((6, 4, 4, 1), np.float32), ["A"],
                           display=(24, 16))
    with pytest.raises(ValueError, match=r"matte \(.*empty.####.exr\) is empty over frames 1001-1006"):
        run_shot(replace(request, matte=empty), tmp_path / "w2")
