"""Hardware choice: which accelerator, how many, which plan, under a deadline and budget."""

from __future__ import annotations

import pytest

from scalelab.core.catalog import load_model
from scalelab.core.errors import ConfigError
from scalelab.core.specs import TrainWorkload
from scalelab.plan.hardware import accelerator_ids, choose_hardware

WL = TrainWorkload(global_batch_size=1024, seq_len=4096, train_tokens=2e12)


def test_answer_meets_deadline_and_is_cheapest_of_those():
    h = choose_hardware(
        load_model("llama-3.1-8b"), WL, "h100,a100", "cost", counts=(64, 128, 256), deadline_days=30
    )
    assert h.answer is not None and h.answer.run_days <= 30
    ok = [o for o in h.options if o.run_days <= 30]
    assert h.answer.cost_usd == min(o.cost_usd for o in ok)


def test_impossible_deadline_explains():
    h = choose_hardware(
        load_model("llama-3.1-8b"), WL, "h100", "time", counts=(64,), deadline_days=0.001
    )
    assert h.answer is None and "no option meets" in h.message


def test_hardware_ids():
    assert "h800-sxm5-80gb" in accelerator_ids("any")
    assert accelerator_ids("h800") == ["h800-sxm5-80gb"]
    with pytest.raises(ConfigError):
        accelerator_ids("nope")
    with pytest.raises(ConfigError):
        choose_hardware(
            load_model("llama-3.1-8b"), TrainWorkload(global_batch_size=8, seq_len=8), "h100"
        )
