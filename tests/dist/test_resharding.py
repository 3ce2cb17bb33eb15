"""A distributed checkpoint saved by 4 FSDP processes resumes on 2 (FSDP, or tensor parallel)
and continues with the losses the 4-process job had; a single process can read it, too."""

from __future__ import annotations

import pytest
import torch

from scalelab.lab.models.transformer import Transformer, TransformerConfig
from scalelab.lab.parallel.dcp import LATEST, load_full_model
from scalelab.lab.parallel.train_dist import spawn_training

pytestmark = [pytest.mark.dist, pytest.mark.slow]

# Reductions over 4 vs 2 shards round differently in the last bits; nothing else differs.
LOSS_RTOL = 1e-5


def test_save_with_four_resume_with_two_continues_with_identical_loss(make_run, tmp_path):
    out = tmp_path / "run"
    train = {"steps": 6, "checkpoint_every": 3}
    four = spawn_training(make_run(out, train=train, parallel={"dp": 4, "zero_stage": 3}), 4)
    (out / "dcp" / LATEST).write_text("step_00000003")  # rewind to the mid-run checkpoint

    two_raw = make_run(out, train=train, parallel={"dp": 2, "zero_stage": 3})
    two = spawn_training(two_raw, 2, resume=True)
    assert two["start_step"] == 3 and two["world_size"] == 2
    for step in ("3", "4", "5"):
        assert two["losses"][step] == pytest.approx(four["losses"][step], rel=LOSS_RTOL), step
    assert four["losses"]["3"] != four["losses"]["0"]

    # Another plan altogether: tensor parallel over 2 (other optimizer groups, DTensor shards).
    (out / "dcp" / LATEST).write_text("step_00000003")
    tp = spawn_training(make_run(out, train=train, parallel={"tp": 2}), 2, resume=True)
    for step in ("3", "4", "5"):
        assert tp["losses"][step] == pytest.approx(four["losses"][step], rel=LOSS_RTOL), step

    model = Transformer(TransformerConfig(**two_raw["model"]))
    assert load_full_model(out / "dcp" / "step_00000006", model) == 6
    assert all(torch.isfinite(p).all() for p in model.parameters())
