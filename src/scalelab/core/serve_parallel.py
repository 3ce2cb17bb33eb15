"""The serving engines' parallel vocabulary: a scenario's `parallel` table written as vLLM or
SGLang users write it, turned into a ParallelPlan (serving reading, docs/inference.md).

Short keys follow vLLM: `tp`, `dp` (attention data-parallel ranks; with expert parallelism the
dp x tp devices of a replica form one EP group, `--data-parallel-size` with
`--enable-expert-parallel`), `ep`, `pp`, and `replicas` (independent copies). vLLM's long flag
names are accepted as aliases with the same meaning. SGLang's names keep SGLang's meaning:
`tp_size` is every GPU of one engine and `--enable-dp-attention` splits them into `dp_size`
attention ranks of tp_size / dp_size GPUs each (SGLang server arguments). Every inconsistency is
a one-line ConfigError that says how to write it.
"""

from __future__ import annotations

from typing import Any

from scalelab.core.errors import ConfigError
from scalelab.core.io import build
from scalelab.core.specs import ParallelPlan

# vLLM engine arguments (vllm serve --help) -> ParallelPlan fields, same meaning.
VLLM_ALIASES = {
    "tensor_parallel_size": "tp",
    "pipeline_parallel_size": "pp",
    "data_parallel_size": "dp",
    "enable_dbo": "dual_microbatch_overlap",  # vLLM dual-batch overlap
}
# SGLang server arguments; tp_size/dp_size/ep_size are translated by _from_sglang.
SGLANG_KEYS = ("tp_size", "dp_size", "ep_size", "pp_size", "enable_dp_attention")
SGLANG_FLAGS = {"enable_two_batch_overlap": "dual_microbatch_overlap"}
EP_FLAG = "enable_expert_parallel"  # vLLM: the experts of dp x tp devices form one EP group
DENSE_TP_KEY = "moe_dense_tp_size"  # SGLang: 1 = dense FFN layers data-parallel (no EP traffic)
DENSE_FFN_LOCAL = "dense-ffn-local"  # perf/serve/layout.OPT_DENSE_FFN_LOCAL
# Every spelling a user may write, for the docs table and error messages.
SERVING_KEYS = (
    "tp",
    "dp",
    "ep",
    "pp",
    "replicas",
    *VLLM_ALIASES,
    EP_FLAG,
    *SGLANG_KEYS,
    *SGLANG_FLAGS,
    DENSE_TP_KEY,
)


def _int(table: dict[str, Any], key: str, where: str) -> int:
    value = table[key]
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"{where}: {key} must be a positive integer, got {value!r}")
    return value


def _flag(table: dict[str, Any], key: str, where: str) -> bool:
    value = table[key]
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: {key} must be true or false, got {value!r}")
    return value


def _rename(fields: dict[str, Any], aliases: dict[str, str], where: str) -> None:
    for alias, name in aliases.items():
        if alias not in fields:
            continue
        if name in fields:
            raise ConfigError(f"{where}: both {name} and {alias} given; write one of them")
        fields[name] = fields.pop(alias)


def _from_sglang(fields: dict[str, Any], where: str) -> None:
    """SGLang: the engine has tp_size GPUs; with DP attention they form dp_size attention ranks
    of tp_size / dp_size GPUs and the MoE runs EP over the engine (ep_size = tp_size); without
    it, dp_size is the number of independent engines (SGLang's router data parallelism)."""
    for short in ("tp", "dp", "ep", "pp"):
        if short in fields:
            raise ConfigError(
                f"{where}: {short} (vLLM vocabulary) mixed with SGLang's *_size keys; write "
                f"either tp/dp/ep or tp_size/dp_size/ep_size"
            )
    engine = _int(fields, "tp_size", where) if "tp_size" in fields else 1
    dp = _int(fields, "dp_size", where) if "dp_size" in fields else 1
    ep = _int(fields, "ep_size", where) if "ep_size" in fields else 1
    dp_attention = (
        _flag(fields, "enable_dp_attention", where) if "enable_dp_attention" in fields else False
    )
    if "pp_size" in fields:
        fields["pp"] = _int(fields, "pp_size", where)
    for key in SGLANG_KEYS:
        fields.pop(key, None)
    if ep not in (1, engine):
        raise ConfigError(
            f"{where}: SGLang's EP group is the engine's tp_size = {engine} GPUs; ep_size "
            f"{ep} must be 1 or {engine}"
        )
    if dp_attention:
        if engine % dp:
            raise ConfigError(
                f"{where}: with enable_dp_attention, dp_size {dp} must divide tp_size {engine} "
                f"(attention TP = tp_size / dp_size)"
            )
        fields.update(tp=engine // dp, dp=dp)
        if ep > 1:
            fields["ep"] = ep
        return
    fields["tp"] = engine
    if ep > 1:
        fields["ep"] = ep
    if dp > 1:
        if "replicas" in fields:
            raise ConfigError(
                f"{where}: dp_size without enable_dp_attention already counts independent "
                f"engines; drop replicas or set enable_dp_attention = true"
            )
        fields["replicas"] = dp


def _expert_parallel_flag(fields: dict[str, Any], where: str) -> None:
    """vLLM's --enable-expert-parallel: ep = dp x tp (the whole replica is one EP group)."""
    enabled = _flag(fields, EP_FLAG, where)
    del fields[EP_FLAG]
    tp, dp = fields.get("tp", 1), fields.get("dp", 1)
    if not enabled:
        if fields.get("ep", 1) > 1:
            raise ConfigError(
                f"{where}: ep {fields['ep']} with {EP_FLAG} = false; drop ep or set {EP_FLAG} = true"
            )
        return
    if "ep" in fields and fields["ep"] != dp * tp:
        raise ConfigError(
            f"{where}: {EP_FLAG} makes ep = dp x tp = {dp * tp}, but ep = {fields['ep']} is "
            f"given; drop ep or write dp = {fields['ep'] // max(tp, 1)}"
        )
    fields["ep"] = dp * tp


def resolve_serving_plan(table: dict[str, Any] | None, where: str = "parallel") -> ParallelPlan:
    """A serving scenario's `parallel` table (short keys, vLLM or SGLang spellings) as a
    ParallelPlan; ConfigError (one line, saying how to write it) on any inconsistency that does
    not need the model or the cluster (those are checked by perf/serve/layout.py)."""
    fields = dict(table or {})
    if any(k in fields for k in SGLANG_KEYS):
        if any(k in fields for k in VLLM_ALIASES) or EP_FLAG in fields:
            raise ConfigError(
                f"{where}: vLLM and SGLang argument names mixed; write one engine's names"
            )
        _from_sglang(fields, where)
    _rename(fields, VLLM_ALIASES, where)
    _rename(fields, SGLANG_FLAGS, where)
    if EP_FLAG in fields:
        _expert_parallel_flag(fields, where)
    if DENSE_TP_KEY in fields:
        dense_tp = _int(fields, DENSE_TP_KEY, where)
        del fields[DENSE_TP_KEY]
        if dense_tp != 1:
            raise ConfigError(
                f"{where}: {DENSE_TP_KEY} {dense_tp} is not modeled; 1 (data-parallel dense "
                f"layers) is, or leave it out for dense layers sliced over the EP group"
            )
        opts = list(fields.get("optimizations", []))
        fields["optimizations"] = [*opts, DENSE_FFN_LOCAL] if DENSE_FFN_LOCAL not in opts else opts
    plan = build(ParallelPlan, fields, where)
    _check_degrees(plan, where)
    return plan


def _check_degrees(p: ParallelPlan, where: str) -> None:
    """dp x tp = ep when both dp and ep are given (vLLM: the EP group is the dp x tp devices)."""
    if p.ep > 1 and p.dp is not None and p.dp * p.tp != p.ep:
        raise ConfigError(
            f"{where}: ep {p.ep} must equal dp x tp = {p.dp} x {p.tp} = {p.dp * p.tp} (one "
            f"replica's dp x tp devices form the EP group, as vLLM's --enable-expert-parallel); "
            f"write ep = {p.dp * p.tp}, or dp = {p.ep // p.tp} if ep is right"
        )
    if p.ep > 1 and p.ep % p.tp:
        raise ConfigError(
            f"{where}: ep {p.ep} is not a multiple of tp {p.tp} (attention TP groups tile the "
            f"EP group); write ep = dp x tp"
        )
