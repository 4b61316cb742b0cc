"""Issue 16's "Done means" re-run: the attack classes against real ``infusion serve`` and
``infusion run`` processes on 127.0.0.1, at ``--scale`` times the original counts.

Not a test (pytest does not collect it, CI does not run it). Run it from the repository root:

    OMP_NUM_THREADS=1 nice -n 19 .venv/bin/python tests/attack/rerun_attacks.py --scale 10 \
        --work /tmp/attack/run --json /tmp/attack/run/figures.json

``--scale 1`` is the original counts (3,000 fuzz messages, 2 SIGKILLs, 200 queued jobs, a
1,000-job store); ``--scale 10`` the done-means counts (30,000, 20, 2,000, 10,000).
``--phases fuzz,kills,queue,store`` picks phases. Every engine and run process (and this
script's own use of the engine's storage code) imports a snapshot of ``git HEAD``'s engine/ and
protocol/ taken into WORK/snap at start (``--tree`` copies the working tree instead), so edits
made while it runs do not change what is measured. Figures are printed and written as JSON;
docs/attack_rerun.md records a run. Exits 1 if any check failed.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

REPO = Path(__file__).resolve().parents[2]
PY = sys.executable
FIRST, LAST, SIZE = 1001, 1006, 48
FRAMES = list(range(FIRST, LAST + 1))
KILL_SETTINGS = {"train_steps": 40, "sample_steps": 40}
MOMENTS = ["E-intake", "E-outwrite", "E-train", "R-outwrite", "E-sample", "R-train", "E-refine", "R-checkpoint",
           "E-checkpoint", "R-refine"]
FAILURES: List[str] = []


def check(ok: bool, what: str) -> bool:
    if not ok:
        FAILURES.append(what)
        print(f"  CHECK FAILED: {what}", flush=True)
    return ok


def log(*text: Any) -> None:
    print(time.strftime("%H:%M:%S"), *text, flush=True)


# --- the snapshot this script and its processes import ------------------------------------------

def snapshot(work: Path, tree: bool) -> Path:
    snap = work / "snap"
    if snap.exists():
        shutil.rmtree(snap)
    (snap / "infusion").mkdir(parents=True)
    if tree:
        for part in ("engine", "protocol", "host_plugins"):
            shutil.copytree(REPO / part, snap / "infusion" / part, ignore=shutil.ignore_patterns("__pycache__"))
    else:
        archive = subprocess.run(["git", "-C", str(REPO), "archive", "HEAD", "engine", "protocol", "host_plugins"],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(snap / "infusion")], input=archive, check=True)
    (snap / "infusion" / "__init__.py").write_text("")
    return snap


def reexec_in_snapshot(args: argparse.Namespace) -> None:
    """Run this script again with the snapshot first on PYTHONPATH (children inherit it)."""
    if os.environ.get("INFUSION_ATTACK_SNAPSHOT"):
        return
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    snap = snapshot(work, args.tree)
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    env = dict(os.environ, PYTHONPATH=f"{snap}{os.pathsep}{REPO / 'tests'}", OMP_NUM_THREADS="1",
               INFUSION_ATTACK_SNAPSHOT=commit + (" + working tree" if args.tree else ""), PYTHONUNBUFFERED="1")
    os.execve(PY, [PY, *sys.argv], env)


# --- helpers ------------------------------------------------------------------------------------

def rss_kb(pid: int) -> Dict[str, int]:
    """VmRSS and VmHWM (peak) of a process, in KiB, from /proc."""
    found = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(("VmRSS:", "VmHWM:")):
                found[line.split(":")[0]] = int(line.split()[1])
    except OSError:
        pass
    return found


def percentile(values: List[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def submit_shot(client, shot: Path, settings: Dict[str, Any], by_reference: bool = False) -> Dict[str, Any]:
    return client.submit(str(shot / "plate.####.exr"), (FIRST, LAST), matte=str(shot / "matte.####.exr"),
                         preset="test", settings=settings, by_reference=by_reference)


def frames_of(events, read_exr, folder: Path) -> Dict[int, Tuple[bytes, Any]]:
    """frame -> (EXR bytes, pixels) of a job's frame events (each carrying its bytes)."""
    folder.mkdir(parents=True, exist_ok=True)
    found = {}
    for event in (e for e in events if e.type == "frame"):
        path = folder / f"{event.fields['frame']}.{event.fields['variant']}.exr"
        path.write_bytes(event.payloads[0])
        found[event.fields["frame"]] = (event.payloads[0], read_exr(path))
    return found


def run_frames(out: Path, read_exr) -> Dict[int, Tuple[bytes, Any]]:
    return {f: ((out / f"fill.{f:04d}.exr").read_bytes(), read_exr(out / f"fill.{f:04d}.exr"))
            for f in FRAMES if (out / f"fill.{f:04d}.exr").exists()}


def compare(got: Dict[int, Tuple[bytes, Any]], expected: Dict[int, Tuple[bytes, Any]]) -> Dict[str, Any]:
    import numpy as np
    same_pixels = sorted(got) == sorted(expected) == FRAMES and all(np.array_equal(got[f][1], expected[f][1]) for f in got)
    same_bytes = sorted(got) == sorted(expected) == FRAMES and all(got[f][0] == expected[f][0] for f in got)
    return {"frames": len(got), "pixels_identical": bool(same_pixels), "bytes_identical": bool(same_bytes)}


def temporaries(folder: Path) -> List[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob(".*") if p.is_file() and p.name != ".lock")


# --- phase: fuzz --------------------------------------------------------------------------------

def fuzz_messages(rng: random.Random, count: int, job_ids: List[str]):
    """(class, frames, expect) for ``count`` hostile messages; expect 'reply' or 'drop' (a frame over
    ZMQ_MAXMSGSIZE: libzmq closes the connection, nothing can answer)."""
    import msgpack
    from infusion.protocol import messages as m
    pk = lambda value: msgpack.packb(value, use_bin_type=True)  # noqa: E731
    valid_shot = {"frames": [FIRST, LAST], "plate": "plate.####.exr", "matte": "matte.####.exr", "preset": "test"}
    wrong = [None, True, -1, 2**64 - 1, 1.5, float("nan"), float("inf"), "", "x" * 5000, "\x00", [], [1, 2, 3], {}, {"a": 1},
             b"bytes", -2**63]

    def random_value(depth: int = 0):
        pick = rng.randrange(8 if depth < 3 else 5)
        if pick == 0:
            return rng.randrange(-2**63, 2**63)
        if pick == 1:
            return rng.random() * 10 ** rng.randrange(-5, 300)
        if pick == 2:
            return "".join(chr(rng.randrange(0, 0x3000)) for _ in range(rng.randrange(0, 30)))
        if pick == 3:
            return bytes(rng.randrange(256) for _ in range(rng.randrange(0, 30)))
        if pick == 4:
            return rng.choice([None, True, False])
        if pick == 5:
            return [random_value(depth + 1) for _ in range(rng.randrange(0, 5))]
        return {str(random_value(depth + 1))[:20]: random_value(depth + 1) for _ in range(rng.randrange(0, 5))}

    def wrong_types():
        kind = rng.choice([m.SUBMIT, m.STATUS, m.CANCEL, m.LIST, m.ATTACH, m.FETCH, m.PURGE, m.HELLO, m.DETACH])
        fields: Dict[str, Any] = {
            m.SUBMIT: {"shot": dict(valid_shot), "inputs": "reference"}, m.STATUS: {"job": "ab" * 12},
            m.CANCEL: {"job": "ab" * 12}, m.LIST: {"limit": 10}, m.ATTACH: {"job": "ab" * 12, "since": 0},
            m.FETCH: {"job": "ab" * 12, "frame": 1}, m.PURGE: {"older_than": 1e9}, m.HELLO: {"client": "x"},
            m.DETACH: {"job": "ab" * 12}}[kind]
        target = fields
        if kind == m.SUBMIT and rng.random() < 0.6:
            target = fields["shot"] = dict(valid_shot, settings={}, options={})
            name = rng.choice(["frames", "plate", "matte", "preset", "settings", "options", "matte_channel"])
            if name in ("settings", "options"):
                inner = rng.choice({"settings": ["seed", "variants", "intervals", "train_steps", "refine_levels", "camera"],
                                    "options": ["threshold", "dilation", "margin", "colorspace"]}[name])
                target[name] = {inner: rng.choice(wrong)}
                if inner in ("dilation", "threshold") and rng.random() < 0.5:
                    target[name] = {inner: rng.choice([10**9, -5, 1e300])}
            else:
                target[name] = rng.choice(wrong) if name != "frames" else rng.choice(
                    [[5, 1], [1, 10**6], [1], "1-6", [1.0, 2.0], [None, 1], [True, 2]])
                if name in ("matte", "preset") and target[name] is None:
                    target[name] = 7
        else:
            name = rng.choice(list(fields) + ["unknown_field"])
            target[name] = rng.choice(wrong) if name != "job" else rng.choice(wrong + ["../../etc", "G" * 24])
        return [pk({"v": 1, "type": kind, "id": rng.randrange(2**62), "parts": 0, **fields})], "reply"

    def malformed():
        valid = pk(m.header(m.STATUS, id=5, job="ab" * 12))
        pick = rng.randrange(7)
        if pick == 0:
            return [valid[:rng.randrange(1, len(valid))]], "reply"  # truncated msgpack
        if pick == 1:
            return [msgpack.packb(msgpack.ExtType(rng.randrange(128), b"\x00" * 8))], "reply"  # extension type
        if pick == 2:
            return [b"\xc1" + valid], "reply"  # a byte msgpack never uses
        if pick == 3:
            return [pk(rng.choice([1, "status", [1, "status"], None, 3.5, b"x"]))], "reply"  # not a map
        if pick == 4:
            return [msgpack.packb({1: "x", b"k": 2}, use_bin_type=True)], "reply"  # non-string keys
        if pick == 5:
            return [valid + b"\x00\x01"], "reply"  # trailing bytes
        return [pk({"v": 1, "type": "status", "id": 1, "job": "ab" * 12, "nested": [[[[[[[[[[]]]]]]]]]]})], "reply"

    def huge():
        pick = rng.randrange(8)
        if pick == 0:
            return [pk(m.header(m.PING, id=1) | {"parts": rng.choice([10**9, 2**63, -1, 40_001])})], "reply"
        if pick == 1:  # declares 20,000 parts, carries none
            return [pk(m.header(m.SUBMIT, 0, id=1, inputs="value", shot=valid_shot) | {"parts": 20_000})], "reply"
        if pick == 2:  # a payload frame over --max-frame-mb 1, under ZMQ_MAXMSGSIZE
            return [pk(m.header(m.SUBMIT, 1, id=1, inputs="value", shot=valid_shot,
                                payloads=[{"role": "plate", "frame": FIRST}])), b"\x76\x2f\x31\x01" + b"\0" * (1_500_000)], "reply"
        if pick == 3 and rng.random() < 0.15:  # a frame over ZMQ_MAXMSGSIZE (2 MiB here): the connection closes
            return [pk(m.header(m.PING, id=1)), b"\0" * 3_000_000], "drop"
        if pick == 4:  # a header over MAX_HEADER_BYTES (1 MiB)
            return [pk({"v": 1, "type": "status", "id": 1, "job": "x" * 1_200_000})], "reply"
        if pick == 5:  # a shot of 10,000 frames announced, two payloads
            shot = dict(valid_shot, frames=[1, 10_000])
            return [pk(m.header(m.SUBMIT, 2, id=1, inputs="value", shot=shot,
                                payloads=[{"role": "plate", "frame": 1}, {"role": "plate", "frame": 2}])),
                    b"\x76\x2f\x31\x01", b"\x76\x2f\x31\x01"], "reply"
        if pick == 6:  # more frames than MAX_PAYLOADS
            return [pk(m.header(m.PING, id=1))] + [b""] * 20_002, "reply"
        return [pk(m.header(m.SUBMIT, 0, id=1, inputs="value", shot=dict(valid_shot, frames=[1, 10**7])))], "reply"

    def unknown_kind():
        header = {"v": rng.choice([1, 1, 1, 0, 2, "1", None, 1.0]), "type": rng.choice(
            ["", "shutdown", "eval", "__init__", "SUBMIT", "exec", 7, None, "x" * 300, "ping\x00"]), "id": rng.randrange(99)}
        if header["v"] == 1 and type(header["v"]) is int and header["type"] in REQUEST_TYPES:
            header["type"] = "nope"
        return [pk(header)], "reply"

    def truncated():
        pick = rng.randrange(4)
        descriptors = [{"role": r, "frame": f} for r in ("plate", "matte") for f in FRAMES]
        header = m.header(m.SUBMIT, len(descriptors), id=3, inputs="value", shot=valid_shot, payloads=descriptors)
        if pick == 0:  # fewer frames than the header announces
            return [pk(header)] + [b"\x76\x2f\x31\x01"] * rng.randrange(0, len(descriptors)), "reply"
        if pick == 1:  # the right count, not EXR
            return [pk(header)] + [bytes(rng.randrange(256) for _ in range(40)) for _ in descriptors], "reply"
        if pick == 2:  # EXR magic, then garbage (intake reads the header)
            return [pk(header)] + [b"\x76\x2f\x31\x01" + bytes(rng.randrange(256) for _ in range(60)) for _ in descriptors], "reply"
        return [pk(m.header(m.STATUS, 2, id=4, job="ab" * 12)), b"a", b"b"], "reply"  # payloads where none belong

    def random_bytes():
        return [bytes(rng.randrange(256) for _ in range(rng.randrange(0, 300))) for _ in range(rng.randrange(1, 4))], "reply"

    def random_map():
        return [pk({"v": 1, "type": rng.choice(list(REQUEST_TYPES)), "id": rng.randrange(2**62),
                    **{str(random_value())[:12]: random_value() for _ in range(rng.randrange(1, 4))}})], "reply"

    def not_found():
        kind = rng.choice([m.STATUS, m.CANCEL, m.FETCH, m.ATTACH])
        job = rng.choice(job_ids) if job_ids and rng.random() < 0.1 else "%024x" % rng.randrange(16**24)
        fields = {"job": job, **({"frame": 5000} if kind == m.FETCH else {})}
        return [pk(m.header(kind, id=rng.randrange(2**62), **fields))], "reply"

    REQUEST_TYPES = set(m.REQUESTS)
    classes = {"malformed_msgpack": malformed, "wrong_types": wrong_types, "huge_parts": huge, "unknown_kind": unknown_kind,
               "truncated_multipart": truncated, "random_bytes": random_bytes, "random_fields": random_map,
               "not_found": not_found}
    names = list(classes)
    for index in range(count):
        name = names[index % len(names)]
        frames, expect = classes[name]()
        yield name, frames, expect


def phase_fuzz(scale: int, work: Path, shot: Path, references: "References") -> Dict[str, Any]:
    import msgpack
    import zmq
    from infusion.protocol import messages as m
    from infusion.protocol.client import EngineClient
    from service_support import Engine
    EVENTS = set(m.JOB_EVENTS) | {m.HEARTBEAT}
    count = 3000 * scale
    folder = work / "fuzz"
    shutil.rmtree(folder, ignore_errors=True)
    engine = Engine(folder / "store", "--max-frame-mb", "1", "--allow-root", str(shot))
    figures: Dict[str, Any] = {"messages": count, "senders": 4}
    try:
        probe = EngineClient(engine.endpoint, timeout=10)
        probe.connect()
        seeded = submit_shot(probe, shot, {"seed": 1, "refine_levels": 0}, by_reference=True)["job"]
        figures["rss_before_kb"] = rss_kb(engine.process.pid)
        tally: Counter = Counter()
        by_class: Dict[str, Counter] = {}
        lock = threading.Lock()
        accepted: List[str] = []
        pings: List[float] = []
        stop = threading.Event()

        def pinger() -> None:
            client = EngineClient(engine.endpoint, timeout=10)
            client.connect()
            while not stop.is_set():
                pings.append(client.ping())
                time.sleep(0.2)
            client.close()

        def sender(index: int, share: int) -> None:
            try:
                send_all(index, share)
            except BaseException as error:
                with lock:
                    tally[f"SENDER BROKE: {type(error).__name__}: {error}"] += 1
                raise

        def send_all(index: int, share: int) -> None:
            rng = random.Random(1600 + index)
            context = zmq.Context.instance()

            def fresh() -> "zmq.Socket":
                socket = context.socket(zmq.DEALER)
                socket.linger = 0
                socket.setsockopt(zmq.MAXMSGSIZE, 1 << 26)
                socket.connect(engine.endpoint)
                return socket
            socket = fresh()
            for name, frames, expect in fuzz_messages(rng, share, [seeded]):
                socket.send_multipart(frames)
                got = None
                deadline = time.monotonic() + (1.0 if expect == "drop" else 15.0)
                while got is None and socket.poll(max(0, int(1000 * (deadline - time.monotonic())))):
                    reply = socket.recv_multipart()
                    try:
                        header = msgpack.unpackb(reply[0], raw=False)
                    except Exception:
                        got = "unreadable_reply"
                        break
                    if header.get("type") in EVENTS:  # a job this socket attached to (a real id), or a beat
                        continue
                    got = header.get("code") if header.get("type") == "error" else header.get("type")
                    if header.get("type") == "accepted":
                        accepted.append(header["job"])
                if got is None:
                    got = "no_reply (connection closed by ZMQ_MAXMSGSIZE)" if expect == "drop" else "NO_REPLY"
                    socket.close()
                    socket = fresh()
                with lock:
                    tally[got] += 1
                    by_class.setdefault(name, Counter())[got] += 1
            socket.close()

        started = time.monotonic()
        ping_thread = threading.Thread(target=pinger, daemon=True)
        ping_thread.start()
        senders = [threading.Thread(target=sender, args=(i, count // 4 + (1 if i < count % 4 else 0))) for i in range(4)]
        for thread in senders:
            thread.start()
        for thread in senders:
            thread.join()
        stop.set()
        ping_thread.join()
        figures["seconds"] = round(time.monotonic() - started, 1)
        figures["replies"] = dict(tally.most_common())
        figures["by_class"] = {name: dict(c.most_common()) for name, c in by_class.items()}
        figures["accepted_jobs"] = len(accepted)
        figures["ping_during_ms"] = {"n": len(pings), "p50": round(1000 * percentile(pings, 0.5), 1),
                                     "max": round(1000 * max(pings, default=0), 1)}
        figures["rss_after_kb"] = rss_kb(engine.process.pid)
        check(sum(tally.values()) == count, f"fuzz: all {count} messages sent ({sum(tally.values())})")
        check(engine.process.poll() is None, "fuzz: the engine is still running")
        check(tally.get("NO_REPLY", 0) == 0, f"fuzz: every message expecting a reply got one ({tally.get('NO_REPLY', 0)} did not)")
        check(tally.get("internal", 0) == 0, f"fuzz: no internal errors ({tally.get('internal', 0)})")
        figures["ping_after_ms"] = round(1000 * probe.ping(), 1)
        # A valid job after the fuzz: done, and bit-identical to an engine that saw no fuzz.
        job = submit_shot(probe, shot, {"seed": 901, **KILL_SETTINGS})["job"]
        events = list(probe.events(job))
        got = frames_of(events, references.read_exr, folder / "after")
        figures["valid_job_after"] = {"state": events[-1].type, **compare(got, references.engine(901))}
        check(events[-1].type == "done" and figures["valid_job_after"]["pixels_identical"],
              "fuzz: a valid job after the fuzz ends done, bit-identical")
        figures["tracebacks_in_engine_stderr"] = "".join(engine.errors).count("Traceback")
        probe.close()
    finally:
        engine.stop()
    return figures


# --- references: uninterrupted runs -------------------------------------------------------------

class References:
    """Uninterrupted outputs per seed: an engine job (by value, a fresh store) and an ``infusion run``."""

    def __init__(self, work: Path, shot: Path):
        from service_support import read_exr
        self.work, self.shot, self.read_exr = work / "references", shot, read_exr
        self._engine: Dict[int, Dict[int, Tuple[bytes, Any]]] = {}
        self._run: Dict[int, Dict[int, Tuple[bytes, Any]]] = {}

    def prepare_engine(self, seeds: List[int]) -> None:
        from infusion.protocol.client import EngineClient
        from service_support import Engine
        wanted = [s for s in seeds if s not in self._engine]
        if not wanted:
            return
        with Engine(self.work / f"store-{len(self._engine)}") as engine:
            client = EngineClient(engine.endpoint, timeout=30)
            client.connect()
            jobs = {seed: submit_shot(client, self.shot, {"seed": seed, **KILL_SETTINGS})["job"] for seed in wanted}
            for seed, job in jobs.items():
                events = list(client.events(job))
                check(events[-1].type == "done", f"reference job of seed {seed} ends done")
                self._engine[seed] = frames_of(events, self.read_exr, self.work / f"engine-{seed}")
            client.close()

    def engine(self, seed: int) -> Dict[int, Tuple[bytes, Any]]:
        self.prepare_engine([seed])
        return self._engine[seed]

    def run(self, seed: int) -> Dict[int, Tuple[bytes, Any]]:
        if seed not in self._run:
            out = self.work / f"run-{seed}"
            done = subprocess.run(run_command(self.shot, out, seed), capture_output=True, text=True, timeout=600)
            check(done.returncode == 0, f"reference run of seed {seed}: {done.stderr[-300:]}")
            self._run[seed] = run_frames(out, self.read_exr)
        return self._run[seed]


def run_command(shot: Path, out: Path, seed: int) -> List[str]:
    return [PY, "-m", "infusion.engine.cli", "run", "--plate", str(shot / "plate.####.exr"), "--matte",
            str(shot / "matte.####.exr"), "--frames", f"{FIRST}-{LAST}", "--out", str(out / "fill.####.exr"),
            "--preset", "test", "--seed", str(seed), "--train-steps", str(KILL_SETTINGS["train_steps"]),
            "--sample-steps", str(KILL_SETTINGS["sample_steps"])]


# --- phase: kills -------------------------------------------------------------------------------

def watch_and_kill(pid: int, condition: Callable[[], Optional[str]], alive: Callable[[], bool], every: float = 0.0005
                   ) -> Optional[str]:
    """SIGKILL ``pid`` the moment ``condition`` says something (what it saw); None if the process ended first."""
    while alive():
        seen = condition()
        if seen:
            os.kill(pid, signal.SIGKILL)
            return seen
        time.sleep(every)
    return None


def listing(folder: Path) -> List[str]:
    try:
        return os.listdir(folder)
    except FileNotFoundError:
        return []


def engine_kill(moment: str, seed: int, work: Path, shot: Path, references: References) -> Dict[str, Any]:
    from infusion.engine.service.job_store import read_log
    from infusion.protocol.client import EngineClient, EngineError
    from service_support import Engine
    folder = work / f"{moment}-{seed}"
    shutil.rmtree(folder, ignore_errors=True)
    store = folder / "store"
    engine = Engine(store, "--allow-root", str(shot))
    endpoint = engine.endpoint
    result: Dict[str, Any] = {"moment": moment, "seed": seed}
    last: Dict[str, Any] = {}
    settings = {"seed": seed, **KILL_SETTINGS}
    restarted: Optional[Engine] = None
    try:
        jobs_dir = store / "jobs"
        if moment == "E-intake":
            client = EngineClient(endpoint, timeout=5)
            client.connect()
            wanted = 2 * (seed % 6)  # input frames already whole when the kill lands: 0, 2, ... 10 of 12

            def staging() -> Optional[str]:
                for name in listing(jobs_dir):
                    if name.startswith(".") and not name.startswith(".purged"):
                        inputs = listing(jobs_dir / name / "inputs")
                        done = [n for n in inputs if not n.startswith(".")]
                        if inputs and len(done) >= wanted:
                            return f"staging folder {name} holding {len(done)} of 12 input frames ({len(inputs) - len(done)} being written)"
                return None
            outcome: Dict[str, Any] = {}
            submitter = threading.Thread(target=lambda: outcome.update(
                reply=_try(lambda: submit_shot(client, shot, settings))), daemon=True)
            submitter.start()
            seen = watch_and_kill(engine.process.pid, staging, lambda: submitter.is_alive() and engine.process.poll() is None,
                                  every=0.0002)
            submitter.join(60)
            client.close()
            engine.process.wait(10)
            result["seen_at_kill"] = seen or f"missed: the submit ended first ({outcome.get('reply')})"
            result["submit_reply_during_kill"] = str(outcome.get("reply"))[:160]
            restarted = Engine(store, "--allow-root", str(shot), bind=endpoint)
            result["store_after_restart"] = sorted(listing(jobs_dir))
            client = EngineClient(endpoint, timeout=30)
            client.connect()
            reply = submit_shot(client, shot, settings)  # the user submits again: the same job
            job = reply["job"]
            result["resubmit_existing"] = reply["existing"]
            events = list(client.events(job))
        else:
            client = EngineClient(endpoint, timeout=30)
            client.connect()
            job = submit_shot(client, shot, settings)["job"]
            work_dir, out_dir = jobs_dir / job / "work", jobs_dir / job / "out"

            def follow() -> None:
                follower = EngineClient(endpoint, timeout=30, reconnect_timeout=1)
                try:
                    follower.connect()
                    for event in follower.events(job, fetch_frames=False):
                        if event.type == "progress":
                            last.update(event.fields)
                except Exception:
                    pass
            threading.Thread(target=follow, daemon=True).start()

            def condition() -> Optional[str]:
                if moment == "E-outwrite":  # 0 to 4 of the 6 frames whole, the next being written
                    found = listing(out_dir)
                    whole = [n for n in found if not n.startswith(".")]
                    return f"out/ holding {sorted(found)}" if found and len(whole) >= seed % 5 else None
                if moment == "E-checkpoint":
                    found = [n for n in listing(work_dir) if n.startswith(".checkpoint") and n.endswith(".tmp")]
                    return f"work/ holding the temporary {found[0]}" if found else None
                phase, level, interval, step = (last.get(k) for k in ("phase", "level", "interval", "step"))
                if moment == "E-train" and phase == "train" and level == 0 and interval == 1 and (step or 0) >= 5:
                    return f"training level 0 interval 1, step {step}"
                if moment == "E-sample" and phase == "sample" and level == 0 and (step or 0) >= 3:
                    return f"sampling level 0 interval {interval}, step {step}"
                if moment == "E-refine" and level == 1 and phase == "train" and (step or 0) >= 3:
                    return f"training finer level 1 (run interval {interval}), step {step}"
                return None
            seen = watch_and_kill(engine.process.pid, condition, lambda: engine.process.poll() is None
                                  and (jobs_dir / job / "state.msgpack").exists() and not _ended(store, job))
            engine.process.wait(10)
            client.close()
            result["seen_at_kill"] = seen or "missed: the job ended first"
            before = read_log(jobs_dir / job / "events.msgpack")
            result["logged_before_kill"] = {"previews": [e["interval"] for e in before if e["type"] == "preview"],
                                            "frames": sorted(e["frame"] for e in before if e["type"] == "frame"),
                                            "out_files": sorted(listing(out_dir))}
            restarted = Engine(store, "--allow-root", str(shot), bind=endpoint)
            client = EngineClient(endpoint, timeout=30)
            client.connect()
            events = list(client.events(job))
            after = read_log(jobs_dir / job / "events.msgpack")
            previews = [e["interval"] for e in after if e["type"] == "preview"]
            frames = [e["frame"] for e in after if e["type"] == "frame"]
            result["previews_logged"] = previews
            result["resumed_not_restarted"] = len(previews) == len(set(previews))
            result["each_frame_logged_once"] = sorted(frames) == FRAMES
            check(result["resumed_not_restarted"] and result["each_frame_logged_once"],
                  f"{moment} seed {seed}: resumed (no interval twice) and each frame logged once ({previews}, {frames})")
        client.close()
        result["end"] = events[-1].type
        got = frames_of(events, references.read_exr, folder / "resumed")
        result.update(compare(got, references.engine(seed)))
        result["temporaries_left"] = temporaries(store / "jobs")
        check(result["end"] == "done" and result["pixels_identical"],
              f"{moment} seed {seed}: the job ends done, bit-identical to the uninterrupted run")
    finally:
        engine.kill()
        if restarted is not None:
            restarted.stop()
    return result


def _try(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except Exception as error:  # what the submitting client saw when the engine died under it
        return f"{type(error).__name__}: {error}"


def _ended(store: Path, job: str) -> bool:
    import msgpack
    try:
        state = msgpack.unpackb((store / "jobs" / job / "state.msgpack").read_bytes(), raw=False)["state"]
    except Exception:
        return False
    return state in ("done", "failed", "cancelled")


def run_kill(moment: str, seed: int, work: Path, shot: Path, references: References) -> Dict[str, Any]:
    folder = work / f"{moment}-{seed}"
    shutil.rmtree(folder, ignore_errors=True)
    out = folder / "out"
    work_dir = out / ".infusion" / "fill"
    result: Dict[str, Any] = {"moment": moment, "seed": seed}
    process = subprocess.Popen(run_command(shot, out, seed), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def condition() -> Optional[str]:
        if moment == "R-outwrite":  # 0 to 4 of the 6 frames whole, the next being written
            found = [n for n in listing(out) if n.startswith(("fill", ".fill"))]
            whole = [n for n in found if not n.startswith(".")]
            return f"out holding {sorted(found)}" if found and len(whole) >= seed % 5 else None
        if moment == "R-checkpoint":
            found = [n for n in listing(work_dir) if n.startswith(".checkpoint") and n.endswith(".tmp")]
            return f"work dir holding the temporary {found[0]}" if found else None
        previews = set(listing(work_dir / "preview"))
        if moment == "R-train" and listing(work_dir / "preview" / "interval_00") and "interval_01" not in previews:
            return "interval 0 checkpointed and previewed, interval 1 training"
        if moment == "R-refine" and listing(work_dir / "preview" / "interval_01") and "level_1" not in previews:
            return "level 0 done, finer level 1 starting (its frames read, training)"
        return None
    seen = watch_and_kill(process.pid, condition, lambda: process.poll() is None)
    process.wait(30)
    result["seen_at_kill"] = seen or "missed: the run ended first"
    result["left_by_kill"] = {"out": sorted(listing(out)), "work": sorted(listing(work_dir))}
    again = subprocess.run(run_command(shot, out, seed), capture_output=True, text=True, timeout=600)
    result["rerun_rc"] = again.returncode
    said = [line.strip() for line in (again.stdout + again.stderr).splitlines() if " done" in line and "interval" in line]
    result["rerun_intervals_run"] = said  # an uninterrupted run says 3 (2 of level 1/2, 1 of level 2/2)
    result.update(compare(run_frames(out, references.read_exr), references.run(seed)))
    result["temporaries_left"] = temporaries(out)
    check(again.returncode == 0 and result["pixels_identical"],
          f"{moment} seed {seed}: the rerun ends, bit-identical to an uninterrupted run ({again.stdout[-200:]})")
    return result


def phase_kills(scale: int, work: Path, shot: Path, references: References) -> Dict[str, Any]:
    count = 2 * scale
    folder = work / "kills"
    plan = [(MOMENTS[i % len(MOMENTS)], 100 + i) for i in range(count)]
    references.prepare_engine([seed for moment, seed in plan if moment.startswith("E-")])
    results = []
    for moment, seed in plan:
        for attempt in range(3):  # a moment that ended before the watcher saw it is tried again, new seed
            use = seed + 1000 * attempt
            log(f"kill {len(results) + 1}/{count}: {moment} seed {use}")
            if moment.startswith("E-"):
                if attempt:
                    references.prepare_engine([use])
                result = engine_kill(moment, use, folder, shot, references)
            else:
                result = run_kill(moment, use, folder, shot, references)
            result["attempt"] = attempt + 1
            log("   ", json.dumps({k: result[k] for k in ("seen_at_kill", "end", "pixels_identical", "bytes_identical")
                                  if k in result}))
            results.append(result)
            if not str(result["seen_at_kill"]).startswith("missed"):
                break
    landed = [r for r in results if not str(r["seen_at_kill"]).startswith("missed")]
    check(len(landed) == count, f"kills: {len(landed)} of {count} landed at their moment")
    return {"kills_planned": count, "kills_landed": len(landed), "missed_attempts": len(results) - len(landed),
            "all_bit_identical": all(r.get("pixels_identical") for r in results), "results": results}


# --- phase: many queued jobs --------------------------------------------------------------------

def phase_queue(scale: int, work: Path, shot: Path) -> Dict[str, Any]:
    from infusion.protocol.client import EngineClient
    from service_support import Engine
    count, clients = 200 * scale, 8
    folder = work / "queue"
    shutil.rmtree(folder, ignore_errors=True)
    engine = Engine(folder / "store", "--allow-root", str(shot))
    figures: Dict[str, Any] = {"jobs": count, "clients": clients, "by_value_every": 4}
    try:
        submitted: Dict[int, str] = {}
        latencies: List[float] = []
        errors: List[str] = []
        lock = threading.Lock()
        pings: List[float] = []
        stop = threading.Event()

        def pinger() -> None:
            client = EngineClient(engine.endpoint, timeout=30)
            client.connect()
            while not stop.is_set():
                pings.append(client.ping())
                time.sleep(0.1)
            client.close()

        def submitter(index: int) -> None:
            client = EngineClient(engine.endpoint, timeout=60, name=f"queue-{index}")
            client.connect()
            for seed in range(index, count, clients):
                start = time.monotonic()
                try:
                    reply = submit_shot(client, shot, {"seed": 5000 + seed, "refine_levels": 0},
                                        by_reference=seed % figures["by_value_every"] != 0)
                    with lock:
                        submitted[seed] = reply["job"]
                        latencies.append(time.monotonic() - start)
                except Exception as error:
                    with lock:
                        errors.append(f"{type(error).__name__}: {error}")
            client.close()

        ping_thread = threading.Thread(target=pinger, daemon=True)
        ping_thread.start()
        started = time.monotonic()
        threads = [threading.Thread(target=submitter, args=(i,)) for i in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        figures["seconds_to_queue"] = round(time.monotonic() - started, 1)
        figures["accepted"] = len(submitted)
        figures["distinct_jobs"] = len(set(submitted.values()))
        figures["submit_errors"] = dict(Counter(e[:120] for e in errors))
        figures["submit_latency_s"] = {"p50": round(percentile(latencies, 0.5), 3), "p99": round(percentile(latencies, 0.99), 3),
                                       "max": round(max(latencies, default=0), 3)}
        stop.set()
        ping_thread.join()
        figures["ping_while_queueing_ms"] = {"n": len(pings), "p50": round(1000 * percentile(pings, 0.5), 1),
                                             "p99": round(1000 * percentile(pings, 0.99), 1), "max": round(1000 * max(pings, default=0), 1)}
        check(len(submitted) == count and not errors, f"queue: every one of {count} submits accepted ({len(errors)} errors)")
        client = EngineClient(engine.endpoint, timeout=60)
        client.connect()
        start = time.monotonic()
        listed = client.jobs()
        figures["list_ms"] = round(1000 * (time.monotonic() - start), 1)
        states = Counter(j["state"] for j in listed)
        figures["states_when_queued"] = dict(states)
        check({j["job"] for j in listed} == set(submitted.values()), "queue: every accepted job is listed")
        figures["cli_jobs_limit_1_seconds"] = cli_baseline(engine.endpoint)
        start = time.monotonic()
        shown = subprocess.run([PY, "-m", "infusion.engine.cli", "jobs", "--engine", engine.endpoint],
                               capture_output=True, text=True, timeout=300)
        figures["cli_jobs_seconds"] = round(time.monotonic() - start, 2)
        figures["cli_jobs_rows"] = len(shown.stdout.splitlines())
        check(shown.returncode == 0 and figures["cli_jobs_rows"] == count, "queue: infusion jobs lists every job")
        figures["rss_kb"] = rss_kb(engine.process.pid)
        keep = {submitted[seed] for seed in range(3)}
        start = time.monotonic()
        cancelled = 0
        for job in set(submitted.values()) - keep:
            if client.cancel(job)["state"] == "cancelled":
                cancelled += 1
        figures["cancel_seconds"] = round(time.monotonic() - start, 1)
        figures["cancelled"] = cancelled
        figures["ping_after_cancel_ms"] = round(1000 * client.ping(), 1)
        ends = {job: list(client.events(job))[-1].type for job in keep}
        figures["kept_jobs_end"] = ends
        check(all(end == "done" for end in ends.values()), "queue: the jobs left to run end done")
        final = Counter(j["state"] for j in client.jobs())
        figures["states_at_end"] = dict(final)
        check(final.get("queued", 0) == 0 and final.get("running", 0) == 0, "queue: nothing left queued or running")
        client.close()
        figures["tracebacks_in_engine_stderr"] = "".join(engine.errors).count("Traceback")
    finally:
        engine.stop()
    return figures


def cli_baseline(endpoint: str) -> float:
    """Seconds ``infusion jobs --limit 1`` takes: the command's start-up, against which a full listing is read."""
    start = time.monotonic()
    subprocess.run([PY, "-m", "infusion.engine.cli", "jobs", "--limit", "1", "--engine", endpoint], capture_output=True,
                   timeout=300)
    return round(time.monotonic() - start, 2)


# --- phase: a store of many jobs ----------------------------------------------------------------

def phase_store(scale: int, work: Path, shot: Path) -> Dict[str, Any]:
    import msgpack
    from infusion.engine.service import job_store
    from infusion.engine.service.intake import plan_submit
    from infusion.engine.service.job_store import JobStore, write_msgpack
    from infusion.protocol import messages as m
    from infusion.protocol.client import EngineClient
    from service_support import Engine
    count = 1000 * scale
    folder = work / "store"
    shutil.rmtree(folder, ignore_errors=True)
    figures: Dict[str, Any] = {"jobs": count}
    # The engine's own storage code writes every job (intake's plan, JobStore.create, its state and
    # event log); its fsyncs are skipped here so that 10,000 jobs take seconds, not an hour.
    real_fsync = os.fsync
    os.fsync = lambda descriptor: None
    try:
        start = time.monotonic()
        store = JobStore(folder / "store")
        now = time.time()
        old = 0
        for index in range(count):
            submit = m.header(m.SUBMIT, id=1, inputs="reference", shot={
                "frames": [FIRST, LAST], "plate": str(shot / "plate.####.exr"), "matte": str(shot / "matte.####.exr"),
                "preset": "test", "settings": {"seed": index}})
            request = m.validate_request(submit, 0)
            plan = plan_submit(request.fields, [], [shot])
            job, created = store.create(plan.job_id, plan.record, plan.fill_inputs)
            state = "done" if index % 10 < 8 else ("failed" if index % 10 == 8 else "cancelled")
            ended = now - (40 * 86400 if index % 2 else 3600 * (1 + index % 200)) - index
            old += index % 2
            error = {"code": "job_failed", "message": "synthetic"} if state == "failed" else None
            store.log(job, {"done": m.DONE, "failed": m.FAILED, "cancelled": m.CANCELLED}[state], **(error or {}))
            write_msgpack(job.folder / job_store.STATE, {"state": state, "created": ended - 600, "updated": ended,
                                                         "error": error, "deaths": 0})
        figures["seconds_to_write"] = round(time.monotonic() - start, 1)
        figures["ended_over_30_days_ago"] = old
    finally:
        os.fsync = real_fsync
    del store
    start = time.monotonic()
    engine = Engine(folder / "store", "--allow-root", str(shot), start_timeout=600)
    figures["engine_start_seconds"] = round(time.monotonic() - start, 1)
    try:
        figures["rss_after_start_kb"] = rss_kb(engine.process.pid)
        client = EngineClient(engine.endpoint, timeout=60)
        client.connect()
        start = time.monotonic()
        page = client.jobs_page()
        figures["first_page_ms"] = round(1000 * (time.monotonic() - start), 1)
        check(page["total"] == count and len(page["jobs"]) == m.DEFAULT_LIST_PAGE, "store: the first page and the total")
        pings: List[float] = []
        stop = threading.Event()

        def pinger() -> None:
            other = EngineClient(engine.endpoint, timeout=30)
            other.connect()
            while not stop.is_set():
                pings.append(other.ping())
                time.sleep(0.05)
            other.close()
        ping_thread = threading.Thread(target=pinger, daemon=True)
        ping_thread.start()
        start = time.monotonic()
        listed = client.jobs()
        figures["client_list_all_ms"] = round(1000 * (time.monotonic() - start), 1)
        check(len(listed) == count and len({j["job"] for j in listed}) == count, "store: every job listed once")
        check([j["created"] for j in listed] == sorted((j["created"] for j in listed), reverse=True), "store: newest first")
        figures["cli_jobs_limit_1_seconds"] = cli_baseline(engine.endpoint)
        start = time.monotonic()
        shown = subprocess.run([PY, "-m", "infusion.engine.cli", "jobs", "--engine", engine.endpoint],
                               capture_output=True, text=True, timeout=600)
        figures["cli_jobs_seconds"] = round(time.monotonic() - start, 2)
        figures["cli_jobs_rows"] = len(shown.stdout.splitlines())
        check(shown.returncode == 0 and figures["cli_jobs_rows"] == count, "store: infusion jobs prints every job")
        start = time.monotonic()
        as_json = subprocess.run([PY, "-m", "infusion.engine.cli", "jobs", "--json", "--engine", engine.endpoint],
                                 capture_output=True, text=True, timeout=600)
        figures["cli_jobs_json_seconds"] = round(time.monotonic() - start, 2)
        check(as_json.returncode == 0 and len(json.loads(as_json.stdout)) == count, "store: infusion jobs --json")
        stop.set()
        ping_thread.join()
        figures["ping_while_listing_ms"] = {"n": len(pings), "p50": round(1000 * percentile(pings, 0.5), 1),
                                            "max": round(1000 * max(pings, default=0), 1)}
        figures["rss_after_listing_kb"] = rss_kb(engine.process.pid)
        start = time.monotonic()
        purged = subprocess.run([PY, "-m", "infusion.engine.cli", "jobs", "--engine", engine.endpoint,
                                 "--purge-older-than", "30d"], capture_output=True, text=True, timeout=600)
        figures["purge_seconds"] = round(time.monotonic() - start, 2)
        figures["purge_said"] = purged.stdout.strip() or purged.stderr.strip()[-300:]
        check(purged.returncode == 0 and purged.stdout.strip() == f"purged {old} finished jobs", "store: purge says how many")
        left = client.jobs()
        figures["left_after_purge"] = len(left)
        check(len(left) == count - old, "store: what is left after the purge")
        figures["job_folders_after_purge"] = len(listing(folder / "store" / "jobs"))
        start = time.monotonic()
        shown = subprocess.run([PY, "-m", "infusion.engine.cli", "jobs", "--engine", engine.endpoint],
                               capture_output=True, text=True, timeout=600)
        figures["cli_jobs_after_purge_seconds"] = round(time.monotonic() - start, 2)
        start = time.monotonic()
        job = submit_shot(client, shot, {"seed": 777, "refine_levels": 0}, by_reference=True)["job"]
        end = list(client.events(job))[-1].type
        figures["new_job_in_big_store"] = {"end": end, "seconds": round(time.monotonic() - start, 1)}
        check(end == "done", "store: a new job in the big store ends done")
        figures["rss_at_end_kb"] = rss_kb(engine.process.pid)
        client.close()
        figures["tracebacks_in_engine_stderr"] = "".join(engine.errors).count("Traceback")
    finally:
        engine.stop()
    return figures


# --- main ---------------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=1, help="1: the original counts; 10: issue 16's done-means counts")
    parser.add_argument("--work", default="/tmp/attack/run", help="folder for stores, shots and outputs (emptied)")
    parser.add_argument("--phases", default="fuzz,kills,queue,store")
    parser.add_argument("--json", help="write the figures here")
    parser.add_argument("--tree", action="store_true", help="snapshot the working tree, not git HEAD")
    args = parser.parse_args()
    reexec_in_snapshot(args)
    from service_support import make_shot
    work = Path(args.work)
    shot = work / "shot"
    if not shot.exists():
        make_shot(shot, FIRST, LAST, SIZE)
    figures: Dict[str, Any] = {"scale": args.scale, "code": os.environ.get("INFUSION_ATTACK_SNAPSHOT"),
                               "command": " ".join(sys.argv), "shot": f"{len(FRAMES)} frames {SIZE}x{SIZE}, preset test"}
    references = References(work, shot)
    phases = {"fuzz": lambda: phase_fuzz(args.scale, work, shot, references),
              "kills": lambda: phase_kills(args.scale, work, shot, references),
              "queue": lambda: phase_queue(args.scale, work, shot),
              "store": lambda: phase_store(args.scale, work, shot)}
    for name in args.phases.split(","):
        log(f"phase {name}")
        start = time.monotonic()
        try:
            figures[name] = phases[name]()
        except Exception as error:  # a phase that broke is a figure too
            import traceback
            traceback.print_exc()
            figures[name] = {"broke": f"{type(error).__name__}: {error}"}
            FAILURES.append(f"{name} broke: {error}")
        figures[name]["phase_seconds"] = round(time.monotonic() - start, 1)
        log(json.dumps({k: v for k, v in figures[name].items() if k != "results"}, default=str)[:3000])
        if args.json:
            Path(args.json).write_text(json.dumps({**figures, "failures": FAILURES}, indent=1, default=str))
    figures["failures"] = FAILURES
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1, default=str))
    log(f"{len(FAILURES)} checks failed" + (": " + "; ".join(FAILURES) if FAILURES else ""))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
