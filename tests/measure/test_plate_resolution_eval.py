"""infusion eval at plate resolution: Infusion through the shot pipeline on EXR files."""
import numpy as np
import torch

from infusion.engine.measure.eval_clips import procedural_clip
from infusion.engine.measure.evaluation import evaluate, pipeline_method
from infusion.engine.measure.synthetic_mattes import synthetic_matte
from infusion.engine.method.presets import preset
from infusion.engine.method.pyramid import resize
from infusion.engine.plates.color import Encoding


def test_the_pipeline_method_returns_composited_frames_at_the_plate_size():
    encoding = Encoding()
    clip = procedural_clip("waves", 6, 80, encoding)  # 50x80: larger than the test preset's 32 px working size
    hole = synthetic_matte("still_boxes", *clip.video.shape[:3], seed=1)
    hidden = np.where(hole[..., None], np.float32(0.0), clip.video)
    fills = pipeline_method(preset("test", variants=2), "cpu", encoding)(hidden, hole)
    assert fills.shape == (2,) + clip.video.shape
    # Outside the hole: the plate as written (through float EXR and the encoding, so to 1e-5).
    assert np.abs(fills[:, ~hole] - hidden[~hole]).max() < 1e-5
    assert np.isfinite(fills).all() and not np.allclose(fills[0][hole], 0.0)


def test_scores_at_plate_resolution_on_a_known_case():
    """A method that returns the truth scores perfectly; the truth scaled down 4x and back up
    loses grain and detail, at the plate's own resolution."""
    encoding = Encoding()
    clip = procedural_clip("drifting_noise", 6, 96, encoding)

    def truth(video, hole):
        return clip.video[None]

    def upscaled(video, hole):
        frames = torch.from_numpy(clip.video).permute(0, 3, 1, 2)
        small = resize(frames, (frames.shape[2] // 4, frames.shape[3] // 4))
        soft = torch.nn.functional.interpolate(small, size=frames.shape[2:], mode="bilinear", align_corners=False)
        return np.where(hole[..., None], soft.permute(0, 2, 3, 1).numpy(), clip.video)[None]

    case = evaluate(clip, "still_boxes", 0, {"truth": truth, "upscaled": upscaled}, encoding)
    perfect, soft = case.methods["truth"].scores, case.methods["upscaled"].scores
    assert perfect["psnr"] == float("inf") and abs(perfect["grain_ratio"] - 1.0) < 1e-9
    assert soft["grain_ratio"] < 0.7 and soft["detail_ratio"] < 0.7 and soft["psnr"] < 40
