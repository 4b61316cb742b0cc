import torch

from infusion.engine.method.acceleration import Acceleration, TwinConv3d
from infusion.engine.method.model import UNet3D


def inputs():
    generator = torch.Generator().manual_seed(0)
    return (torch.randn(2, 3, 4, 16, 16, generator=generator), torch.randn(1, 4, 4, 16, 16, generator=generator).expand(2, -1, -1, -1, -1),
            torch.tensor([10, 500]))


def test_engine_choice_per_device():
    assert Acceleration.for_device(torch.device("cpu")) == Acceleration(channels_last=True, onednn_twin=True)
    assert Acceleration.for_device(torch.device("cuda", 0)) == Acceleration(
        channels_last=True, autocast_bf16=True, compile=True, cudnn_benchmark=True)
    assert not Acceleration.for_device(torch.device("cuda", 0), compile=False).compile
    assert Acceleration.for_device(torch.device("cpu"), compile=True).compile
    assert Acceleration.for_run(torch.device("cuda", 0), 40_000).compile  # the standard preset
    assert not Acceleration.for_run(torch.device("cuda", 0), 1_500).compile  # preview: compiling would not pay
    assert not Acceleration.for_run(torch.device("cpu"), 40_000).compile
    assert not any(Acceleration.reference().describe().values())


def test_fast_network_shares_weights_and_matches_the_reference():
    torch.manual_seed(0)
    model = UNet3D(channels=8)
    expected = model(*inputs())
    network = Acceleration.for_device(torch.device("cpu")).wrap(model)
    assert network.model is model and list(network.parameters()) == list(model.parameters())
    out = network(*inputs())
    assert out.dtype == torch.float32 and out.is_contiguous()
    assert torch.allclose(out, expected, atol=1e-5)
    assert torch.equal(out, network(*inputs()))  # deterministic


def test_twin_convolution_gives_the_same_values_and_gradients():
    torch.manual_seed(0)
    plain = torch.nn.Conv3d(8, 8, 3, padding=1)
    twin = torch.nn.Conv3d(8, 8, 3, padding=1)
    twin.load_state_dict(plain.state_dict())
    twin.__class__ = TwinConv3d
    x = torch.randn(1, 8, 4, 16, 16)
    outputs = []
    for conv in (plain, twin):
        out = conv(x)
        out.square().sum().backward()
        outputs.append((out, conv.weight.grad, conv.bias.grad))
    assert outputs[1][0].shape == (1, 8, 4, 16, 16)
    for expected, got in zip(*outputs):
        assert torch.allclose(got, expected, rtol=1e-4, atol=1e-4)
    assert list(twin.state_dict()) == ["weight", "bias"]


def test_a_failing_compiler_falls_back_to_eager(monkeypatch):
    def broken_compile(model):
        def compiled(*args):
            raise RuntimeError("no compiler here")
        return compiled

    monkeypatch.setattr(torch, "compile", broken_compile)
    model = UNet3D(channels=8)
    network = Acceleration(compile=True).wrap(model)
    out = network(*inputs())
    assert "no compiler here" in network.compile_error
    assert torch.equal(out, model(*inputs()))


def test_a_compiler_that_cannot_start_leaves_the_network_eager(monkeypatch):
    def unavailable(model):
        raise ImportError("torch._dynamo is not importable")

    monkeypatch.setattr(torch, "compile", unavailable)
    model = UNet3D(channels=8)
    network = Acceleration(compile=True).wrap(model)
    assert "not importable" in network.compile_error
    assert torch.equal(network(*inputs()), model(*inputs()))
