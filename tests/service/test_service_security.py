"""CurveZMQ: a client whose key is allowed is served, one without is refused; the bind policy; --insecure
warns; a submit says which preset it runs."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
import zmq

from infusion.engine.service.curve import check_bind_policy, create_keys, is_local_endpoint
from infusion.protocol import messages as m
from infusion.protocol import wire
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


def test_keys_are_reloaded_while_serving_and_a_job_belongs_to_the_key_that_submitted_it(tmp_path: Path) -> None:
    """Removing a key did not revoke it until a restart, adding one did not admit it; any client could
    list, fetch and cancel every job; a client on a vanished client's identity received its events."""
    keys, allowed = tmp_path / "keys", tmp_path / "allowed"
    allowed.mkdir()
    engine_public, engine_secret = create_keys(keys, "engine")
    pairs = {name: create_keys(keys, name) for name in ("alice", "bob", "admin")}
    for name in ("alice", "admin"):
        (allowed / f"{name}.key").write_bytes(Path(pairs[name][0]).read_bytes())
    make_shot(tmp_path / "shot")
    shot = tmp_path / "shot"

    def client(name: str, timeout: float = 5) -> EngineClient:
        return EngineClient(engine.endpoint, timeout=timeout, curve=CurveKeys.load(engine_public, pairs[name][1]))

    with Engine(tmp_path / "store", "--curve-secret-key", engine_secret, "--curve-allowed-clients", str(allowed),
                "--curve-admin-key", pairs["admin"][0], "--allow-root", str(shot)) as engine:
        alice = client("alice")
        alice.connect()
        job = alice.submit(str(shot / "plate.####.exr"), (FIRST, LAST), matte=str(shot / "matte.####.exr"),
                           preset="test", settings={"train_steps": 10**6}, by_reference=True)["job"]
        wait_for(lambda: alice.status(job)["state"] == "running")
        with pytest.raises(EngineError):
            client("bob", timeout=1.5).connect()
        (allowed / "bob.key").write_bytes(Path(pairs["bob"][0]).read_bytes())
        bob = wait_for(lambda: _connected(client("bob", timeout=1.5)))
        assert bob.jobs() == [] and bob.jobs_page()["total"] == 0 and bob.purge(0) == 0
        for request in (lambda: bob.status(job), lambda: bob.cancel(job), lambda: bob.fetch(job, FIRST),
                        lambda: next(bob.events(job))):
            with pytest.raises(EngineError) as hidden:
                request()
            assert hidden.value.code == ErrorCode.NOT_FOUND and hidden.value.message == f"no job {job} in this engine's store"
        with client("admin") as admin:
            assert [j["job"] for j in admin.jobs()] == [job]
        assert alice.status(job)["state"] == "running"  # bob's cancel did nothing
        (allowed / "alice.key").unlink()
        time.sleep(1.5)  # a few heartbeats: the folder is read again
        with pytest.raises(EngineError) as revoked:
            alice.status(job)  # on the connection opened while the key was allowed
        assert revoked.value.code == ErrorCode.NOT_ALLOWED
        with pytest.raises(EngineError):
            client("alice", timeout=1.5).connect()
        with client("admin") as admin:
            assert admin.cancel(job)["state"] == "cancelled"
        alice.close()
        bob.close()


def _connected(client: EngineClient):
    try:
        client.connect()
        return client
    except EngineError:
        return None


def test_a_client_on_a_vanished_clients_identity_receives_none_of_its_events(tmp_path: Path) -> None:
    keys, allowed = tmp_path / "keys", tmp_path / "allowed"
    allowed.mkdir()
    engine_public, engine_secret = create_keys(keys, "engine")
    pairs = {name: create_keys(keys, name) for name in ("alice", "bob")}
    for name in pairs:
        (allowed / f"{name}.key").write_bytes(Path(pairs[name][0]).read_bytes())
    make_shot(tmp_path / "shot")
    shot = tmp_path / "shot"
    with Engine(tmp_path / "store", "--curve-secret-key", engine_secret, "--curve-allowed-clients", str(allowed),
                "--allow-root", str(shot)) as engine:

        def dealer(name: str) -> zmq.Socket:
            socket = zmq.Context.instance().socket(zmq.DEALER)
            socket.linger = 0
            socket.setsockopt(zmq.IDENTITY, b"shared-identity")
            keys = CurveKeys.load(engine_public, pairs[name][1])
            socket.curve_serverkey, socket.curve_publickey, socket.curve_secretkey = (
                keys.server_public, keys.client_public, keys.client_secret)
            socket.connect(engine.endpoint)
            return socket

        def ask(socket: zmq.Socket, kind: str, **fields) -> dict:
            wire.send(socket, m.header(kind, id=7, **fields))
            while True:
                assert socket.poll(10_000)
                reply = wire.receive(socket)[1].header
                if reply.get("re") == 7:
                    return reply

        with EngineClient(engine.endpoint, timeout=5, curve=CurveKeys.load(engine_public, pairs["alice"][1])) as alice:
            job = alice.submit(str(shot / "plate.####.exr"), (FIRST, LAST), matte=str(shot / "matte.####.exr"),
                               preset="test", settings={"train_steps": 10**6}, by_reference=True)["job"]
            wait_for(lambda: alice.status(job)["state"] == "running")
        first = dealer("alice")
        assert ask(first, "attach", job=job)["type"] == "job"
        first.close()
        time.sleep(0.5)
        second = dealer("bob")
        assert ask(second, "ping")["type"] == "pong"
        deadline, heard = time.monotonic() + 2.0, []
        while time.monotonic() < deadline:
            if second.poll(100):
                heard.append(wire.receive(second)[1].header)
        second.close()
    assert not [h for h in heard if h.get("job") == job], heard[:3]


def test_a_client_on_a_vanished_clients_identity_hears_nothing_of_it_before_its_first_message(tmp_path: Path) -> None:
    """A client that reuses the identity of one that vanished (its connection closed) gets none of
    the vanished client's job events, not even before it sends anything: the engine forgets a
    client when its connection closes, and tells two connections on one identity apart."""
    make_shot(tmp_path / "shot")
    shot = tmp_path / "shot"
    with Engine(tmp_path / "store", "--allow-root", str(shot)) as engine:

        def dealer() -> zmq.Socket:
            socket = zmq.Context.instance().socket(zmq.DEALER)
            socket.linger = 0
            socket.setsockopt(zmq.IDENTITY, b"shared-identity")
            socket.connect(engine.endpoint)
            return socket

        def listen(socket: zmq.Socket, seconds: float, ping: bool = False) -> list:
            deadline, heard = time.monotonic() + seconds, []
            while time.monotonic() < deadline:
                if ping:  # a live follower: the engine forgets one silent for three heartbeats (1.5 s here)
                    wire.send(socket, m.header("ping", id=9))
                if socket.poll(100):
                    heard.append(wire.receive(socket)[1].header)
            return heard

        with EngineClient(engine.endpoint, timeout=5) as owner:
            job = owner.submit(str(shot / "plate.####.exr"), (FIRST, LAST), matte=str(shot / "matte.####.exr"),
                               preset="test", settings={"train_steps": 10**6}, by_reference=True)["job"]
            wait_for(lambda: owner.status(job)["state"] == "running")
            first = dealer()
            wire.send(first, m.header("attach", id=7, job=job))
            assert [h for h in listen(first, 1.0, ping=True) if h.get("job") == job and h["type"] == "progress"]
            first.close()
            time.sleep(0.2)
            second = dealer()
            silent = listen(second, 1.0)  # connected, nothing sent yet, within the 1.5 s a follower is kept
            wire.send(second, m.header("ping", id=8))
            spoken = listen(second, 1.0)
            second.close()
            owner.cancel(job)
    assert not [h for h in silent + spoken if h.get("job") == job], (silent + spoken)[:3]
    assert [h["type"] for h in spoken if h.get("re") == 8] == ["pong"]
