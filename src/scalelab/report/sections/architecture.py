"""Report section: architecture, parameter and FLOP accounting vs dense peers, KV cache, weight memory."""

from __future__ import annotations

from scalelab.core import catalog
from scalelab.core.specs import ModelSpec
from scalelab.perf.model.flops import mtp_train_flops_per_token, train_flops_per_token
from scalelab.perf.model.footprint import (
    kv_cache_bytes_per_token,
    kv_cache_bytes_per_token_as_mha,
    weight_bytes,
)
from scalelab.perf.model.params import count_params
from scalelab.report.context import ReportContext
from scalelab.report.fmt import billions, billions_short, gib
from scalelab.report.plots import bar_chart
from scalelab.report.section import Figure, KeyNumber, Section, Table

PEERS = ("llama-3.1-405b", "qwen2.5-72b", "llama-3.1-70b")
SEQ_LEN = 4096


def _arch_table(m: ModelSpec) -> Table:
    rows = [
        ["layers", str(m.num_layers)],
        ["hidden size", str(m.hidden_size)],
        ["attention heads", str(m.num_attention_heads)],
        ["vocabulary", f"{m.vocab_size:,}"],
    ]
    if m.uses_mla:
        rows += [
            ["attention", "MLA (multi-head latent)"],
            ["KV latent rank", str(m.kv_lora_rank)],
            ["Q latent rank", str(m.q_lora_rank)],
            ["qk head dim (nope+rope)", f"{m.qk_nope_head_dim}+{m.qk_rope_head_dim}"],
        ]
    else:
        rows += [
            ["attention", "GQA" if m.kv_heads < m.num_attention_heads else "MHA"],
            ["KV heads", str(m.kv_heads)],
        ]
    if m.is_moe:
        rows += [
            ["experts (routed + shared)", f"{m.num_routed_experts} + {m.num_shared_experts}"],
            ["experts per token", str(m.num_experts_per_token)],
            ["expert FFN", str(m.moe_ffn_hidden_size)],
            ["dense layers first", str(m.num_dense_layers)],
        ]
    if m.mtp_depth:
        rows.append(["MTP depth", str(m.mtp_depth)])
    return Table(f"Architecture of {m.name}", ["property", "value"], rows, note=m.source or "")


def _accounting_table(models: list[ModelSpec]) -> Table:
    rows = []
    for m in models:
        c = count_params(m)
        flops = train_flops_per_token(m, SEQ_LEN)
        rows.append(
            [
                m.name,
                billions(c.total),
                billions(c.active_per_token),
                f"{100 * c.active_per_token / c.total:.1f}%",
                f"{flops / 1e9:,.0f}",
                billions(c.mtp) if c.mtp else "-",
            ]
        )
    return Table(
        f"Parameters and training FLOPs per token (seq {SEQ_LEN}, causal, no recompute)",
        [
            "model",
            "total params",
            "active / token",
            "active share",
            "train GFLOP / token",
            "MTP params (extra)",
        ],
        rows,
        note="6 x active matmul weights + causal attention (Zhao et al. ISCA'25 Table 2 convention)",
    )


def _kv_table(models: list[ModelSpec]) -> Table:
    rows = []
    for m in models:
        kind = "MLA" if m.uses_mla else ("GQA" if m.kv_heads < m.num_attention_heads else "MHA")
        kv = kv_cache_bytes_per_token(m)
        mha = kv_cache_bytes_per_token_as_mha(m)
        rows.append(
            [
                m.name,
                kind,
                f"{kv / 1e3:,.1f}",
                f"{mha / 1e3:,.1f}",
                f"{mha / kv:,.1f}x",
                f"{kv * 128_000 / 2**30:,.1f}",
            ]
        )
    return Table(
        "KV cache per token (bf16, all layers)",
        [
            "model",
            "attention",
            "KB / token",
            "KB / token as MHA",
            "saving vs MHA",
            "GiB per 128K-token context",
        ],
        rows,
        note="KB = 1000 B; MLA caches the compressed latent + decoupled RoPE key",
    )


def _weights_table(models: list[ModelSpec]) -> Table:
    rows = []
    for m in models:
        cells = [m.name]
        for dtype in ("bf16", "fp8", "int8", "int4"):
            b = weight_bytes(m, dtype)
            cells.append(f"{gib(b)} ({int(-(-b // (80 * 2**30)))})")
        rows.append(cells)
    return Table(
        "Weight memory per dtype (in parentheses: 80 GiB devices needed for weights alone)",
        ["model", "bf16", "fp8", "int8", "int4"],
        rows,
    )


def build(ctx: ReportContext) -> Section:
    """The report's first page."""
    m = ctx.model
    peers = [catalog.load_model(p) for p in PEERS if p != ctx.model_id]
    models = [m, *peers]
    c = count_params(m)
    flops = train_flops_per_token(m, SEQ_LEN)
    summary = (
        f"{m.name} has {c.total / 1e9:,.1f}B parameters of which {c.active_per_token / 1e9:,.1f}B "
        f"are active per token; one trained token costs {flops / 1e9:,.0f} GFLOP at {SEQ_LEN} context"
        + (
            f" (+{mtp_train_flops_per_token(m, SEQ_LEN) / 1e9:,.0f} GFLOP for MTP)."
            if m.mtp_depth
            else "."
        )
        + f" Its KV cache is {kv_cache_bytes_per_token(m) / 1e3:,.1f} KB per token."
    )
    names = [x.name for x in models]
    fig_flops = bar_chart(
        names,
        [train_flops_per_token(x, SEQ_LEN) / 1e9 for x in models],
        "GFLOP per trained token",
        "Training compute per token",
    )
    fig_kv = bar_chart(
        names,
        [kv_cache_bytes_per_token(x) / 1e3 for x in models],
        "KB per token",
        "KV cache per token (bf16)",
    )
    return Section(
        title="Model: architecture, parameters, FLOPs and memory",
        summary=summary,
        tables=[
            _arch_table(m),
            _accounting_table(models),
            _kv_table(models),
            _weights_table(models),
        ],
        figures=[
            Figure("Training GFLOP per token, MoE vs dense peers", fig_flops),
            Figure("KV cache KB per token: MLA vs GQA", fig_kv),
        ],
        data={
            "total_params": c.total,
            "active_params_per_token": c.active_per_token,
            "train_flops_per_token": flops,
            "kv_cache_bytes_per_token": kv_cache_bytes_per_token(m),
        },
        key_numbers=[
            KeyNumber(
                "Parameters, total / active",
                f"{billions_short(c.total)} / {billions_short(c.active_per_token)}",
                f"{flops / 1e9:,.0f} GFLOP per trained token; KV cache "
                f"{kv_cache_bytes_per_token(m) / 1e3:,.1f} KB per token",
            )
        ],
    )
