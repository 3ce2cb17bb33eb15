"""RUN.toml for `scalelab train`: model, data, train, optim and output tables, strictly checked.

Relative paths (data.path, output.dir) are taken from the folder that holds the TOML file.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from scalelab.core.errors import ConfigError
from scalelab.core.io import build, read_mapping
from scalelab.lab.models.transformer import TransformerConfig
from scalelab.lab.optim import OptimConfig
from scalelab.lab.trainer import TrainConfig


class DataConfig(BaseModel):
    """A built-in corpus by name, or any text file (read as bytes); the tail is validation."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    corpus: str | None = None
    path: Path | None = None
    val_frac: float = Field(0.1, gt=0, lt=1)

    @model_validator(mode="after")
    def _one_source(self) -> DataConfig:
        if self.corpus is not None and self.path is not None:
            raise ValueError("give either corpus or path, not both")
        return self


class OutputConfig(BaseModel):
    """Where the run writes, and the text sample printed at the end."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    dir: Path = Path("runs/lm")
    tensorboard: bool = True
    sample_bytes: int = Field(300, ge=0)
    sample_prompt: str = "\n"
    temperature: float = Field(0.8, gt=0)
    top_k: int | None = Field(None, gt=0)


class RunConfig(BaseModel):
    """Everything `scalelab train` needs; every table is optional and has defaults."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    model: TransformerConfig = TransformerConfig()
    data: DataConfig = DataConfig()
    train: TrainConfig = TrainConfig()
    optim: OptimConfig = OptimConfig()
    output: OutputConfig = OutputConfig()

    @model_validator(mode="after")
    def _within_limits(self) -> RunConfig:
        for table, limits in RUN_LIMITS.items():
            for name, limit in limits.items():
                value = getattr(getattr(self, table), name)
                if value is not None and value > limit:
                    raise ValueError(f"{table}.{name} = {value:,} is above the largest, {limit:,}")
        return self

    @model_validator(mode="after")
    def _byte_vocab(self) -> RunConfig:
        if self.model.vocab_size < 256:
            raise ValueError(
                f"model.vocab_size is {self.model.vocab_size}; byte-level text needs >= 256"
            )
        return self


# Largest value of each count in a run file: far beyond what a CPU or one node trains in a lab
# run, small enough that a typo (an extra zero run of digits) is an error, not an allocation of
# terabytes or a run of centuries.
RUN_LIMITS: dict[str, dict[str, int]] = {
    "model": {
        "vocab_size": 2**20,
        "seq_len": 2**20,
        "d_model": 2**16,
        "n_layers": 1024,
        "n_heads": 1024,
        "d_ff": 2**18,
    },
    "train": {
        "steps": 10**9,
        "batch_size": 2**20,
        "seed": 2**32 - 1,
        "log_every": 10**9,
        "eval_every": 10**9,
        "eval_batches": 10**6,
        "checkpoint_every": 10**9,
        "early_stopping_patience": 10**9,
        "diagnostics_every": 10**9,
    },
    "optim": {"warmup_steps": 10**9},
    "output": {"sample_bytes": 10**6, "top_k": 2**20},
}


def _rebase(path: Path | None, base: Path) -> Path | None:
    return None if path is None or path.is_absolute() else base / path


def load_run_config(path: Path, overrides: dict[str, dict[str, object]] | None = None) -> RunConfig:
    """Read and validate RUN.toml; `overrides` (from flags) win over the file, per table and key."""
    raw = read_mapping(path)
    for table, values in (overrides or {}).items():
        section = raw.setdefault(table, {})
        if not isinstance(section, dict):
            raise ConfigError(f"{path}: {table} must be a table")
        section.update(values)
    cfg = build(RunConfig, raw, str(path))
    base = path.parent
    data = cfg.data.model_copy(update={"path": _rebase(cfg.data.path, base)})
    out_dir = _rebase(cfg.output.dir, base) or cfg.output.dir
    return cfg.model_copy(
        update={"data": data, "output": cfg.output.model_copy(update={"dir": out_dir})}
    )
