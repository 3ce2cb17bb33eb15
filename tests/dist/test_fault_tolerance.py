"""Kill one rank with SIGKILL mid-run under `torchrun --max-restarts 1`: the job restarts from
the last distributed checkpoint and ends with exactly the weights of an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess

import pytest
import torch

from scalelab.lab.calibrate.tomlout import dumps_toml
from scalelab.lab.models.transformer import Transformer, TransformerConfig
from scalelab.lab.parallel.dcp import latest_checkpoint, load_full_model
from scalelab.lab.parallel.launch import torchrun_command
from scalelab.lab.parallel.train_dist import FAULT_ENV, SUMMARY, spawn_training

pytestmark = [pytest.mark.dist, pytest.mark.slow]


def _final_weights(raw, out_dir) -> dict[str, torch.Tensor]:
    model = Transformer(TransformerConfig(**raw["model"]))
    step = load_full_model(latest_checkpoint(out_dir / "dcp"), model)
    assert step == raw["train"]["steps"]
    return model.state_dict()


def _run_job(cmd: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run torchrun in its own session so a hang cannot leave workers behind."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)  # fmt: skip
    try:
        _, stderr = proc.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        _, stderr = proc.communicate()
        pytest.fail(f"torchrun timed out: {stderr[-2000:]}")
    return proc.returncode, stderr


def test_sigkill_one_rank_restarts_from_checkpoint_with_identical_weights(make_run, tmp_path):
    train = {"steps": 8, "checkpoint_every": 2}
    faulty = make_run(tmp_path / "faulty", train=train, parallel={"dp": 2})
    run_file = tmp_path / "run.toml"
    run_file.write_text(dumps_toml(faulty))
    marker = tmp_path / "killed-once"
    env = {**os.environ, FAULT_ENV: f"1:5:{marker}", "OMP_NUM_THREADS": "1"}
    cmd = torchrun_command(str(run_file), 2, max_restarts=1)
    code, stderr = _run_job(cmd, env)
    assert code == 0, stderr[-12000:]
    assert marker.exists(), "rank 1 was never killed"
    summary = json.loads((tmp_path / "faulty" / SUMMARY).read_text())
    assert summary["start_step"] == 4  # the restarted job resumed at the step-4 checkpoint

    clean = make_run(tmp_path / "clean", train=train, parallel={"dp": 2})
    spawn_training(clean, 2)
    got, want = (
        _final_weights(faulty, tmp_path / "faulty"),
        _final_weights(clean, tmp_path / "clean"),
    )
    assert got.keys() == want.keys()
    for name in want:
        assert torch.equal(got[name], want[name]), name
    initial = Transformer(TransformerConfig(**clean["model"])).state_dict()
    assert not torch.equal(initial["blocks.0.attn.q.weight"], want["blocks.0.attn.q.weight"])
