"""The systemd unit in install/service: its ExecStart, with its Environment= lines filled in,
starts a real engine with CURVE keys laid out as the service README says, and SIGTERM (what
`systemctl stop` sends) ends it cleanly."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

from infusion.engine.service.curve import create_keys
from infusion.protocol.client import CurveKeys, EngineClient

from service_support import Engine

UNIT = Path(__file__).resolve().parents[2] / "install" / "service" / "infusion-engine.service"


def unit_entries(key: str) -> list:
    return [line.split("=", 1)[1] for line in UNIT.read_text().splitlines() if line.startswith(key + "=")]


def test_the_units_command_serves_allowed_clients_and_stops_on_sigterm(tmp_path: Path) -> None:
    environment = dict(entry.split("=", 1) for entry in unit_entries("Environment"))
    assert set(environment) == {"INFUSION_BIND", "INFUSION_STORE", "INFUSION_KEYS", "INFUSION_ALLOWED_ROOT"}
    keys = tmp_path / "keys"
    (keys / "allowed").mkdir(parents=True)
    (tmp_path / "show").mkdir()
    engine_public, _ = create_keys(keys, "engine")
    workstation_public, workstation_secret = create_keys(tmp_path / "ws", "ws12")
    (keys / "allowed" / "ws12.key").write_bytes(Path(workstation_public).read_bytes())
    environment.update(INFUSION_BIND="tcp://127.0.0.1:*", INFUSION_STORE=str(tmp_path / "store"),
                       INFUSION_KEYS=str(keys), INFUSION_ALLOWED_ROOT=str(tmp_path / "show"))

    (command,) = unit_entries("ExecStart")
    argv = shlex.split(re.sub(r"\$\{(\w+)\}", lambda match: environment[match.group(1)], command))
    assert argv[0].endswith("/bin/infusion") and argv[1] == "serve"
    with Engine(tmp_path / "store", *argv[2:]) as engine:
        with EngineClient(engine.endpoint, timeout=5, curve=CurveKeys.load(engine_public, workstation_secret)) as client:
            assert client.jobs() == []
        assert engine.stop() == 0
