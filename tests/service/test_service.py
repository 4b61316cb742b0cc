"""The engine service end to end: real ``infusion serve`` processes on 127.0.0.1, CPU, ``test`` preset."""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Dict, List, Tuple

import msgpack
import numpy as np
import pytest
import zmq

from infusion.engine import cli
from infusion.protocol.client import EngineClient, EngineError, JobEvent
from infusion.protocol.messages import ErrorCode

from service_support import FIRST, LAST, Engine, make_shot, read_exr, wait_for

pytestmark = pytest.mark.timeout(150)
FRAMES = list(range(FIRST, LAST + 1))


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("service")
    make_shot(root / "shot")
    make_shot(root / "outside")  # a copy outside the allowed root
    return root


@pytest.fixture(scope="module")
def engine(workspace: Path):
    with Engine(workspace / "store", "--allow-root", str(workspace / "shot"), "--max-frame-mb", "1") as running:
        yield running


def connect(endpoint: str, **options) -> EngineClient:
    client = EngineClient(endpoint, **{"timeout": 10, "heartbeat": 0.5, "reconnect_timeout": 60, **options})
    client.connect()
    return client


def submit(client: EngineClient, workspace: Path, by_reference: bool = False, **settings) -> Dict:
    shot = workspace / "shot"
    return client.submit(str(shot / "plate.####.exr"), (FIRST, LAST), matte=str(shot / "matte.####.exr"), preset="test",
                         settings=settings, by_reference=by_reference)


def frame_pixels(events: List[JobEvent], folder: Path) -> Dict[int, np.ndarray]:
    """Decode the EXR bytes of every frame event (the last one of each frame wins)."""
    folder.mkdir(parents=True, exist_ok=True)
    pixels = {}
    for event in events:
        if event.type == "frame":
            path = folder / f"{event.fields['frame']}.exr"
            path.write_bytes(event.payloads[0])
            pixels[event.fields["frame"]] = read_exr(path)
    return pixels


def test_submit_by_value_and_by_reference(engine: Engine, workspace: Path, tmp_path: Path) -> None:
    with connect(engine.endpoint) as client:
        assert client.engine["protocol"] == 1 and client.engine["devices"] == ["cpu"] and "test" in client.engine["presets"]
        accepted = submit(client, workspace)
        assert not accepted["existing"]
        events = list(client.events(accepted["job"]))
        kinds = [e.type for e in events]
        assert {"train", "sample"} <= {e.fields["phase"] for e in events if e.type == "progress"}
        previews = [e for e in events if e.type == "preview"]
        assert [p.fields["interval"] for p in previews] == [0, 1] and all(p.payloads[0][:4] == b"\x76\x2f\x31\x01" for p in previews)
        assert kinds[-1] == "done" and sorted(e.fields["frame"] for e in events if e.type == "frame") == FRAMES
        by_value = frame_pixels(events, tmp_path / "value")
        for frame, pixels in by_value.items():  # outside the matte every pixel is the plate's
            plate = read_exr(workspace / "shot" / f"plate.{frame:04d}.exr")
            outside = read_exr(workspace / "shot" / f"matte.{frame:04d}.exr")[..., 0] == 0
            assert np.array_equal(pixels[outside], plate[outside])
            assert not np.array_equal(pixels, plate)
        again = submit(client, workspace)
        assert again == {"job": accepted["job"], "state": "done", "existing": True, "preset": "test"}
        replayed = list(client.events(accepted["job"]))
        assert [e.fields["interval"] for e in replayed if e.type == "preview"] == [1]  # the latest preview only
        assert sorted(e.fields["frame"] for e in replayed if e.type == "frame") == FRAMES and replayed[-1].type == "done"

        referenced = submit(client, workspace, by_reference=True)
        assert referenced["job"] != accepted["job"]
        events = list(client.events(referenced["job"]))
        assert events[-1].type == "done"
        by_reference = frame_pixels(events, tmp_path / "reference")
        assert all(np.array_equal(by_reference[f], by_value[f]) for f in FRAMES)
        listed = {job["job"]: job for job in client.jobs()}
        assert listed[accepted["job"]]["state"] == listed[referenced["job"]]["state"] == "done"


def test_references_outside_the_roots_are_refused(engine: Engine, workspace: Path) -> None:
    (workspace / "shot" / "escape").mkdir(exist_ok=True)
    link = workspace / "shot" / "escape" / "plate.1001.exr"
    if not link.exists():
        link.symlink_to(workspace / "outside" / "plate.1001.exr")
    refused = [str(workspace / "outside" / "plate.####.exr"), str(workspace / "shot" / ".." / "outside" / "plate.####.exr"),
               "shot/plate.####.exr", str(workspace / "shot" / "escape" / "plate.####.exr")]
    with connect(engine.endpoint) as client:
        for plate in refused:
            with pytest.raises(EngineError) as caught:
                client.submit(plate, (FIRST, FIRST), matte_channel="R", preset="test", by_reference=True)
            assert caught.value.code == ErrorCode.PATH_NOT_ALLOWED, plate
        with pytest.raises(EngineError) as caught:
            client.submit(str(workspace / "shot" / "plate.####.exr"), (900, 901), preset="test", by_reference=True)
        assert caught.value.code == ErrorCode.NOT_FOUND and "900" in caught.value.message


def test_status_answers_fast_while_training_and_cancel_is_immediate(engine: Engine, workspace: Path) -> None:
    with connect(engine.endpoint) as client:
        job = submit(client, workspace, train_steps=5000, seed=11)["job"]
        stream = client.events(job, fetch_frames=False)
        assert next(e for e in stream if e.type == "progress" and e.fields["phase"] == "train")
        latencies = []
        for _ in range(10):
            start = time.monotonic()
            assert client.status(job)["state"] == "running"
            client.jobs()
            latencies.append(time.monotonic() - start)
        assert max(latencies) < 0.1, latencies
        start = time.monotonic()
        assert client.cancel(job)["state"] == "cancelled"
        assert next(e for e in stream if e.type == "cancelled")
        assert time.monotonic() - start < 2.0
        wait_for(lambda: client.status(job)["state"] == "cancelled" and client.status(job)["device"] is None)
        assert client.cancel(job)["state"] == "cancelled"  # cancelling twice is harmless


def test_a_client_with_a_slower_heartbeat_than_the_engine_stays_attached(engine: Engine, workspace: Path) -> None:
    """The engine (heartbeat 0.5 s) forgets clients silent for 1.5 s: one set to 2 s pings at the engine's rate."""
    with connect(engine.endpoint, heartbeat=2.0) as client:
        job = submit(client, workspace, train_steps=200, seed=12)["job"]
        reconnects = []
        client.reconnect = lambda: reconnects.append(time.monotonic())  # type: ignore[method-assign]
        events = list(client.events(job, fetch_frames=False))
        assert events[-1].type == "done" and not reconnects
        progress = [e.fields for e in events if e.type == "progress" and e.fields.get("phase") in ("train", "sample")]
        assert {fields["interval"] for fields in progress} == {0, 1}
        assert [e.fields["interval"] for e in events if e.type == "preview"] == [0, 1]


def test_disconnect_reattach_and_two_clients_at_once(engine: Engine, workspace: Path, tmp_path: Path) -> None:
    results: Dict[str, List[JobEvent]] = {}

    def second_client() -> None:
        with connect(engine.endpoint, name="second") as other:
            results["second"] = list(other.events(submit(other, workspace, seed=2)["job"]))

    helper = threading.Thread(target=second_client)
    helper.start()
    first = connect(engine.endpoint, name="first")
    job = submit(first, workspace, seed=1, train_steps=15)["job"]
    seen = []
    for event in first.events(job):
        seen.append(event)
        if event.type == "preview":
            break
    first.close()  # vanish mid-job: the job runs on
    last_seq = max(e.seq for e in seen if e.seq is not None)
    with connect(engine.endpoint, name="again") as again:
        rest = list(again.events(job, since=last_seq))
    helper.join(timeout=90)
    assert all(e.seq is None or e.seq > last_seq for e in rest)
    assert sorted(e.fields["frame"] for e in rest if e.type == "frame") == FRAMES and rest[-1].type == "done"
    assert all(len(e.payloads[0]) == e.fields["bytes"] for e in rest if e.type == "frame")
    assert results["second"][-1].type == "done"
    assert sorted(e.fields["frame"] for e in results["second"] if e.type == "frame") == FRAMES


def test_command_line_client(engine: Engine, workspace: Path, tmp_path: Path, capsys) -> None:
    shot = workspace / "shot"
    common = ["--engine", engine.endpoint, "--timeout", "10"]
    status = cli.main(["submit", *common, "--plate", str(shot / "plate.####.exr"), "--matte", str(shot / "matte.####.exr"),
                       "--frames", f"{FIRST}-{LAST}", "--out", str(tmp_path / "fill.####.exr"), "--preset", "test",
                       "--seed", "5", "--variants", "2"])
    assert status == 0
    written = sorted(os.listdir(tmp_path))
    assert written == sorted(f"fill_{label}.{f}.exr" for label in ("v1", "v2", "mean") for f in FRAMES)
    job = capsys.readouterr().err.split("job ")[1].split(" ")[0]
    assert cli.main(["jobs", *common]) == 0 and job in capsys.readouterr().out
    assert cli.main(["attach", job, *common, "--out", str(tmp_path / "again" / "fill.####.exr")]) == 0
    assert sorted(os.listdir(tmp_path / "again")) == written
    assert cli.main(["cancel", job, *common]) == 0 and "done" in capsys.readouterr().out


def malformed_messages(count: int, workspace: Path, seed: int = 0) -> List[Tuple[str, List[bytes]]]:
    """``count`` (label, frames) messages, each wrong in one way: every kind the engine must survive."""
    rng = np.random.default_rng(seed)
    plate = str(workspace / "shot" / "plate.####.exr")
    shot = {"frames": [FIRST, LAST], "plate": "plate.####.exr", "matte": "matte.####.exr", "preset": "test"}
    descriptors = [{"role": r, "frame": f} for r in ("plate", "matte") for f in FRAMES]
    wrong_values = [None, True, -1, 2**63, 1.5, "x" * 5000, b"\x00", [], {}, [1, "a"], {"a": object.__name__}]
    escaping = ["/etc/passwd.####.exr", "../shot/plate.####.exr", "plate.####.exr", str(workspace / "outside" / "plate.####.exr"),
                str(workspace / "shot" / ".." / "outside" / "plate.####.exr"), str(workspace / "shot" / "escape" / "plate.####.exr"),
                "/" + "a/" * 3000 + "p.####.exr", plate.replace("####", "#### ####"), plate + "\x00"]
    templates = {"status": {"job": "0123456789abcdef01234567"}, "attach": {"job": "0123456789abcdef01234567", "since": 0},
                 "fetch": {"job": "0123456789abcdef01234567", "frame": FIRST}, "cancel": {"job": "abcdef0123456789abcdef01"},
                 "submit": {"shot": shot, "inputs": "value", "payloads": descriptors}}

    def pack(header) -> bytes:
        return msgpack.packb(header, use_bin_type=True)

    def base(kind: str, **fields) -> Dict:
        return {"v": 1, "type": kind, "id": int(rng.integers(0, 2**31)), "parts": 0, **fields}

    messages = []
    for index in range(count):
        case = index % 12
        if case == 0:
            messages.append(("random bytes", [rng.bytes(int(rng.integers(0, 300)))]))
        elif case == 1:
            messages.append(("random frames", [rng.bytes(int(rng.integers(1, 64))) for _ in range(int(rng.integers(2, 5)))]))
        elif case == 2:
            version = [0, 2, "1", None, 1.0, -1, [1]][index % 7]
            messages.append(("wrong version", [pack({**base("list"), "v": version})]))
        elif case == 3:
            messages.append(("unknown type", [pack(base(["hack", 7, None, "__init__", "SUBMIT"][index % 5]))]))
        elif case == 4:
            kind = list(templates)[index % len(templates)]
            fields = dict(templates[kind])
            field = list(fields)[int(rng.integers(0, len(fields)))]
            fields[field] = wrong_values[int(rng.integers(0, len(wrong_values)))]
            messages.append((f"wrong type {kind}.{field}", [pack(base(kind, **fields))]))
        elif case == 5:
            sent = int(rng.integers(0, len(descriptors)))
            header = base("submit", **templates["submit"])
            header["parts"] = [sent, len(descriptors)][index % 2]
            messages.append(("missing frames", [pack(header)] + [b"\x76\x2f\x31\x01"] * sent))
        elif case == 6:
            if index % 120 == 6:
                messages.append(("oversized header", [pack(base("list", pad="x" * (1 << 20)))]))
            else:
                messages.append(("too many frames", [pack(base("submit", inputs="reference", shot={**shot, "frames": [0, 10**6]}))]))
        elif case == 7:
            path = escaping[index % len(escaping)]
            messages.append(("bad path", [pack(base("submit", inputs="reference", shot={**shot, "plate": path, "matte": None}))]))
        elif case == 8:
            messages.append(("not a map", [pack([None, 1, "list", [1, 2], b"\x01"][index % 5])]))
        elif case == 9:
            messages.append(("extension type", [msgpack.packb({"v": 1, "type": msgpack.ExtType(5, b"x"), "id": 1})]))
        elif case == 10:
            header = base("submit", **templates["submit"])
            header["parts"] = len(descriptors)
            messages.append(("payload not an EXR", [pack(header)] + [rng.bytes(64) for _ in descriptors]))
        else:
            header = base("ping")
            header["id"] = [None, -5, "1", 2**63 + 5, 1.0][index % 5]
            messages.append(("bad id", [pack(header)]))
    return messages


def test_fuzz_then_a_valid_job_completes(engine: Engine, workspace: Path) -> None:
    context = zmq.Context.instance()
    socket = context.socket(zmq.DEALER)
    socket.linger = 0
    socket.connect(engine.endpoint)
    known = {ErrorCode.BAD_MESSAGE, ErrorCode.BAD_VERSION, ErrorCode.UNKNOWN_TYPE, ErrorCode.BAD_FIELD,
             ErrorCode.MISSING_PAYLOAD, ErrorCode.TOO_LARGE, ErrorCode.PATH_NOT_ALLOWED, ErrorCode.NOT_FOUND, ErrorCode.BAD_INPUT}
    codes: Dict[str, set] = {}
    messages = malformed_messages(1200, workspace)
    for label, frames in messages:
        socket.send_multipart(frames)
        assert socket.poll(10_000), f"no reply to {label}"
        reply = msgpack.unpackb(socket.recv_multipart()[0], raw=False)
        assert reply["type"] == "error" and reply["code"] in known, (label, reply)
        codes.setdefault(label.split(" ")[0], set()).add(reply["code"])
    socket.close()
    assert {ErrorCode.TOO_LARGE, ErrorCode.PATH_NOT_ALLOWED, ErrorCode.MISSING_PAYLOAD, ErrorCode.BAD_VERSION,
            ErrorCode.BAD_INPUT, ErrorCode.UNKNOWN_TYPE, ErrorCode.BAD_FIELD} <= set().union(*codes.values())

    with connect(engine.endpoint) as client:  # a payload over the engine's frame limit, under ZMQ_MAXMSGSIZE
        with pytest.raises(EngineError) as caught:
            client._request("ping", [b"x" * (1536 << 10)])
        assert caught.value.code == ErrorCode.TOO_LARGE

    oversized = context.socket(zmq.DEALER)  # a frame over ZMQ_MAXMSGSIZE: the engine drops the connection
    oversized.linger = 0
    oversized.connect(engine.endpoint)
    oversized.send_multipart([msgpack.packb({"v": 1, "type": "ping", "id": 1, "parts": 1}), b"x" * (3 << 20)])
    assert not oversized.poll(1000)
    oversized.close()

    with connect(engine.endpoint) as client:
        events = list(client.events(submit(client, workspace, seed=99)["job"]))
    assert events[-1].type == "done" and sorted(e.fields["frame"] for e in events if e.type == "frame") == FRAMES
    assert "Traceback" not in "".join(engine.errors)
