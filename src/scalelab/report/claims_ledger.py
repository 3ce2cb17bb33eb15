"""The claims ledger: the seed article's twelve quantitative claims (shared/seed), each with
scalelab's evidence (one function per claim) and a verdict from the one rule in claims_rule.py.
`scalelab claims` prints it; the report's claims section is the same table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scalelab.report import claims_evidence as ev
from scalelab.report import claims_evidence_hw as hw
from scalelab.report.claims_evidence import Evidence, Source
from scalelab.report.claims_rule import ORDER, RULE_TEXT, Verdict, judge
from scalelab.report.section import Table

SEED = "shared/seed: 'DeepSeek-V3: scalability dilemmas and new thinking on AI hardware' (2025)"


@dataclass(frozen=True)
class Claim:
    id: str
    stated: str  # the seed's sentence in English
    original: str  # as written in the seed
    evidence: Callable[[Source], Evidence]


CLAIMS = (
    Claim("a", "Training a 100-billion-parameter model means processing TB-scale text.",
          "训练一个千亿参数模型需处理TB级文本数据", ev.data_requirement),
    Claim("b", "By layer 50 the gradient norm may fall to 1/100 of its initial value.",
          "在训练至第50层时，梯度范数可能下降至初始值的1/100", ev.gradient_at_depth),
    Claim("c", "With thousands of GPUs, inter-node communication can cut efficiency by 30% or more.",
          "节点间通信延迟可能导致整体效率下降30%以上", ev.communication_share),
    Claim("d", "One GPU draws up to 300 W; a 1,000-GPU cluster uses over a million kWh a year.",
          "单块GPU功耗可达300W，千卡集群年耗电量超百万度", hw.gpu_power),
    Claim("e", "TPU v4 peaks at 275 TFLOPS, three times a GPU.",
          "TPU v4的峰值算力达275 TFLOPS，是GPU的3倍", hw.tpu_v4),
    Claim("f", "Analog compute-in-memory (Mythic) cuts power 10x and latency 5x.",
          "模拟存算一体芯片……功耗降低10倍，延迟降低5倍", hw.compute_in_memory),
    Claim("g", "Optical interconnects reach 10 Tbps, 100x copper cable.",
          "光互连的带宽可达10 Tbps，是铜缆的100倍", hw.optical_link),
    Claim("h", "A photonic AI accelerator (Lightmatter) is 3x more energy-efficient on NLP.",
          "光子AI加速器，在自然语言处理任务中能效比提升3倍", hw.photonic_compute),
    Claim("i", "FPGAs serve real-time inference under 1 ms and raise throughput 5x (Azure).",
          "FPGA……延迟低于1ms；FPGA加速……推理吞吐量提升5倍", hw.fpga),
    Claim("j", "Distillation plus INT8 shrink a model by 90% and make inference 3x faster.",
          "知识蒸馏与8位整数量化，将模型体积缩小90%，推理速度提升3倍", ev.distill_int8),
    Claim("k", "Photonic switches give (near-)zero-latency communication between GPU clusters.",
          "光子交换机可实现GPU集群间零延迟通信", hw.photonic_switching),
    Claim("l", "Combining data and model parallelism lowers the load on each GPU.",
          "通过数据并行与模型并行结合，降低单卡负载", ev.parallel_load),
)  # fmt: skip


@dataclass(frozen=True)
class LedgerRow:
    claim: Claim
    evidence: Evidence
    verdict: Verdict

    def to_dict(self) -> dict[str, Any]:
        e, v = self.evidence, self.verdict
        return {
            "id": self.claim.id,
            "claim": self.claim.stated,
            "original": self.claim.original,
            "measured": e.measured,
            "basis": e.basis,
            "parts": [vars(p) for p in e.parts],
            "command": e.command,
            "verdict": v.label,
            "verdict_text": v.text,
            "distance": v.distance,
            "missing_capability": e.missing or None,
        }


def build_ledger(src: Source | None = None) -> list[LedgerRow]:
    """Every claim with its evidence and verdict, in the seed's order."""
    src = src or Source()
    rows = []
    for claim in CLAIMS:
        evidence = claim.evidence(src)
        rows.append(LedgerRow(claim, evidence, judge(evidence.parts, evidence.missing)))
    return rows


def verdict_counts(rows: list[LedgerRow]) -> dict[str, int]:
    labels = (*reversed(ORDER), "untested")
    return {label: sum(r.verdict.label == label for r in rows) for label in labels}


def ledger_table(rows: list[LedgerRow]) -> Table:
    """The ledger as one table: claim, scalelab's number, verdict, reproducing command."""
    cells = [
        [
            f"({r.claim.id})",
            r.claim.stated,
            r.evidence.measured + (f" [{r.evidence.basis}]" if r.evidence.basis else ""),
            r.verdict.text,
            r.evidence.command,
        ]
        for r in rows
    ]
    return Table(
        "Seed-article claims: evidence and verdict",
        ["", "claim (as stated)", "scalelab's number", "verdict", "reproduce with"],
        cells,
        note=RULE_TEXT,
        align=["left"] * 5,
        terminal_layout="records",
    )
