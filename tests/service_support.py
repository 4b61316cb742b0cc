"""Helpers for the service tests: tiny EXR shots and real ``infusion serve`` processes on loopback."""
from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import List, Optional, Sequence

import numpy as np
import OpenImageIO as oiio
import pytest

FIRST, LAST = 1001, 1004
SIZE = 24


def write_exr(path: Path, pixels: np.ndarray, channels: List[str]) -> None:
    spec = oiio.ImageSpec(pixels.shape[1], pixels.shape[0], len(channels), "half")
    spec.channelnames = tuple(channels)
    output = oiio.ImageOutput.create(str(path))
    assert output.open(str(path), spec) and output.write_image(pixels.astype(np.float32)), output.geterror()
    output.close()


def read_exr(path: Path) -> np.ndarray:
    image = oiio.ImageInput.open(str(path))
    assert image is not None, oiio.geterror()
    pixels = image.read_image(0, 0, 0, image.spec().nchannels, "float")
    image.close()
    return np.asarray(pixels)


def make_shot(folder: Path, first: int = FIRST, last: int = LAST, size: int = SIZE, seed: int = 0) -> None:
    """plate.####.exr (RGB, moving stripes) and matte.####.exr (A: a square in the middle) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    for index, frame in enumerate(range(first, last + 1)):
        rgb = np.stack([0.5 + 0.4 * np.sin(0.5 * x + 0.6 * index), 0.5 + 0.4 * np.cos(0.4 * y - 0.3 * index),
                        0.3 + 0.2 * np.sin(0.3 * (x + y) + index)], axis=-1) + 0.02 * rng.standard_normal((size, size, 3))
        write_exr(folder / f"plate.{frame:04d}.exr", rgb.astype(np.float32), ["R", "G", "B"])
        matte = np.zeros((size, size, 1), np.float32)
        matte[size // 3: size // 3 + size // 4, size // 3: size // 3 + size // 4] = 1.0
        write_exr(folder / f"matte.{frame:04d}.exr", matte, ["A"])


class Engine:
    """``infusion serve`` in a subprocess on a free loopback port; ``endpoint`` once it listens.
    ``prefix``: a command that runs it (and execs it, keeping its process id)."""

    def __init__(self, store: Path, *extra: str, bind: str = "tcp://127.0.0.1:*", start_timeout: float = 60.0,
                 prefix: Sequence[str] = ()):
        self.store, self.extra = store, list(extra)
        command = [*prefix, sys.executable, "-m", "infusion.engine.cli", "serve", "--bind", bind, "--store", str(store),
                   "--device", "cpu", "--heartbeat", "0.5", *self.extra]
        env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self.errors: List[str] = []
        lines: "queue.Queue[str]" = queue.Queue()
        threading.Thread(target=self._pump, args=(self.process.stdout, lines.put), daemon=True).start()
        threading.Thread(target=self._pump, args=(self.process.stderr, self.errors.append), daemon=True).start()
        try:
            line = lines.get(timeout=start_timeout)
        except queue.Empty:
            self.kill()
            raise RuntimeError(f"the engine did not start: {''.join(self.errors)[-2000:]}") from None
        if "listening on" not in line:
            self.kill()
            time.sleep(0.2)  # let the stderr pump catch the engine's last words
            raise RuntimeError(f"the engine did not start (its first line: {line!r}): {''.join(self.errors)[-2000:]}")
        self.endpoint = line.split("listening on ")[1].split(" ")[0]

    @staticmethod
    def _pump(stream, sink) -> None:
        for line in stream:
            sink(line)
        sink("")  # the process closed the stream: it ended

    def kill(self) -> None:
        """SIGKILL: no chance to clean up, as in a crash."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> Optional[int]:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.process.returncode

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def wait_for(predicate, timeout: float = 30.0, every: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError("timed out waiting")


@pytest.fixture(scope="module", name="shot")
def shot_on_disk(tmp_path_factory) -> Path:
    """A module's ``shot`` fixture (import it): a folder holding make_shot's sequences."""
    folder = tmp_path_factory.mktemp("shot")
    make_shot(folder)
    return folder


@pytest.fixture(scope="module", name="engine")
def running_engine(tmp_path_factory):
    """A module's ``engine`` fixture (import it): an Engine with a store of its own."""
    with Engine(tmp_path_factory.mktemp("store")) as running:
        yield running
