import torch

from infusion.engine.measure.flops import matmul_flops_per_s, sampling_step_flops, training_step_flops
from infusion.engine.method.settings import Settings


def conv_flops(in_channels: int, out_channels: int, voxels: int) -> int:
    return 2 * in_channels * out_channels * 27 * voxels


def test_sampling_flops_are_the_sum_of_every_convolution_at_its_level():
    settings = Settings(levels=2, channels=8, embed_channels=16, variants=3)
    fine, coarse = 2 * 8 * 8, 2 * 4 * 4  # two levels: (1, 2, 2) pooling between them
    forward = (conv_flops(3 + 4 + 16, 8, fine) + conv_flops(8, 8, fine)  # encoder
               + conv_flops(8, 8, coarse) * 2  # bottom
               + conv_flops(16, 8, fine) + conv_flops(8, 8, fine)  # decoder over the skip
               + conv_flops(8, 8, fine) + conv_flops(8, 3, fine))  # head and output
    assert sampling_step_flops(settings, (2, 8, 8)) == 3 * forward  # three variants in one batch


def test_training_counts_one_cropped_window_forward_and_backward():
    settings = Settings(levels=2, channels=8, window_frames=4, train_crop=8)
    same_window = training_step_flops(settings, (4, 8, 8))
    assert training_step_flops(settings, (12, 40, 40)) == same_window  # the window and the crop bound the work
    forward = sampling_step_flops(settings.replace(variants=1), (4, 8, 8))
    assert 2 * forward < same_window < 3 * forward  # no input gradient for the first layer


def test_the_matmul_rate_is_a_plausible_positive_rate():
    rate = matmul_flops_per_s(torch.device("cpu"), torch.float32, repeats=1)
    assert 1e8 < rate < 1e14
