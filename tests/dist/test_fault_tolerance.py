"""Kill one rank with SIGKILL mid-run under `scalelab train --nproc 2 --max-restarts 1` and under
`torchrun --max-restarts 1`: the job restarts from the last distributed checkpoint and ends with
exactly the weights of an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest
import torch

from scalelab.lab.calibrate.tomlout import dumps_toml
from scalelab.lab.models.transformer import Transformer, TransformerConfig
from scalelab.lab.parallel.dcp import latest_checkpoint, load_full_model
from scalelab.lab.parallel.launch import torchrun_command
from scalelab.lab.parallel.train_dist import FAULT_ENV, SUMMARY, spawn_training

from dist_cli import CLI

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


TRAIN = {"steps": 8, "checkpoint_every": 2}


@pytest.fixture(scope="module")
def clean_weights(make_run, tmp_path_factory) -> dict[str, torch.Tensor]:
    """The final weights of the same job run without a fault."""
    out = tmp_path_factory.mktemp("clean")
    clean = make_run(out / "run", train=TRAIN, parallel={"dp": 2})
    spawn_training(clean, 2)
    weights = _final_weights(clean, out / "run")
    initial = Transformer(TransformerConfig(**clean["model"])).state_dict()
    assert not torch.equal(initial["blocks.0.attn.q.weight"], weights["blocks.0.attn.q.weight"])
    return weights


def _command(launcher: str, run_file: str) -> list[str]:
    if launcher == "torchrun":  # what the README shows for several machines
        return torchrun_command(run_file, 2, max_restarts=1)
    return [sys.executable, "-c", CLI, "train", run_file, "--nproc", "2", "--max-restarts", "1"]


# The same machine and thread count on both sides (one thread per worker), so the restarted
# job's weights are bit-identical to the clean one's: a determinism check, not a cross-CPU one.
@pytest.mark.parametrize("launcher", ["scalelab", "torchrun"])
def test_sigkill_one_rank_restarts_from_checkpoint_with_identical_weights(
    make_run, tmp_path, clean_weights, launcher
):
    faulty = make_run(tmp_path / "faulty", train=TRAIN, parallel={"dp": 2})
    run_file = tmp_path / "run.toml"
    run_file.write_text(dumps_toml(faulty))
    marker = tmp_path / "killed-once"
    env = {**os.environ, FAULT_ENV: f"1:5:{marker}", "OMP_NUM_THREADS": "1"}
    code, stderr = _run_job(_command(launcher, str(run_file)), env)
    assert code == 0, stderr[-12000:]
    assert marker.exists(), "rank 1 was never killed"
    summary = json.loads((tmp_path / "faulty" / SUMMARY).read_text())
    assert summary["start_step"] == 4  # the restarted job resumed at the step-4 checkpoint
    got = _final_weights(faulty, tmp_path / "faulty")
    assert got.keys() == clean_weights.keys()
    for name in clean_weights:
        assert torch.equal(got[name], clean_weights[name]), name
