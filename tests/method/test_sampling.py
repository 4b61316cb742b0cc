import torch

from infusion.engine.method.sampling import chunk_spans, chunk_weights, predict_x0


def test_chunk_spans_cover_the_shot_with_overlap():
    spans = chunk_spans(50, 20, 8)
    assert spans[0][0] == 0 and spans[-1][1] == 50
    for (_, end), (start, _) in zip(spans, spans[1:]):
        assert end - start >= 8
    assert chunk_spans(10, 0, 0) == [(0, 10)] and chunk_spans(10, 20, 4) == [(0, 10)]


def test_chunk_weights_sum_to_one_and_ramp():
    spans = chunk_spans(37, 12, 5)
    total = torch.zeros(37)
    for (start, end), weight in zip(spans, chunk_weights(spans, 37, 5)):
        total[start:end] += weight
    assert torch.allclose(total, torch.ones(37))
    first = chunk_weights(spans, 37, 5)[0]
    assert first[0] == 1.0 and first[-1] < 0.5


class PerFrame(torch.nn.Module):
    """A stand-in network whose output at a frame depends on that frame only."""

    def forward(self, x_t, condition, t):
        return torch.tanh(x_t * 0.5 + condition[:, :3] + t.float()[:, None, None, None, None] * 1e-3)


def test_chunked_prediction_has_no_seam():
    model = PerFrame()
    x_t = torch.randn(2, 3, 30, 8, 8)
    condition = torch.randn(1, 4, 30, 8, 8)
    whole = predict_x0(model, x_t, condition, 100)
    chunked = predict_x0(model, x_t, condition, 100, chunk=8, overlap=3)
    assert torch.allclose(whole, chunked, atol=1e-6)
