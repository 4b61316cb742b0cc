"""Subprocess for the resume test: inpaints the tiny shot with a checkpoint, saves the result.

Usage: python resume_worker.py CHECKPOINT OUTPUT [PAUSE_SECONDS]. PAUSE_SECONDS sleeps after each
interval (after its checkpoint is written), to give the test a window to SIGKILL the process.
"""
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from conftest import tiny_shot  # noqa: E402

from infusion.engine.method.inpaint import inpaint  # noqa: E402
from infusion.engine.method.presets import preset  # noqa: E402
from infusion.engine.method.progress import IntervalFinished  # noqa: E402
from infusion.engine.storage.checkpoint_file import CheckpointFile  # noqa: E402

SETTINGS = preset("test", intervals=4, train_steps=3, sample_steps=2, variants=2, seed=11)


def main() -> None:
    checkpoint, output = Path(sys.argv[1]), Path(sys.argv[2])
    pause = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0

    def progress(event: object) -> None:
        if isinstance(event, IntervalFinished):
            print(f"interval {event.interval} done", flush=True)
            time.sleep(pause)

    video, hole = tiny_shot()
    result = inpaint(video, hole, SETTINGS, checkpoint=CheckpointFile(checkpoint), progress=progress)
    torch.save({"variants": result.variants}, output)


if __name__ == "__main__":
    main()
