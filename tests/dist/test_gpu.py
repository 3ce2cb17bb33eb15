"""The same checks on CUDA with NCCL; skipped without a GPU (never simulated)."""

from __future__ import annotations

import pytest
import torch

from scalelab.lab.parallel.launch import select_backend
from scalelab.lab.parallel.train_dist import spawn_training
from scalelab.lab.parallel.verify import check_plans

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.dist,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]

# fp32 on GPU without TF32; cuBLAS may pick other reduction orders than one device does.
GRAD_ATOL = 1e-5


def test_cuda_selects_nccl():
    assert select_backend("auto") == ("cuda", "nccl")


def test_single_gpu_training_runs_and_learns(make_run, tmp_path):
    raw = make_run(
        tmp_path / "gpu",
        train={"device": "cuda", "steps": 8, "precision": "bf16", "deterministic": False},
    )
    summary = spawn_training(raw, 1)
    losses = summary["losses"]
    assert losses["7"] < losses["0"]


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs 2 GPUs")
def test_two_gpu_plans_match_one_device(make_run):
    raw = make_run(train={"device": "cuda", "precision": "fp32", "deterministic": False})
    plans = [{"dp": 2}, {"dp": 2, "zero_stage": 3}, {"tp": 2}, {"pp": 2, "microbatch_size": 2}]
    for check in check_plans(raw, plans, 2):
        assert check.max_abs_grad_diff <= GRAD_ATOL, check
