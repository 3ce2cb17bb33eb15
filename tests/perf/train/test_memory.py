"""Memory per device: ZeRO sharding arithmetic and mixed-precision AdamW bytes."""

from __future__ import annotations

import numpy as np
import pytest

from scalelab.core.catalog import load_model
from scalelab.core.specs import ParallelPlan
from scalelab.perf.model.params import count_params
from scalelab.perf.train.memory import layer_params, state_bytes
from scalelab.perf.train.plan_arrays import from_plans


@pytest.mark.parametrize("zero", [0, 1, 2, 3])
def test_zero_shards_sum_to_the_unsharded_state(zero):
    params, ranks = np.array([1.3e9]), np.array([16.0])
    w, g, o = state_bytes(params, ranks, np.array([zero]))
    full = state_bytes(params, np.array([1.0]), np.array([zero]))  # the same state, one rank
    sharded = [zero >= 3, zero >= 2, zero >= 1]
    for part, whole, is_sharded in zip((w, g, o), full, sharded, strict=True):
        total = part * (ranks if is_sharded else 1.0)
        assert float(total[0]) == pytest.approx(float(whole[0]))
    # 2 (bf16 weights) + 4 (fp32 main grads, Megatron-LM) + 12 (fp32 master, m, v) per parameter
    # unsharded: Korthikanti et al. 2022 Fig. 1 profiles 45.6 GiB for 22B / 8 GPUs = 17.7 B
    megatron = state_bytes(params, ranks, np.array([0]))
    assert float(sum(megatron)[0]) == pytest.approx(18 * 1.3e9)


def test_zero3_keeps_bf16_gradients_and_fp8_plans_bf16_moments():
    params, ranks = np.array([1e9]), np.array([1.0])
    _, g3, o3 = state_bytes(params, ranks, np.array([3]))
    assert float(g3[0]) == pytest.approx(2e9)  # FSDP/DeepSpeed reduce-scatter bf16 gradients
    _, _, o8 = state_bytes(params, ranks, np.array([1]), np.array([True]))
    assert float(o8[0]) == pytest.approx(8e9)  # fp32 master + bf16 m, v (DeepSeek-V3 Sec 3.3.3)


def test_layer_params_add_up_to_the_model():
    m = load_model("deepseek-v3")
    plan = from_plans([ParallelPlan(dp=1, tp=1, pp=1, ep=1)], m, 1)
    lp = layer_params(m, plan)
    c = count_params(m)
    total = (
        m.num_layers * (lp.dense[0] + lp.expert[0]) + lp.embed[0] + lp.head[0] + lp.head_expert[0]
    )
    # every weight of the main model and the MTP module, norms aside (final norm, MTP norms)
    assert total == pytest.approx(c.total + c.mtp, rel=1e-4)


def test_tp_and_ep_shard_their_parts():
    m = load_model("deepseek-v3")
    one = layer_params(m, from_plans([ParallelPlan(dp=8)], m, 8))
    split = layer_params(m, from_plans([ParallelPlan(dp=1, tp=8, ep=8)], m, 8))
    assert split.expert[0] == pytest.approx(one.expert[0] / 8)
    assert split.dense[0] == pytest.approx(one.dense[0] / 8)
