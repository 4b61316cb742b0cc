import time

import torch

from infusion.engine.measure.memory_watch import MemoryWatch, resident_bytes


def test_cpu_watch_sees_a_short_lived_allocation():
    assert resident_bytes() > 0
    with MemoryWatch(torch.device("cpu")) as watch:
        block = torch.ones(64 * 1024 * 1024 // 4)  # 64 MB, touched
        time.sleep(0.05)
        del block
    report = watch.report()
    assert report["kind"] == "cpu_rss_sampled"
    assert report["above_start_mb"] > 48 and report["peak_mb"] >= report["above_start_mb"]
