"""The loop: bit-exact resume, determinism, refusal to overwrite, early stopping, step function."""

import pytest
import torch
from safetensors.torch import load_file

from scalelab.core.errors import CheckpointError, ConfigError
from scalelab.lab.config import load_run_config
from scalelab.lab.lm import train_language_model
from scalelab.lab.metrics import read_metrics
from scalelab.lab.models.mlp import DeepMLP, MLPConfig
from scalelab.lab.optim import OptimConfig, build_optimizer
from scalelab.lab.step import train_step
from scalelab.lab.trainer import TrainConfig, Trainer


def _tensors(path):
    return load_file(str(path))


def _same(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_resume_equals_uninterrupted_run_bit_exactly(tiny_run):
    n = 6
    whole = train_language_model(load_run_config(tiny_run(2 * n, "whole")))
    split_cfg = load_run_config(tiny_run(2 * n, "split"))
    half = train_language_model(split_cfg, stop_after=n)
    assert half.steps == n
    resumed = train_language_model(split_cfg, resume=True)
    assert resumed.resumed_from == n and resumed.steps == 2 * n
    a = whole.out_dir / "checkpoints" / f"step_{2 * n:08d}"
    b = resumed.out_dir / "checkpoints" / f"step_{2 * n:08d}"
    for name in ("model", "optimizer", "rng"):
        assert _same(_tensors(a / f"{name}.safetensors"), _tensors(b / f"{name}.safetensors")), name
    assert resumed.val_loss == whole.val_loss and resumed.sample == whole.sample
    assert read_metrics(a.parent.parent / "metrics.csv") == read_metrics(
        b.parent.parent / "metrics.csv"
    )


def test_runs_are_deterministic_and_seed_matters(tiny_run):
    r1 = train_language_model(load_run_config(tiny_run(4, "r1")))
    r2 = train_language_model(load_run_config(tiny_run(4, "r2")))
    assert r1.train_loss == r2.train_loss and r1.sample == r2.sample
    other = load_run_config(tiny_run(4, "r4"), {"train": {"seed": 1}})
    assert train_language_model(other).train_loss != r1.train_loss


def test_fresh_run_refuses_a_folder_with_checkpoints(tiny_run):
    cfg = load_run_config(tiny_run(2, "busy"))
    train_language_model(cfg)
    with pytest.raises(ConfigError, match="--resume"):
        train_language_model(cfg)


def test_resume_without_checkpoint_is_an_error(tiny_run):
    with pytest.raises(CheckpointError, match="nothing to resume"):
        train_language_model(load_run_config(tiny_run(2, "empty")), resume=True)


def test_corrupted_checkpoint_never_restarts_from_scratch(tiny_run):
    cfg = load_run_config(tiny_run(4, "bad"))
    train_language_model(cfg, stop_after=2)
    weights = cfg.output.dir / "checkpoints" / "step_00000002" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="truncated"):
        train_language_model(cfg, resume=True)
    assert not (cfg.output.dir / "checkpoints" / "step_00000004").exists()


def test_lm_learns_and_reports_perplexity(tiny_run):
    r = train_language_model(load_run_config(tiny_run(40, "learn"), {"train": {"eval_every": 40}}))
    # Uniform guessing over 256 bytes costs ln 256 = 5.55 nats; letters and spaces alone beat 3.5.
    assert r.val_loss < 3.5
    assert r.val_perplexity == pytest.approx(torch.tensor(r.val_loss).exp().item(), rel=1e-6)
    assert len(r.sample.encode("utf-8", errors="replace")) >= 20
    assert r.gradient_flow is not None and r.gradient_flow["verdict"] in {
        "healthy",
        "vanishing",
        "exploding",
    }
    names = {n for _, n, _ in read_metrics(r.out_dir / "metrics.csv")}
    assert {
        "train/loss",
        "train/lr",
        "val/loss",
        "layer/grad_norm/000",
        "layer/grad_norm/001",
    } <= names


def test_train_step_is_usable_alone():
    torch.manual_seed(0)
    model = DeepMLP(MLPConfig(in_features=4, num_classes=2, width=8, depth=2))
    opt = build_optimizer(model, OptimConfig(lr=0.05))
    x, y = torch.randn(16, 4), (torch.arange(16) % 2)
    first = train_step(model, (x, y), opt, clip_grad_norm=1.0).loss.item()
    for _ in range(30):
        out = train_step(model, (x, y), opt, clip_grad_norm=1.0)
    assert out.loss.item() < first and out.grad_norm is not None


def test_early_stopping_stops_and_checkpoints(tmp_path):
    torch.manual_seed(0)
    model = DeepMLP(MLPConfig(in_features=4, num_classes=2, width=8, depth=1))
    optim = OptimConfig()
    cfg = TrainConfig(
        steps=100, batch_size=4, eval_every=5, early_stopping_patience=2, device="cpu"
    )
    losses = iter([1.0, 0.9, 0.95, 0.97, 0.5])
    trainer = Trainer(model, build_optimizer(model, optim), cfg, optim,
                      next_batch=lambda g: (torch.randn(4, 4, generator=g), torch.zeros(4, dtype=torch.int64)),
                      evaluate=lambda m: {"val/loss": next(losses)}, out_dir=tmp_path)  # fmt: skip
    fit = trainer.fit()
    assert fit.stopped_early and fit.step == 20 and fit.best_step == 10
    assert (tmp_path / "checkpoints" / "step_00000020").is_dir()


def test_crash_after_a_checkpoint_resumes_exactly_and_drops_stale_rows(tiny_run):
    whole = train_language_model(load_run_config(tiny_run(8, "whole")))
    cfg = load_run_config(tiny_run(8, "crash"))
    cfg = cfg.model_copy(update={"train": cfg.train.model_copy(update={"checkpoint_every": 3})})
    train_language_model(cfg, stop_after=5)
    # As if killed after step 5 but before its checkpoint: the newest complete one is step 3.
    (cfg.output.dir / "checkpoints" / "latest").write_text("step_00000003")
    resumed = train_language_model(cfg, resume=True)
    assert resumed.resumed_from == 3 and resumed.val_loss == whole.val_loss
    assert read_metrics(cfg.output.dir / "metrics.csv") == read_metrics(
        whole.out_dir / "metrics.csv"
    )


def test_divergence_stops_before_a_checkpoint_and_keeps_the_last_good_one(tiny_run):
    from scalelab.lab.trainer import DivergenceError

    path = tiny_run(8, "nan", extra="")
    good = load_run_config(path, {"train": {"checkpoint_every": 2}})
    train_language_model(good, stop_after=2)
    ckpts = good.output.dir / "checkpoints"
    assert (ckpts / "latest").read_text() == "step_00000002"
    blown = load_run_config(path, {"train": {"checkpoint_every": 2}, "optim": {"lr": 1e30}})
    with pytest.raises(DivergenceError, match="diverged") as info:
        train_language_model(blown, resume=True)
    message = str(info.value)
    assert "\n" not in message and "step_00000002 stays the latest" in message
    assert (ckpts / "latest").read_text() == "step_00000002"
    assert sorted(p.name for p in ckpts.iterdir()) == ["latest", "step_00000002"]


def test_divergence_from_the_first_step_writes_no_checkpoint(tiny_run):
    from scalelab.lab.trainer import DivergenceError

    cfg = load_run_config(tiny_run(6, "nan0"), {"optim": {"lr": 1e30}})
    with pytest.raises(DivergenceError, match="no checkpoint was written"):
        train_language_model(cfg)
    assert not (cfg.output.dir / "checkpoints").exists()


def test_a_second_writer_is_refused_while_the_first_holds_the_folder(tiny_run):
    from scalelab.lab.runlock import RunLock

    cfg = load_run_config(tiny_run(2, "locked"))
    with RunLock(cfg.output.dir), pytest.raises(ConfigError, match="in use by another"):
        train_language_model(cfg)
    train_language_model(cfg)  # released: the run goes ahead
