"""The console's progress lines: a training interval's loss, none where an interval does not train."""
import io

import numpy as np

from infusion.engine.cli.console import ConsoleProgress
from infusion.engine.method.presets import preset
from infusion.engine.method.progress import StepProgress
from infusion.engine.plates.shot import PreviewWritten


def test_an_interval_shows_its_own_training_loss_and_an_untrained_one_none():
    stream = io.StringIO()
    console = ConsoleProgress(preset("test"), stream, tty=False)
    preview = np.zeros((1, 1, 2, 2, 3), dtype=np.float32)
    console(StepProgress("train", 0, 2, 3, 3, 0.125, 1.0, 1.0))
    console(StepProgress("sample", 0, 2, 1, 2, None, 1.0, 1.0))
    console(PreviewWritten(0, 2, (), preview))
    console(StepProgress("sample", 1, 2, 1, 2, None, 1.0, 1.0))
    console(PreviewWritten(1, 2, (), preview))
    first, second = stream.getvalue().splitlines()
    assert first.endswith("done, loss 0.1250") and second.endswith("done") and "loss" not in second
