"""Farm: OpenJD templates and bundles (checked by the openjd CLI), and the OpenCue spec."""
import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from infusion.engine.farm.openjd import TEMPLATE_FILES, template_text

REPO = Path(__file__).resolve().parents[2]
TEMPLATES = REPO / "install" / "farm" / "openjd"
OPENJD = shutil.which("openjd") or str(Path(sys.executable).parent / "openjd")


def infusion(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "infusion.engine.cli", *args], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("separate_matte", [True, False])
def test_committed_templates_are_the_generated_ones_and_pass_openjd_check(separate_matte):
    path = TEMPLATES / TEMPLATE_FILES[separate_matte]
    assert path.read_text() == template_text(separate_matte), "regenerate with `infusion farm template`"
    checked = subprocess.run([OPENJD, "check", str(path)], capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def submit(tmp_path: Path, *extra: str) -> Path:
    bundle = tmp_path / "bundle"
    done = infusion("farm", "submit", "--plate", str(tmp_path / "in dir" / "plate.####.exr"), "--frames", "1001-1006",
                    "--out", str(tmp_path / "out" / "fill.####.exr"), "--work-dir", str(tmp_path / "work"),
                    "--bundle", str(bundle), "--preset", "test", "--device", "cpu", *extra)
    assert done.returncode == 0, done.stderr
    return bundle


def test_bundle_has_deadline_files_and_its_values_satisfy_the_template(tmp_path):
    bundle = submit(tmp_path, "--matte", str(tmp_path / "mattes" / "matte.%04d.exr"), "--threshold", "0.5", "--dilation", "3",
                    "--colorspace", "ACES2065-1", "--camera", "auto")
    values = json.loads((bundle / "parameter_values.json").read_text())["parameterValues"]
    by_name = {item["name"]: item["value"] for item in values}
    assert by_name["PlateName"] == "plate.####.exr" and by_name["MatteName"] == "matte.%04d.exr"
    assert (by_name["Threshold"], by_name["Dilation"], by_name["Margin"]) == (0.5, 3, 1.0)
    assert (by_name["Colorspace"], by_name["Encoding"]) == ("ACES2065-1", "compositing_log")
    assert (by_name["Camera"], by_name["RevealPrior"]) == ("auto", "preset")  # a menu left unset: its blank entry
    assert (by_name["FrameStart"], by_name["FrameEnd"]) == (1001, 1006)
    assets = json.loads((bundle / "asset_references.json").read_text())["assetReferences"]
    assert str(tmp_path / "out") in assets["outputs"]["directories"]
    summary = subprocess.run([OPENJD, "summary", str(bundle / "template.json"), "-p", f"file://{bundle / 'openjd_parameters.json'}"],
                             capture_output=True, text=True, timeout=120)
    assert summary.returncode == 0, summary.stdout + summary.stderr
    assert "--matte" in json.dumps(json.loads((bundle / "template.json").read_text()))


def test_bundle_without_matte_uses_the_channel_template(tmp_path):
    bundle = submit(tmp_path)
    template = json.loads((bundle / "template.json").read_text())
    names = {p["name"] for p in template["parameterDefinitions"]}
    assert "MatteDir" not in names and "--matte" not in template["steps"][0]["script"]["actions"]["onRun"]["args"]


def test_bad_frame_range_is_named(tmp_path):
    done = infusion("farm", "submit", "--plate", "p.####.exr", "--frames", "20-10", "--out", "o.####.exr",
                    "--work-dir", str(tmp_path), "--bundle", str(tmp_path / "b"))
    assert done.returncode == 2 and "ends before it starts" in done.stderr


def test_opencue_spec_is_serialized_without_a_cuebot(tmp_path):
    pytest.importorskip("outline", reason="the farm-opencue extra is not installed")
    bundle = submit(tmp_path, "--opencue-show", "demo", "--shot-name", "sh010", "--reveal-prior", "off")
    spec = ElementTree.fromstring((bundle / "opencue_job.xml").read_text().split("?>", 1)[1].split(">", 1)[1])
    assert spec.findtext("show") == "demo" and spec.findtext("shot") == "sh010"
    command = spec.find("job/layers/layer/cmd").text
    assert command.startswith("infusion run --plate ") and f"'{tmp_path / 'in dir' / 'plate.####.exr'}'" in command
    assert "--work-dir" in command and spec.findtext("job/layers/layer/range") == "1"
    assert "--reveal-prior off" in command and "--camera preset" in command  # set, and left to the preset
