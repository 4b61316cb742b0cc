import json
import subprocess
import sys


def infusion(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "infusion.engine.cli", *args], capture_output=True, text=True, timeout=300)


def test_bench_json_reports_parameters_and_step_times():
    done = infusion("bench", "--json", "--preset", "paper", "--shape", "3x16x16", "--warmup", "0", "--repeats", "1")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["parameters"] == 492_963
    assert report["train_step"]["median_s"] > 0 and report["sample_step"]["median_s"] > 0


def test_bad_arguments_get_a_clean_error():
    done = infusion("bench", "--shape", "12x64")
    assert done.returncode == 2
    assert "FRAMESxHEIGHTxWIDTH" in done.stderr and "Traceback" not in done.stderr
