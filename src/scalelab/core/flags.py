"""The values users type (counts like `16M` or `14.8T`, batches in sequences or tokens, latency
targets in ms) turned into workloads; the CLI and the web page share these, so a bad value gets
the same one-line ConfigError naming the flag in both."""

from __future__ import annotations

import re

from scalelab.core.errors import ConfigError
from scalelab.core.io import build
from scalelab.core.specs import InferenceWorkload, TrainWorkload

_SUFFIX = {"": 1.0, "k": 1e3, "m": 1e6, "g": 1e9, "b": 1e9, "t": 1e12}
_BINARY = {"": 1.0, "k": 2.0**10, "m": 2.0**20, "g": 2.0**30, "b": 2.0**30, "t": 2.0**40}
_NUMBER = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*([kmgbt]?)\s*$", re.IGNORECASE)
TRAIN_PRECISIONS = ("fp8", "bf16")


def parse_count(text: str, flag: str, binary: bool = False) -> float:
    """`16M` -> 1.6e7 (2^24 if `binary`), `14.8T` -> 1.48e13, `2048` -> 2048.0; else a ConfigError."""
    match = _NUMBER.match(text)
    if match is None:
        raise ConfigError(f"{flag}: expected a number like 2048, 16M or 14.8T, got '{text}'")
    return float(match.group(1)) * (_BINARY if binary else _SUFFIX)[match.group(2).lower()]


def batch_from_tokens(text: str, seq: int) -> float:
    """Sequences per step from --batch-tokens: decimal suffixes, or binary ones (Llama 3's "16M" is
    2048 x 8192 = 2^24) when only those give a whole number of sequences."""
    gbs = parse_count(text, "--batch-tokens") / seq
    if abs(gbs - round(gbs)) > 1e-6:
        gbs = parse_count(text, "--batch-tokens", binary=True) / seq
    return gbs


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
    if seq <= 0:
        raise ConfigError(f"--seq must be > 0, got {seq}")
    gbs = (
        parse_count(global_batch, "--global-batch")
        if global_batch
        else batch_from_tokens(batch_tokens or "", seq)
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
    for flag, value in (("--ttft-ms", ttft_ms), ("--tpot-ms", tpot_ms)):
        if value is not None and value <= 0:
            raise ConfigError(f"{flag} must be > 0, got {value}")
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
