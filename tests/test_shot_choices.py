"""The one declaration of a shot's choices (protocol/shot.py): a choice added there alone appears in
the CLI, on the wire, in both hosts and in the farm template; the engine agrees with it."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from nuke_support import comp, fake_host, nuke
from resolve_support import open_panel, shot_comp
from service_support import FIRST, LAST, make_shot

from infusion.engine import cli
from infusion.engine.cli.farm import shot_from_arguments
from infusion.engine.cli.shot_arguments import chosen
from infusion.engine.farm.openjd import job_template, run_arguments
from infusion.engine.method.presets import PRESETS
from infusion.engine.method import settings as settings_module
from infusion.engine.method.presets import preset
from infusion.engine.method.settings import Settings
from infusion.engine.plates.request import ShotRequest
from infusion.host_plugins.common.farm import FarmPaths, farm_argv
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
        assert settings.get(choice.name) == choice.kind.__name__, choice.name  # limits (or values) hold every preset's
        if choice.values:
            assert all(getattr(preset, choice.name) in choice.values for preset in PRESETS.values()), choice.name
        else:
            assert all(choice.low <= getattr(preset, choice.name) <= choice.high for preset in PRESETS.values()), choice.name
    assert shot_schema.CHOICES[[c.name for c in shot_schema.CHOICES].index("camera")].values is settings_module.CAMERAS
    assert settings_module.CAMERAS is shot_schema.CAMERAS  # one home: the engine's Settings checks the declared values
    for camera in shot_schema.CAMERAS:
        assert Settings(camera=camera).camera == camera
    with pytest.raises(ValueError, match="camera must be one of still, auto"):
        Settings(camera="sideways")
    request = {field.name: field for field in dataclasses.fields(ShotRequest)}
    for choice in shot_schema.choices("options"):  # the engine's request has a field of its name and default
        assert request[choice.name].default == choice.default and request[choice.name].type is choice.kind


RUN = ["run", "--plate", "p.####.exr", "--frames", "1-2", "--out", "o.####.exr", "--preset", "test"]


def test_reveal_prior_and_camera_on_the_cli_reach_the_settings_and_unset_keeps_the_presets(
        monkeypatch: pytest.MonkeyPatch) -> None:
    parser = cli.build_parser()
    for words, expected in ((["--camera", "auto", "--reveal-prior", "off"], {"reveal_prior": False, "camera": "auto"}),
                            (["--reveal-prior", "on", "--camera", "still"], {"reveal_prior": True, "camera": "still"}),
                            (["--camera", "preset", "--reveal-prior", ""], {}), ([], {})):
        assert chosen(parser.parse_args([*RUN, *words]))["settings"] == expected, words
    assert preset("test").reveal_prior and preset("test").camera == "auto"  # what unset keeps
    assert not preset("paper").reveal_prior and preset("paper").camera == "still"

    from infusion.engine.cli import run as run_command
    ran = []
    monkeypatch.setattr(run_command, "run_shot", lambda request, *args, **kwargs: ran.append(request.settings) or
                        type("Result", (), {"outputs": (), "mean": None})())
    assert cli.main([*RUN, "--camera", "still", "--reveal-prior", "off"]) == 0
    assert cli.main([*RUN[:-1], "paper", "--camera", "auto"]) == 0
    assert cli.main(RUN) == 0
    assert [(s.preset, s.reveal_prior, s.camera) for s in ran] == [
        ("test", False, "still"), ("paper", False, "auto"), ("test", True, "auto")]
    assert ran[0].replace(reveal_prior=True, camera="auto") == preset("test")  # nothing else changed


@pytest.mark.parametrize("flag, value, allowed", [("--camera", "sideways", "preset, still, auto"),
                                                  ("--reveal-prior", "maybe", "preset, on, off"),
                                                  ("--reveal-prior", "True", "preset, on, off")])
def test_a_wrong_camera_or_reveal_prior_on_the_cli_names_the_choice_and_its_values(
        capsys: pytest.CaptureFixture, flag: str, value: str, allowed: str) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.build_parser().parse_args([*RUN, flag, value])
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert f"argument {flag}: {flag[2:].replace('-', '_')} {value!r} is not one of {allowed}" in error, error
    assert f"[--reveal-prior on|off] [--camera {'|'.join(shot_schema.CAMERAS)}]" in error  # the usage shows them


def menus(settings: dict) -> dict:
    """The camera and reveal prior among a shot's settings (forms always send seed and variants)."""
    return {name: value for name, value in settings.items() if name in ("reveal_prior", "camera")}


def submit_with(settings: dict) -> dict:
    return m.validate_request(m.header("submit", id=1, shot={**SHOT, "settings": settings}, inputs="reference"), 0).fields


def test_the_wire_takes_reveal_prior_and_camera_and_refuses_a_wrong_value_naming_it() -> None:
    assert submit_with({"reveal_prior": False, "camera": "auto"})["shot"]["settings"] == {"reveal_prior": False,
                                                                                          "camera": "auto"}
    assert submit_with({"reveal_prior": None, "camera": None})["shot"]["settings"] == {}  # nil: the preset's
    for settings, message in (({"camera": "sideways"}, "must be one of still, auto, got 'sideways'"),
                              ({"camera": "preset"}, "must be one of still, auto"),  # the forms' word is never sent
                              ({"camera": 1}, "must be a string"),
                              ({"reveal_prior": "on"}, "must be true or false, got str"),
                              ({"reveal_prior": 1}, "must be true or false, got int")):
        with pytest.raises(m.ProtocolError) as caught:
            submit_with(settings)
        (name,) = settings
        assert (caught.value.code, caught.value.field) == (m.ErrorCode.BAD_FIELD, f"shot.settings.{name}"), settings
        assert message in caught.value.message and f"shot.settings.{name}" in caught.value.message, caught.value.message


def test_the_engine_plans_the_job_with_them_and_answers_a_wrong_one_with_bad_field(tmp_path: Path) -> None:
    from infusion.engine.service.intake import plan_submit
    from infusion.protocol.client import EngineClient, EngineError
    from service_support import Engine

    make_shot(tmp_path / "shot")
    shot = {"frames": [FIRST, LAST], "plate": str(tmp_path / "shot" / "plate.####.exr"), "preset": "test",
            "matte": str(tmp_path / "shot" / "matte.####.exr")}
    fields_in = m.validate_request(m.header("submit", id=1, inputs="reference", shot={
        **shot, "settings": {"reveal_prior": False, "camera": "still"}}), 0).fields
    record = plan_submit(fields_in, [], [tmp_path / "shot"]).record
    assert (record["settings"]["reveal_prior"], record["settings"]["camera"]) == (False, "still")
    assert Settings.from_dict(record["settings"]) == preset("test", reveal_prior=False, camera="still")

    with Engine(tmp_path / "store") as engine:  # the running engine: its usual invalid-request reply
        client = EngineClient(engine.endpoint, timeout=30)
        try:
            with pytest.raises(EngineError) as caught:
                client.submit(shot["plate"], (FIRST, LAST), matte=shot["matte"], preset="test",
                              settings={"camera": "sideways"}, by_reference=True)
        finally:
            client.close()
    assert (caught.value.code, caught.value.field) == (m.ErrorCode.BAD_FIELD, "shot.settings.camera")
    assert "must be one of still, auto" in caught.value.message


def test_the_nuke_node_has_menus_for_them_and_sends_what_is_chosen(tmp_path: Path) -> None:
    make_shot(tmp_path / "shot")
    node = comp(tmp_path / "shot", "tcp://127.0.0.1:9", tmp_path / "cache")
    assert node["camera"].Class() == node["reveal_prior"].Class() == "Enumeration_Knob"
    assert node["camera"].values() == ["preset", *shot_schema.CAMERAS] and node["camera"].value() == "preset"
    assert node["reveal_prior"].values() == ["preset", "on", "off"] and node["reveal_prior"].value() == "preset"
    assert "follows the camera" in node["camera"].tooltip() and "preset: the preset's" in node["camera"].tooltip()
    assert menus(knobs.shot_spec(node, "p.####.exr", (FIRST, LAST)).settings()) == {}  # at preset: nothing sent
    node["camera"].setValue("auto")
    node["reveal_prior"].setValue("off")
    fake_host.open_script(fake_host.save_script())  # kept with the script
    node = nuke.toNode("Infusion1")
    spec = knobs.shot_spec(node, "p.####.exr", (FIRST, LAST))
    assert (spec.camera, spec.reveal_prior) == ("auto", False)
    assert menus(spec.settings()) == {"camera": "auto", "reveal_prior": False}
    argv = farm_argv(spec, FarmPaths.under("/farm", "sh010"), ["infusion"])  # Send to farm: the CLI's words
    assert argv[argv.index("--camera") + 1] == "auto" and argv[argv.index("--reveal-prior") + 1] == "off"
    assert chosen(cli.build_parser().parse_args(argv[1:]))["settings"] == spec.settings()

    del node._knobs["camera"]  # a node saved by an older release, without the knob: the preset's
    fake_host.open_script(fake_host.save_script())
    assert "camera" not in knobs.shot_spec(nuke.toNode("Infusion1"), "p.####.exr", (FIRST, LAST)).settings()


def test_the_resolve_panel_has_combos_for_them_and_sends_what_is_chosen(tmp_path: Path) -> None:
    make_shot(tmp_path / "shot")
    composition = shot_comp(tmp_path / "shot", tmp_path / "deliver")
    host, _ = open_panel(composition, "tcp://127.0.0.1:9", tmp_path / "cache")
    for name, entries in (("Camera", ["preset", *shot_schema.CAMERAS]), ("RevealPrior", ["preset", "on", "off"])):
        assert host.items[name]._kind == "ComboBox" and host.items[name].entries() == entries, name
        assert host.items[name].CurrentText == "preset", name
    assert "follows the camera" in host.items["Camera"].ToolTip
    assert menus(fields.shot_spec(fields.read(host.items), "p.####.exr", None, (FIRST, LAST)).settings()) == {}
    host.choose("Camera", "auto")
    host.choose("RevealPrior", "on")
    values = fields.read(host.items)
    spec = fields.shot_spec(values, "p.####.exr", None, (FIRST, LAST))
    assert menus(spec.settings()) == {"reveal_prior": True, "camera": "auto"}
    fields.keep(composition, values)  # the comp keeps them: a panel opened again shows them
    again, _ = open_panel(composition, "tcp://127.0.0.1:9", tmp_path / "cache")
    assert (again.items["Camera"].CurrentText, again.items["RevealPrior"].CurrentText) == ("auto", "on")


def test_the_farm_template_offers_them_and_a_task_runs_infusion_run_with_them() -> None:
    template = job_template(separate_matte=True)
    parameters = {p["name"]: p for p in template["parameterDefinitions"]}
    for name, allowed in (("Camera", ["preset", *shot_schema.CAMERAS]), ("RevealPrior", ["preset", "on", "off"])):
        parameter = parameters[name]
        assert (parameter["type"], parameter["default"], parameter["allowedValues"]) == ("STRING", "preset", allowed)
        assert parameter["userInterface"]["control"] == "DROPDOWN_LIST"
    args = template["steps"][0]["script"]["actions"]["onRun"]["args"]
    assert args[args.index("--camera") + 1] == "{{Param.Camera}}"
    assert args[args.index("--reveal-prior") + 1] == "{{Param.RevealPrior}}"

    parser = cli.build_parser()
    base = ["farm", "submit", "--plate", "/s/p.####.exr", "--frames", "1-2", "--out", "/s/o.####.exr",
            "--work-dir", "/s/w", "--bundle", "/s/b"]
    for words, camera, reveal in ((["--camera", "auto", "--reveal-prior", "off"], "auto", "off"), ([], "preset", "preset")):
        farm = shot_from_arguments(parser.parse_args([*base, *words]))
        values = {item["name"]: item["value"] for item in farm.parameter_values()}
        assert (values["Camera"], values["RevealPrior"]) == (camera, reveal)
        task = run_arguments(lambda name: str(values[name]), separate_matte=False)  # what the worker runs
        expected = {"camera": camera, "reveal_prior": {"on": True, "off": False}[reveal]} if words else {}
        assert menus(chosen(parser.parse_args(task))["settings"]) == expected
