"""The values users type (counts like `16M`, `14.8T` or `16Mi` — core/units.parse_count —,
batches in sequences or tokens, latency targets in ms) turned into workloads; the CLI and the web
page share these, so a bad value gets the same one-line ConfigError naming the flag in both. Single
numbers (--seq, --ttft-ms, ...) arrive already bounded by core/bounds.py at each caller's edge."""

from __future__ import annotations

from scalelab.core.errors import ConfigError
from scalelab.core.io import build
from scalelab.core.specs import InferenceWorkload, TrainWorkload
from scalelab.core.units import parse_count, sequences_in_batch

TRAIN_PRECISIONS = ("fp8", "bf16")


def train_workload(
    global_batch: str | None,
    batch_tokens: str | None,
    seq: int,
    train_tokens: str | None,
    fp8: bool,
    where: str = "plan",
) -> TrainWorkload:
    """`scalelab plan`'s workload: exactly one of --global-batch / --batch-tokens."""
    if (global_batch is None) == (batch_tokens is None):
        raise ConfigError("give exactly one of --global-batch (sequences) or --batch-tokens")
    gbs = (
        parse_count(global_batch, "--global-batch")
        if global_batch
        else sequences_in_batch(batch_tokens or "", seq)
    )
    if gbs < 1 or abs(gbs - round(gbs)) > 1e-6:
        raise ConfigError(f"the global batch must be a whole number of sequences >= 1, got {gbs:g}")
    tokens = parse_count(train_tokens, "--train-tokens") if train_tokens else None
    fields = {
        "global_batch_size": int(round(gbs)),
        "seq_len": seq,
        "train_tokens": tokens,
        "dtype": "fp8" if fp8 else "bf16",
    }
    return build(TrainWorkload, fields, where)


def whatif_train_workload(
    global_batch: int, seq: int, train_tokens: str, precision: str, where: str = "whatif"
) -> TrainWorkload:
    """`scalelab whatif`'s training workload (precision fp8 where the device has it, or bf16)."""
    if precision not in TRAIN_PRECISIONS:
        raise ConfigError(f"--precision: expected fp8 or bf16, got '{precision}'")
    fields = {
        "global_batch_size": global_batch,
        "seq_len": seq,
        "train_tokens": parse_count(train_tokens, "--train-tokens"),
        "dtype": precision,
    }
    return build(TrainWorkload, fields, where)


def serve_workload(
    prompt: int,
    output: int,
    dtype: str,
    ttft_ms: float | None,
    tpot_ms: float | None,
    where: str = "plan-serve",
) -> InferenceWorkload:
    """A serving workload with latency targets given in ms (--ttft-ms, --tpot-ms)."""
    fields = {
        "prompt_tokens": prompt,
        "output_tokens": output,
        "dtype": dtype,
        "ttft_target_s": ttft_ms * 1e-3 if ttft_ms is not None else None,
        "tpot_target_s": tpot_ms * 1e-3 if tpot_ms is not None else None,
    }
    return build(InferenceWorkload, fields, where)


def split_specs(vs: str) -> list[str]:
    """`--vs a,b,c` as a list of SPECs; at least one."""
    specs = [s.strip() for s in vs.split(",") if s.strip()]
    if not specs:
        raise ConfigError("--vs: give at least one SPEC, e.g. --vs h200x2048,photonic")
    return specs
