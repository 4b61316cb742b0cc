"""CurveZMQ: a client whose key is allowed is served, one without is refused; the bind policy; --insecure
warns; a submit says which preset it runs."""
from __future__ import annotations

from pathlib import Path

import pytest

from infusion.engine.service.curve import check_bind_policy, create_keys, is_local_endpoint
from infusion.protocol.client import CurveKeys, EngineClient, EngineError
from infusion.protocol.messages import ErrorCode
from infusion.protocol.shot import DEFAULT_PRESET

from service_support import FIRST, LAST, Engine, make_shot, wait_for

pytestmark = pytest.mark.timeout(90)


def test_only_clients_with_an_allowed_key_are_served(tmp_path: Path) -> None:
    keys, allowed = tmp_path / "keys", tmp_path / "allowed"
    allowed.mkdir()
    engine_public, engine_secret = create_keys(keys, "engine")
    good_public, good_secret = create_keys(keys, "good")
    create_keys(keys, "stranger")
    (allowed / "good.key").write_bytes(Path(good_public).read_bytes())
    with Engine(tmp_path / "store", "--curve-secret-key", engine_secret, "--curve-allowed-clients", str(allowed)) as engine:
        with EngineClient(engine.endpoint, timeout=5, curve=CurveKeys.load(engine_public, good_secret)) as client:
            assert client.engine["protocol"] == 1 and client.jobs() == []
        refused = [CurveKeys.load(engine_public, str(keys / "stranger.key_secret")), None]
        for curve in refused:
            with pytest.raises(EngineError) as caught:
                EngineClient(engine.endpoint, timeout=1.5, curve=curve).connect()
            assert caught.value.code == ErrorCode.UNAVAILABLE
        with EngineClient(engine.endpoint, timeout=5, curve=CurveKeys.load(engine_public, good_secret)) as client:
            assert client.ping() < 1.0  # still serving the allowed client


def test_bind_policy() -> None:
    assert is_local_endpoint("tcp://127.0.0.1:5557") and is_local_endpoint("tcp://[::1]:*") and is_local_endpoint("ipc:///tmp/e")
    assert not is_local_endpoint("tcp://0.0.0.0:5557") and not is_local_endpoint("tcp://10.1.2.3:5557")
    check_bind_policy("tcp://localhost:5557", None, insecure=False)
    check_bind_policy("tcp://0.0.0.0:5557", None, insecure=True)
    with pytest.raises(ValueError, match="--curve-secret-key"):
        check_bind_policy("tcp://0.0.0.0:5557", None, insecure=False)
    with pytest.raises(ValueError, match="tcp://HOST:PORT"):
        is_local_endpoint("udp://0.0.0.0:1")


def test_insecure_says_so(tmp_path: Path) -> None:
    with Engine(tmp_path / "store", "--insecure") as engine:
        wait_for(lambda: any("warning: --insecure" in line for line in engine.errors))
        with EngineClient(engine.endpoint, timeout=5) as client:
            assert client.jobs() == []
    warning = next(line for line in engine.errors if "warning: --insecure" in line)
    assert warning.startswith("infusion serve: warning: --insecure: no CurveZMQ on tcp://127.0.0.1:*; any machine that "
                              "reaches it can submit, list, fetch and cancel jobs")


def test_a_submit_with_a_nil_preset_runs_the_default_and_is_told_so(tmp_path: Path) -> None:
    """``preset: nil`` ran ``standard`` and nothing said so."""
    make_shot(tmp_path / "shot")
    shot = tmp_path / "shot"
    with Engine(tmp_path / "store", "--allow-root", str(shot)) as engine:
        with EngineClient(engine.endpoint, timeout=10) as client:
            accepted = client.submit(str(shot / "plate.####.exr"), (FIRST, LAST), matte=str(shot / "matte.####.exr"),
                                     preset=None, by_reference=True)
            assert accepted["preset"] == DEFAULT_PRESET == "standard"
            assert client.status(accepted["job"])["preset"] == "standard"
            client.cancel(accepted["job"])
