import torch

from infusion.engine.acceleration import Acceleration
from infusion.engine.model import UNet3D


def inputs():
    generator = torch.Generator().manual_seed(0)
    return (torch.randn(2, 3, 4, 16, 16, generator=generator), torch.randn(1, 4, 4, 16, 16, generator=generator).expand(2, -1, -1, -1, -1),
            torch.tensor([10, 500]))


def test_engine_choice_per_device():
    assert Acceleration.for_device(torch.device("cpu")) == Acceleration(channels_last=True)
    assert Acceleration.for_device(torch.device("cuda", 0)).autocast_bf16  # bf16 only on CUDA
    assert Acceleration.reference().describe() == {"channels_last_3d": False, "autocast_bf16": False, "compile": False}


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
