"""Shared run files for the multi-process tests: a tiny byte-level transformer on CPU/gloo."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest

# A collective that waits longer than this fails the test instead of hanging the suite.
os.environ.setdefault("SCALELAB_DIST_TIMEOUT_S", "180")

TINY_RUN: dict[str, Any] = {
    # d_ff 128 and 4 heads split over tp = 2; 4 layers split over pp = 2 or 4.
    "model": {"seq_len": 16, "d_model": 48, "n_layers": 4, "n_heads": 4, "d_ff": 128},
    "train": {
        "steps": 6,
        "batch_size": 8,
        "device": "cpu",
        "precision": "fp32",
        "log_every": 1,
        "seed": 3,
    },
    "optim": {"lr": 3e-3, "warmup_steps": 2},
    "output": {"tensorboard": False},
}


def tiny_run(out_dir: Path | None = None, **tables: dict[str, Any]) -> dict[str, Any]:
    """TINY_RUN with tables updated key by key, writing to `out_dir`."""
    raw = copy.deepcopy(TINY_RUN)
    for name, values in tables.items():
        raw.setdefault(name, {}).update(values)
    if out_dir is not None:
        raw["output"]["dir"] = str(out_dir)
    return raw


@pytest.fixture(scope="session")
def make_run():
    return tiny_run

