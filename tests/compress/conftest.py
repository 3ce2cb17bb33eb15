"""A tiny teacher trained once per test process on the real BBC News set (about 10 s)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch  # noqa: F401  (fails, not skips, without the lab extra)

TINY = {"n_layers": 1, "d_model": 32, "n_heads": 2, "max_len": 48}


@pytest.fixture(scope="session")
def teacher(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from scalelab.compress.train import TrainSettings
    from scalelab.compress.workflow import train_teacher

    out = tmp_path_factory.mktemp("compress") / "teacher"
    train_teacher(
        "bbc", TINY, TrainSettings(epochs=4, batch_size=16, lr=3e-3), out, vocab_size=2000
    )
    return out
