import pytest
import torch
from torch import nn

from scalelab.compress import quantize_torch as qt
from scalelab.compress.models import EncoderClassifier, EncoderConfig

CFG = EncoderConfig(vocab_size=300, max_len=16, d_model=64, n_layers=2, n_heads=4, num_classes=4)


def _model() -> EncoderClassifier:
    torch.manual_seed(0)
    return EncoderClassifier(CFG).eval()


def _ids() -> torch.Tensor:
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(3, 300, (8, 16), generator=g)
    ids[:, 0] = 1
    ids[2, 9:] = 0
    return ids


def test_int8_linear_weights_are_at_least_3_5x_smaller():
    state = qt.quantized_state(qt.quantize_dynamic_int8(_model()))
    linears = [n for n, m in _model().named_modules() if isinstance(m, nn.Linear)]
    for name in linears:
        fp32_bytes = _model().get_submodule(name).weight.numel() * 4
        int8_bytes = sum(state[f"{name}.{k}"].numel() * state[f"{name}.{k}"].element_size()
                         for k in ("weight_q", "weight_scale", "weight_zero_point"))  # fmt: skip
        assert state[f"{name}.weight_q"].dtype == torch.int8
        assert fp32_bytes / int8_bytes >= 3.5, name


@pytest.mark.parametrize("engine", qt.ENGINES)
def test_both_engines_stay_close_to_fp32(engine):
    m, ids = _model(), _ids()
    with torch.no_grad():
        ref, got = m(ids), qt.quantize_dynamic_int8(m, engine)(ids)
    # int8 weights and activations: errors of a few % of the logit scale (random init, 2 layers)
    assert (got - ref).abs().max() <= 0.05 * ref.abs().max() + 1e-3


def test_safetensors_form_reproduces_the_quantized_model():
    m, ids = _model(), _ids()
    q = qt.quantize_dynamic_int8(m, "torch.ao")
    back = qt.load_quantized(EncoderClassifier(CFG), qt.quantized_state(q), "torch.ao")
    with torch.no_grad():
        assert torch.allclose(q(ids), back(ids), atol=1e-5)


def test_engine_is_picked_by_what_torch_offers(monkeypatch):
    assert qt.pick_engine() == ("torch.ao" if qt.legacy_available() else "torchao")
    monkeypatch.setattr(qt, "legacy_available", lambda: False)
    assert qt.pick_engine() == "torchao"


def test_transformer_encoder_fast_path_is_turned_off():
    layer = nn.TransformerEncoderLayer(32, 4, 64, batch_first=True, dropout=0.0)
    m = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False).eval()
    x = torch.randn(3, 10, 32)
    q = qt.quantize_dynamic_int8(m, "torch.ao")
    assert isinstance(q, qt.FastPathOff)
    with torch.no_grad():
        with pytest.raises(AttributeError):  # the pitfall: the fused path reads linear1.weight
            q.inner(x)
        assert (q(x) - m(x)).abs().max() < 0.1
    assert torch.backends.mha.get_fastpath_enabled()  # restored afterwards
