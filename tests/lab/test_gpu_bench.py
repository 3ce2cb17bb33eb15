"""benchmarks/bench_lab_gpu.py on a small model: runs on a CUDA device, skipped without one."""

import importlib.util
from pathlib import Path

import pytest
import torch

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_lab_gpu.py"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_lab_gpu", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_skips_cleanly_without_cuda(monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert _bench().main(["--small"]) is None
    assert "CUDA is not available" in capsys.readouterr().out


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_small_model_throughput_and_mfu():
    res = _bench().main(["--small", "--steps", "3", "--rounds", "2"])
    for loop in ("bare_pytorch", "scalelab_train_step", "scalelab_with_diagnostics_every_10"):
        assert res[loop]["tokens_per_s"] > 0
        if res["peak_bf16_flops_per_s"]:
            assert 0 < res[loop]["mfu_frac"] < 1
    # train_step adds clipping on top of the bare loop; it must not cost more than a fifth.
    assert res["scalelab_over_bare_ratio"] > 0.8
