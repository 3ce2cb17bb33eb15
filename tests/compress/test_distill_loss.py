import math

import torch

from scalelab.compress.train import DistillSettings, distill_loss


def test_alpha_zero_is_plain_cross_entropy():
    s, t, y = torch.randn(5, 3), torch.randn(5, 3), torch.tensor([0, 1, 2, 1, 0])
    got = distill_loss(s, t, y, DistillSettings(alpha=0.0))
    assert torch.allclose(got, torch.nn.functional.cross_entropy(s, y))


def test_soft_term_is_t_squared_kl_computed_by_hand():
    s, t, y = torch.tensor([[1.0, 0.0, -1.0]]), torch.tensor([[0.0, 2.0, 0.0]]), torch.tensor([1])
    temp = 2.0

    def softmax(row: list[float]) -> list[float]:
        e = [math.exp(v / temp) for v in row]
        return [v / sum(e) for v in e]

    p, q = softmax([0.0, 2.0, 0.0]), softmax([1.0, 0.0, -1.0])
    kl = sum(pi * math.log(pi / qi) for pi, qi in zip(p, q, strict=True))
    got = distill_loss(s, t, y, DistillSettings(alpha=1.0, temperature=temp))
    assert abs(got.item() - temp**2 * kl) < 1e-5


def test_student_equal_to_teacher_has_no_soft_loss():
    logits = torch.randn(4, 5)
    got = distill_loss(
        logits, logits.clone(), torch.zeros(4, dtype=torch.long), DistillSettings(alpha=1.0)
    )
    assert abs(got.item()) < 1e-6
