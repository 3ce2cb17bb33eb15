"""Fixtures for the lab tests: tiny run files and a tiny transformer config."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch  # noqa: F401  (fails, not skips, without the lab extra)

TINY_RUN = """
[model]
d_model = 32
n_layers = 2
n_heads = 2
seq_len = 32
dropout = 0.1

[train]
steps = {steps}
batch_size = 4
eval_every = 5
eval_batches = 2
log_every = 1
diagnostics_every = 3
device = "cpu"

[optim]
lr = 3e-3
warmup_steps = 3

[output]
dir = "{out}"
tensorboard = {tensorboard}
sample_bytes = 20
"""


@pytest.fixture
def tiny_run(tmp_path: Path):
    """Write a tiny RUN.toml; returns a function (steps, out name, tensorboard) -> path."""

    def make(steps: int = 10, out: str = "run", tensorboard: bool = False, extra: str = "") -> Path:
        path = tmp_path / f"{out}.toml"
        text = TINY_RUN.format(steps=steps, out=out, tensorboard=str(tensorboard).lower())
        path.write_text(text + extra)
        return path

    return make
