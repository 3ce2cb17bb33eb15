"""Degree arithmetic, plan mapping and the pieces of distributed training that need no process."""

from __future__ import annotations

import sys

import pytest
import torch

from scalelab.core.errors import CheckpointError, ConfigError
from scalelab.core.specs import ParallelPlan
from scalelab.lab.parallel.config import dist_run_from_mapping
from scalelab.lab.parallel.data import GlobalBatchLoader
from scalelab.lab.parallel.dims import ParallelDims
from scalelab.lab.parallel.launch import TRAIN_MODULE, torchrun_command
from scalelab.lab.parallel.pipeline import stage_layers


def dims(world: int, **plan) -> ParallelDims:
    return ParallelDims.from_plan(ParallelPlan(**plan), world)


@pytest.mark.parametrize(
    ("world", "plan", "mode", "shape"),
    [
        (1, {}, "none", (1, 1, 1, 1)),
        (4, {}, "ddp", (1, 4, 1, 1)),
        (4, {"zero_stage": 3}, "fsdp", (1, 1, 4, 1)),
        (4, {"zero_stage": 2, "tp": 2}, "fsdp", (1, 1, 2, 2)),
        (8, {"tp": 2, "pp": 2}, "ddp", (2, 2, 1, 2)),
        (4, {"pp": 4}, "none", (4, 1, 1, 1)),
    ],
)
def test_plan_maps_to_mesh(world, plan, mode, shape):
    d = dims(world, **plan)
    assert d.dp_mode == mode
    assert d.mesh_shape == shape
    assert d.dp * d.tp * d.pp == world


@pytest.mark.parametrize(
    ("world", "plan", "message"),
    [
        (4, {"dp": 3}, "dp x tp x pp"),
        (6, {"tp": 4}, "does not divide"),
        (2, {"cp": 2}, "context"),
        (2, {"ep": 2}, "expert"),
        (2, {"zero_stage": 1}, "zero_stage = 1"),
        (2, {"pp": 2, "schedule": "dualpipe"}, "not supported"),
        (2, {"recompute": "selective"}, "recompute"),
        (4, {"pp": 2, "virtual_stages": 2}, "interleaved"),
    ],
)
def test_unsupported_or_inconsistent_plans_are_one_line_config_errors(world, plan, message):
    with pytest.raises(ConfigError, match=message) as exc:
        dims(world, **plan)
    assert "\n" not in str(exc.value)


def test_sequence_parallel_only_with_tensor_parallel():
    assert not dims(2, sequence_parallel=True).sequence_parallel
    assert dims(2, tp=2, sequence_parallel=True).sequence_parallel


def test_batches_and_microbatches():
    d = dims(4, pp=2, microbatch_size=2)  # dp = 2
    assert d.local_batch_size(16) == 8
    assert d.num_microbatches(16) == 4
    assert dims(2).num_microbatches(16) == 1
    with pytest.raises(ConfigError, match="not divisible"):
        d.local_batch_size(15)
    with pytest.raises(ConfigError, match="at least pp"):
        dims(4, pp=4, microbatch_size=4).num_microbatches(8)
    assert dims(4, pp=4, schedule="gpipe", microbatch_size=4).num_microbatches(8) == 2


def test_model_shape_checks():
    d = dims(2, tp=2)
    d.check_model(n_heads=4, ffn_width=128, n_layers=2, seq_len=16)
    with pytest.raises(ConfigError, match="n_heads"):
        d.check_model(n_heads=3, ffn_width=128, n_layers=2, seq_len=16)
    with pytest.raises(ConfigError, match="FFN width"):
        d.check_model(n_heads=4, ffn_width=85, n_layers=2, seq_len=16)
    with pytest.raises(ConfigError, match="seq_len"):
        d.check_model(n_heads=4, ffn_width=128, n_layers=2, seq_len=15)
    with pytest.raises(ConfigError, match="n_layers"):
        dims(4, pp=4).check_model(n_heads=4, ffn_width=128, n_layers=3, seq_len=16)


@pytest.mark.parametrize(("layers", "stages"), [(4, 2), (5, 2), (7, 3), (3, 3)])
def test_stage_layers_partition_the_blocks_in_order(layers, stages):
    parts = [list(stage_layers(layers, stages, s)) for s in range(stages)]
    assert sum(parts, []) == list(range(layers))
    assert max(map(len, parts)) - min(map(len, parts)) <= 1


def test_torchrun_command_single_and_multi_node():
    one = torchrun_command("run.toml", 2, max_restarts=1)
    assert one[:3] == [sys.executable, "-m", "torch.distributed.run"]
    assert "--standalone" in one and one[-3:] == ["-m", TRAIN_MODULE, "run.toml"]
    multi = torchrun_command("run.toml", 8, nnodes=2, rdzv_endpoint="host:29500")
    assert "--standalone" not in multi
    assert multi[multi.index("--rdzv-endpoint") + 1] == "host:29500"
    assert multi[multi.index("--nnodes") + 1] == "2"
    with pytest.raises(ConfigError, match="rdzv-endpoint"):
        torchrun_command("run.toml", 8, nnodes=2)


def test_run_mapping_splits_off_the_parallel_table(tmp_path):
    raw = {"train": {"steps": 3}, "parallel": {"tp": 2}, "output": {"dir": "out"}}
    run = dist_run_from_mapping(raw, "run.toml", base=tmp_path)
    assert run.plan.tp == 2 and run.run.train.steps == 3
    assert run.out_dir == tmp_path / "out" and run.checkpoint_dir == tmp_path / "out" / "dcp"
    with pytest.raises(ConfigError, match="parallel: tpp: unknown field"):
        dist_run_from_mapping({"parallel": {"tpp": 2}}, "run.toml")
    with pytest.raises(ConfigError, match="weight_decay"):
        dist_run_from_mapping({"optim": {"l2": 0.1}}, "run.toml")


def test_loader_ranks_partition_the_global_batch_and_resume_by_position():
    stream = torch.arange(1000) % 256
    ranks = [GlobalBatchLoader(stream, 8, 16, seed=1, dp_rank=r, dp_degree=4) for r in range(4)]
    parts = [r.next(torch.device("cpu")) for r in ranks]
    x, y = ranks[0].global_batch(0)
    assert torch.equal(torch.cat([p[0] for p in parts]), x)
    assert torch.equal(torch.cat([p[1] for p in parts]), y)
    assert torch.equal(x[:, 1:], y[:, :-1])  # targets are the next bytes
    assert not torch.equal(ranks[0].global_batch(1)[0], x)
    other = GlobalBatchLoader(stream, 8, 16, seed=1, dp_rank=0, dp_degree=2)
    other.load_state_dict(ranks[0].state_dict())  # resharded: same position, other dp degree
    assert other.position == 1
    with pytest.raises(CheckpointError, match="seed"):
        GlobalBatchLoader(stream, 8, 16, seed=2).load_state_dict(ranks[0].state_dict())
