import torch
from torch import nn

from infusion.engine.method.model import UNet3D, count_parameters, step_embedding
from infusion.engine.method.presets import preset


def test_paper_configuration_parameter_count():
    model = UNet3D.from_settings(preset("paper"))
    assert 480_000 <= count_parameters(model) <= 510_000
    assert count_parameters(model) == 492_963
    convs = [m for m in model.modules() if isinstance(m, nn.Conv3d)]
    assert len(convs) == 16
    assert all(c.kernel_size == (3, 3, 3) for c in convs)
    assert convs[0].in_channels == 3 + 3 + 1 + 16 and convs[-1].out_channels == 3


def test_levels_and_channels_are_settings():
    small = UNet3D(levels=3, channels=8)
    assert sum(isinstance(m, nn.Conv3d) for m in small.modules()) == 12
    assert count_parameters(small) < count_parameters(UNet3D(levels=3, channels=16))


def test_output_shape_matches_input_for_odd_sizes():
    model = UNet3D(channels=8)
    x = torch.randn(2, 3, 5, 13, 19)
    out = model(x, torch.randn(2, 4, 5, 13, 19), torch.tensor([3, 900]))
    assert out.shape == x.shape


def test_time_is_never_downsampled():
    model = UNet3D()
    frames_seen = []
    for module in model.modules():
        if isinstance(module, nn.Conv3d):
            module.register_forward_hook(lambda _m, _i, out: frames_seen.append(out.shape[2]))
    model(torch.randn(1, 3, 7, 32, 32), torch.randn(1, 4, 7, 32, 32), torch.tensor([10]))
    assert len(frames_seen) == 16 and set(frames_seen) == {7}


def test_spatial_pooling_halves_height_and_width_only():
    model = UNet3D(levels=4, channels=4)
    sizes = []
    for module in model.modules():
        if isinstance(module, nn.Conv3d):
            module.register_forward_hook(lambda _m, _i, out: sizes.append(tuple(out.shape[2:])))
    model(torch.randn(1, 3, 3, 32, 32), torch.randn(1, 4, 3, 32, 32), torch.tensor([0]))
    assert (3, 4, 4) in sizes and (3, 32, 32) in sizes and min(s[1] for s in sizes) == 4


def test_step_embedding_distinguishes_steps():
    embedding = step_embedding(torch.tensor([0, 1, 999]), 16)
    assert embedding.shape == (3, 16)
    assert not torch.allclose(embedding[0], embedding[1]) and not torch.allclose(embedding[1], embedding[2])
