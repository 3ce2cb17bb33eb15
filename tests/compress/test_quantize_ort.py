import numpy as np
import torch

from scalelab.compress import onnx_export as ox
from scalelab.compress import quantize_ort as qo
from scalelab.compress.models import EncoderClassifier, EncoderConfig

CFG = EncoderConfig(vocab_size=300, max_len=16, d_model=64, n_layers=2, n_heads=4, num_classes=4)


def _model_and_ids() -> tuple[EncoderClassifier, torch.Tensor]:
    torch.manual_seed(0)
    ids = torch.randint(3, 300, (7, 16), generator=torch.Generator().manual_seed(1))
    ids[:, 0] = 1
    ids[3, 5:] = 0
    return EncoderClassifier(CFG).eval(), ids


def test_vnni_is_read_from_the_flags_line():
    assert qo.cpu_has_vnni("processor: 0\nflags\t: fpu avx2 avx512_vnni\n") is True
    assert qo.cpu_has_vnni("flags : fpu avx2 avx_vnni\n") is True
    assert qo.cpu_has_vnni("flags : fpu sse4_2 avx2 fma\n") is False
    assert qo.cpu_has_vnni("no flags here\n") is None


def test_export_matches_torch_at_any_batch():
    m, ids = _model_and_ids()
    proto = ox.export_onnx(m, ids[:2])
    parity = ox.check_parity(m, proto, ids)
    assert parity.ok and parity.argmax_agreement_frac == 1.0
    one = ox.run_session(ox.session(proto, 1), ids[:1])
    assert one.shape == (1, 4)


def test_quantized_models_are_smaller_and_close():
    m, ids = _model_and_ids()
    proto = ox.export_onnx(m, ids[:2])
    with torch.no_grad():
        ref = m(ids).numpy()
    fp32_bytes = len(proto.SerializeToString())
    forms = {
        "int8-dynamic": qo.int8_dynamic(proto, reduce_range=False),
        "int8-static": qo.int8_static(proto, ids.numpy(), reduce_range=True),
        "int4": qo.int4_weight(proto),
    }
    ops = {k: {n.op_type for n in v.graph.node} for k, v in forms.items()}
    assert "MatMulInteger" in ops["int8-dynamic"] and "QuantizeLinear" in ops["int8-static"]
    assert "MatMulNBits" in ops["int4"]
    for name, q in forms.items():
        got = ox.run_session(ox.session(q, 1), ids)
        assert len(q.SerializeToString()) < 0.5 * fp32_bytes, name
        # quantization error, not a broken graph: within 10% of the largest logit
        assert np.abs(got - ref).max() <= 0.1 * np.abs(ref).max() + 1e-3, name
