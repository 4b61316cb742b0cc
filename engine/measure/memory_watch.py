"""Peak memory of a block of work: CUDA max allocated on a GPU, sampled process RSS on the CPU.

On the CPU a thread reads the resident set size every few milliseconds while the block runs
(the process-wide ru_maxrss only ever grows, so it cannot tell two paths of one process apart).
Before the block, freed heap memory is handed back to the system (glibc malloc_trim) so what
one path freed does not count for the next. Sampling can miss a spike shorter than its period.
"""
from __future__ import annotations

import ctypes
import gc
import os
import threading
from typing import Dict, Optional

import torch

SAMPLE_PERIOD_S = 0.002
MB = 1024 * 1024


def resident_bytes() -> int:
    """This process's resident set size in bytes (Linux /proc; 0 where unavailable)."""
    try:
        with open("/proc/self/statm") as stream:
            return int(stream.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _trim_heap() -> None:
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


class MemoryWatch:
    """``with MemoryWatch(device) as watch: ...`` then ``watch.report()``."""

    def __init__(self, device: torch.device):
        self.device = device
        self.baseline = self.peak = 0
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def __enter__(self) -> "MemoryWatch":
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self.baseline = torch.cuda.memory_allocated(self.device)
        else:
            _trim_heap()
            self.baseline = self.peak = resident_bytes()
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(SAMPLE_PERIOD_S):
            self.peak = max(self.peak, resident_bytes())

    def __exit__(self, *exc: object) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            self.peak = torch.cuda.max_memory_allocated(self.device)
        else:
            self._stop.set()
            if self._thread is not None:
                self._thread.join()
            self.peak = max(self.peak, resident_bytes())

    def report(self) -> Dict[str, object]:
        kind = "cuda_max_allocated" if self.device.type == "cuda" else "cpu_rss_sampled"
        return {"kind": kind, "peak_mb": self.peak / MB, "above_start_mb": (self.peak - self.baseline) / MB}
