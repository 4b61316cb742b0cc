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
    video, hole = torch.randn(3, 30, 8, 8), torch.rand(30, 8, 8) > 0.7
    whole = predict_x0(model, x_t, video, hole, 100)
    chunked = predict_x0(model, x_t, video, hole, 100, chunk=8, overlap=3)
    assert torch.allclose(whole, chunked, atol=1e-6)


class Constant(torch.nn.Module):
    """A stand-in network that predicts the same value everywhere."""

    def forward(self, x_t, condition, t):
        return torch.full_like(x_t, 0.375)


def test_tiled_prediction_of_a_constant_model_is_constant_across_tile_borders():
    x_t = torch.randn(2, 3, 6, 70, 90)
    video, hole = torch.randn(3, 6, 70, 90), torch.zeros(6, 70, 90, dtype=torch.bool)
    hole[:, 10:60, 5:85] = True  # spans many 16-px tiles and their overlaps
    x0 = predict_x0(Constant(), x_t, video, hole, 50, tile=16, tile_overlap=6)
    assert torch.allclose(x0[:, :, hole], torch.full_like(x0[:, :, hole], 0.375), atol=1e-6, rtol=0)


def test_tiled_prediction_equals_whole_frame_for_a_pointwise_model_and_skips_known_tiles():
    model = PerFrame()
    x_t = torch.randn(1, 3, 4, 64, 64)
    video, hole = torch.randn(3, 4, 64, 64), torch.zeros(4, 64, 64, dtype=torch.bool)
    hole[:, 5:20, 40:60] = True
    whole = predict_x0(model, x_t, video, hole, 10)
    tiled = predict_x0(model, x_t, video, hole, 10, tile=16, tile_overlap=4)
    assert torch.allclose(tiled[:, :, hole], whole[:, :, hole], atol=1e-6)
    assert torch.all(tiled[:, :, :, 40:, :20] == 0)  # no tile there touches the hole: not predicted
