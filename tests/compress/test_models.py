import torch

from scalelab.compress.models import CLS_ID, PAD_ID, EncoderClassifier, EncoderConfig


def _ids(b: int, t: int, real: int) -> torch.Tensor:
    ids = torch.randint(3, 50, (b, t))
    ids[:, 0] = CLS_ID
    ids[:, real:] = PAD_ID
    return ids


def test_logits_shape_and_padding_is_ignored():
    torch.manual_seed(0)
    m = EncoderClassifier(
        EncoderConfig(vocab_size=50, max_len=16, d_model=16, n_layers=2, n_heads=2, num_classes=3)
    ).eval()
    short = _ids(4, 8, 5)
    padded = torch.cat([short, torch.zeros(4, 8, dtype=torch.int64)], dim=1)
    with torch.no_grad():
        a, b = m(short), m(padded)
    assert a.shape == (4, 3)
    # padding is masked out of attention and of the mean pool: more padding, same logits
    assert torch.allclose(a, b, atol=1e-5)


def test_every_weight_matrix_is_a_linear():
    m = EncoderClassifier(
        EncoderConfig(vocab_size=50, max_len=8, d_model=16, n_layers=2, n_heads=2)
    )
    mats = [n for n, p in m.named_parameters() if p.dim() == 2 and "emb" not in n]
    linears = {f"{n}.weight" for n, mod in m.named_modules() if isinstance(mod, torch.nn.Linear)}
    assert set(mats) == linears
