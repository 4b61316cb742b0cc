"""The one declaration of a shot's choices (protocol/shot.py): a choice added there alone appears in
the CLI, on the wire, in both hosts and in the farm template; the engine agrees with it."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from nuke_support import comp
from resolve_support import open_panel, shot_comp
from service_support import FIRST, LAST, make_shot

from infusion.engine import cli
from infusion.engine.cli.farm import shot_from_arguments
from infusion.engine.cli.shot_arguments import chosen
from infusion.engine.farm.openjd import job_template
from infusion.engine.method.presets import PRESETS
from infusion.engine.method.settings import Settings
from infusion.engine.plates.request import ShotRequest
from infusion.host_plugins.nuke import knobs
from infusion.host_plugins.resolve import fields
from infusion.protocol import messages as m
from infusion.protocol import shot as shot_schema
from infusion.protocol.shot import Choice

FAKE = Choice("grain_boost", float, "options", "Matte", "grain boost", "extra grain in the fill", 0.0, 0.0, 2.0)
SHOT = {"frames": [1, 2], "plate": "/p/plate.####.exr", "preset": "test"}


@pytest.fixture
def fake_choice(monkeypatch: pytest.MonkeyPatch) -> Choice:
    monkeypatch.setattr(shot_schema, "CHOICES", (*shot_schema.CHOICES, FAKE))
    return FAKE


def test_a_choice_declared_once_reaches_the_cli_the_wire_both_hosts_and_the_farm(fake_choice: Choice, tmp_path: Path) -> None:
    parser = cli.build_parser()  # the CLI: run, submit and farm submit, checked as the wire checks it
    shot = ["--plate", "p.####.exr", "--frames", "1-2", "--grain-boost", "0.5"]
    for command in (["run", "--out", "o.####.exr"], ["submit"], ["farm", "submit", "--out", "o.####.exr",
                                                                  "--work-dir", "w", "--bundle", "b"]):
        assert chosen(parser.parse_args([*command, *shot]))["options"] == {"grain_boost": 0.5}, command
    assert chosen(parser.parse_args(["run", "--out", "o.####.exr", *shot[:-1], "0"]))["options"] == {}  # its default
    with pytest.raises(SystemExit):
        parser.parse_args(["run", "--out", "o.####.exr", *shot[:-1], "3"])

    submit = m.header("submit", id=1, shot={**SHOT, "options": {"grain_boost": 1}}, inputs="reference")  # the wire
    assert m.validate_request(submit, 0).fields["shot"]["options"] == {"grain_boost": 1.0}
    with pytest.raises(m.ProtocolError) as caught:
        m.validate_request(m.header("submit", id=1, shot={**SHOT, "options": {"grain_boost": 3}}, inputs="reference"), 0)
    assert (caught.value.code, caught.value.field) == (m.ErrorCode.BAD_FIELD, "shot.options.grain_boost")

    make_shot(tmp_path / "shot")
    node = comp(tmp_path / "shot", "tcp://127.0.0.1:9", tmp_path / "cache")  # the Nuke node: a knob, read into the shot
    assert node["grain_boost"].value() == 0.0 and "extra grain" in node["grain_boost"].tooltip()
    node["grain_boost"].setValue(0.25)
    assert knobs.shot_spec(node, "p.####.exr", (FIRST, LAST)).options() == {"grain_boost": 0.25}

    host, _ = open_panel(shot_comp(tmp_path / "shot", tmp_path / "deliver"), "tcp://127.0.0.1:9", tmp_path / "cache")
    assert host.text("GrainBoost") == "0.0"  # the Resolve panel: a field, read into the shot
    host.type("GrainBoost", "0.75")
    spec = fields.shot_spec(fields.read(host.items), "p.####.exr", None, (FIRST, LAST))
    assert spec.grain_boost == 0.75 and spec.options() == {"grain_boost": 0.75}

    template = job_template(separate_matte=False)  # the farm: a template parameter, passed to infusion run
    (parameter,) = [p for p in template["parameterDefinitions"] if p["name"] == "GrainBoost"]
    assert (parameter["type"], parameter["default"], parameter["minValue"], parameter["maxValue"]) == ("FLOAT", 0.0, 0.0, 2.0)
    args = template["steps"][0]["script"]["actions"]["onRun"]["args"]
    assert args[args.index("--grain-boost") + 1] == "{{Param.GrainBoost}}"
    farm = shot_from_arguments(parser.parse_args(["farm", "submit", "--out", "o.####.exr", "--work-dir", "w",
                                                  "--bundle", "b", *shot]))
    assert {item["name"]: item["value"] for item in farm.parameter_values()}["GrainBoost"] == 0.5


def test_the_engine_agrees_with_the_declaration() -> None:
    assert set(shot_schema.PRESETS) == set(PRESETS) and shot_schema.DEFAULT_PRESET in PRESETS
    settings = {field.name: getattr(field.type, "__name__", field.type) for field in dataclasses.fields(Settings)}
    for choice in shot_schema.choices("settings"):  # each overrides the Settings field of its name, and its
        assert settings.get(choice.name) == choice.kind.__name__, choice.name  # limits hold every preset's value
        assert all(choice.low <= getattr(preset, choice.name) <= choice.high for preset in PRESETS.values()), choice.name
    request = {field.name: field for field in dataclasses.fields(ShotRequest)}
    for choice in shot_schema.choices("options"):  # the engine's request has a field of its name and default
        assert request[choice.name].default == choice.default and request[choice.name].type is choice.kind
