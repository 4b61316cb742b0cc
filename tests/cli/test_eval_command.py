import json
import subprocess
import sys

import OpenImageIO as oiio


def infusion(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "infusion.engine.cli", *args], capture_output=True, text=True, timeout=600)


def test_eval_on_a_procedural_clip_writes_tables_json_and_contact_sheet(tmp_path):
    done = infusion("eval", "--procedural", "waves", "--procedural-frames", "6", "--working-size", "32",
                    "--resolution", "working", "--preset", "test", "--mattes", "still_boxes", "--variants", "2",
                    "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "waves / still_boxes" in done.stdout and "average over 1 cases" in done.stdout
    report = json.loads((tmp_path / "eval.json").read_text())
    case = report["cases"][0]
    methods = case["methods"]
    assert {"temporal_median", "nearest_visible", "infusion s0"} <= set(methods)
    assert methods["infusion s0"]["variants"] == 2 and methods["infusion s0"]["diversity"] is not None
    assert methods["temporal_median"]["diversity"] is None  # one variant: no diversity
    for scores in methods.values():
        assert 0 < scores["texture_distance"] and scores["ssim"] <= 1
    assert case["sheet_rows"][0] == "plate + matte" and case["sheet_rows"][-1] == "truth"
    spec = oiio.ImageInput.open(case["contact_sheet"]).spec()
    rows, columns = len(case["sheet_rows"]), 6
    assert (spec.height, spec.width) == (2 + rows * (6 * 20 + 2), 2 + columns * (6 * 32 + 2))  # 32x20 frames at 6x
    assert set(report["average"]) == set(methods) and report["resolution"] == "working"


def test_eval_at_plate_resolution_scores_the_pipeline_output_and_writes_a_one_to_one_crop(tmp_path):
    done = infusion("eval", "--procedural", "waves", "--procedural-frames", "6", "--procedural-width", "96",
                    "--preset", "test", "--mattes", "still_boxes", "--variants", "1", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "eval.json").read_text())
    case = report["cases"][0]
    assert report["resolution"] == "plate" and case["shape"] == [6, 60, 96]  # the clip's own size, not 32 px
    assert {"grain_ratio", "detail_ratio", "psnr"} <= set(case["methods"]["infusion s0"])
    crop = oiio.ImageInput.open(case["crop_sheet"]).spec()
    rows = len(case["sheet_rows"])
    assert (crop.height, crop.width) == (2 + rows * (2 * 60 + 2), 2 + 6 * (2 * 96 + 2))  # the whole 60x96 frame, 2x

def test_eval_without_anything_to_evaluate_is_a_clean_error(tmp_path):
    done = infusion("eval", "--plate", str(tmp_path / "missing.####.exr"), "1-2", "--out", str(tmp_path))
    assert done.returncode == 2 and "missing" in done.stderr and "Traceback" not in done.stderr


def test_bench_json_reports_both_paths_and_their_ratio():
    done = infusion("bench", "--json", "--preset", "test", "--shape", "3x16x16", "--warmup", "0", "--repeats", "2",
                    "--e2e-train-steps", "1", "--e2e-sample-steps", "1")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert set(report["paths"]) == {"reference", "fast"}
    assert not any(report["paths"]["reference"]["acceleration"].values())
    assert report["paths"]["fast"]["acceleration"] == {"channels_last_3d": True, "autocast_bf16": False,
                                                       "compile": False, "onednn_twin": True, "cudnn_benchmark": False}
    for path in report["paths"].values():
        assert path["train_step"]["repeats"] == 2 and path["train_step"]["min_s"] <= path["train_step"]["median_s"]
        assert path["sample_step"]["median_s"] > 0 and path["end_to_end"]["seconds"] > 0
        assert path["peak_memory"]["peak_mb"] > 0
        throughput = path["throughput"]
        assert throughput["precision"] == "fp32"
        for step in ("train_step", "sample_step"):
            rate = report["network_flops"][step] / path[step]["median_s"]
            assert abs(throughput[step]["flops_per_s"] - rate) <= 1e-9 * rate
            assert throughput[step]["of_matmul_peak"] == throughput[step]["flops_per_s"] / report["matmul_flops_per_s"]["fp32"]
    assert report["train_step"] == report["paths"]["fast"]["train_step"]
    assert set(report["ratio_fast_over_reference"]) == {"train_step", "sample_step", "peak_memory", "end_to_end"}


def test_eval_scores_the_reference_and_fast_paths_side_by_side_and_they_agree(tmp_path):
    done = infusion("eval", "--procedural", "waves", "--procedural-frames", "6", "--working-size", "32",
                    "--preset", "test", "--mattes", "still_boxes", "--variants", "1", "--no-baselines",
                    "--resolution", "working", "--paths", "reference", "fast", "--json", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    methods = json.loads(done.stdout)["cases"][0]["methods"]
    assert set(methods) == {"infusion s0 reference", "infusion s0 fast"}
    reference, fast = methods["infusion s0 reference"], methods["infusion s0 fast"]
    assert abs(reference["psnr"] - fast["psnr"]) < 0.05  # same seed and weights: the levers change speed only
    assert abs(reference["ssim"] - fast["ssim"]) < 0.005


def test_eval_passes_its_training_overrides_to_the_settings(tmp_path):
    done = infusion("eval", "--procedural", "waves", "--procedural-frames", "6", "--working-size", "32",
                    "--preset", "test", "--mattes", "still_boxes", "--train-batch", "0", "--out", str(tmp_path))
    assert done.returncode == 2 and "train_batch" in done.stderr and "Traceback" not in done.stderr


def test_eval_sets_any_setting_and_names_a_bad_one(tmp_path):
    from infusion.engine.cli.eval import setting_overrides

    assert setting_overrides(["refine_detail=0.5", "reveal_prior=off", "camera=auto", "intervals=5"]) == {
        "refine_detail": 0.5, "reveal_prior": False, "camera": "auto", "intervals": 5}
    done = infusion("eval", "--procedural", "waves", "--procedural-frames", "6", "--preset", "test",
                    "--mattes", "still_boxes", "--set", "no_such_field=1", "--out", str(tmp_path))
    assert done.returncode == 2 and "no_such_field" in done.stderr and "Traceback" not in done.stderr
    done = infusion("eval", "--procedural", "waves", "--procedural-frames", "6", "--preset", "test",
                    "--mattes", "still_boxes", "--set", "camera=sideways", "--out", str(tmp_path))
    assert done.returncode == 2 and "camera" in done.stderr and "Traceback" not in done.stderr
