"""Hardware what-if: the same model trained or served on several clusters (and emerging device
classes), each through the planner with its scale-out topology applied, compared with a baseline.
Training: best plan by time, step, MFU, run time, device-hours, cost, energy, CO2. Serving: the
cheapest collocated deployment from plan-serve, then TPOT, tokens/s, $ and J per output token."""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, replace
from typing import Any

from scalelab.core import catalog
from scalelab.core.errors import ConfigError, ScalelabError
from scalelab.core.site import Site
from scalelab.core.specs import (
    AcceleratorSpec,
    InferenceWorkload,
    ModelSpec,
    ParallelPlan,
    TrainWorkload,
)
from scalelab.hw.emerging import TokenEstimate, estimate_inference
from scalelab.perf.serve.predict import decode_context, predict_inference
from scalelab.plan.explain import describe_plan
from scalelab.plan.search import search_train
from scalelab.plan.serve import plan_serve
from scalelab.plan.space import SpaceOptions
from scalelab.plan.whatif_specs import Target, describe_cluster, resize, resolve_targets

DSV3_TRAIN_TOKENS = 14.8e12  # DeepSeek-V3 TR Sec 4.2: pre-trained on 14.8T tokens
# DeepSeek-V3 TR Sec 4.2: batch grows to 15,360 sequences of 4,096 tokens; FP8 training (Sec 3.3).
DEFAULT_TRAIN = TrainWorkload(
    global_batch_size=15360, seq_len=4096, train_tokens=DSV3_TRAIN_TOKENS, dtype="fp8"
)
# The serving section's workload (report/sections/serving.py): fp8 weights, TTFT 2 s, TPOT 50 ms.
DEFAULT_SERVE = InferenceWorkload(
    prompt_tokens=2048, output_tokens=512, dtype="fp8", ttft_target_s=2.0, tpot_target_s=0.05
)
PHASES = ("train", "infer")
EMERGING_BATCHES = (1, 4, 16, 64, 256)  # sequences per step tried on a device-class model
EMERGING_PUE = 1.2  # as ClusterSpec's default, so device classes and clusters share a facility


@dataclass(frozen=True)
class TrainRow:
    """One cluster's best training plan and whole-run totals (SI); None where not applicable."""

    label: str
    assumptions: tuple[str, ...]
    note: str = ""
    num_devices: int | None = None
    plan: ParallelPlan | None = None
    plan_text: str = "-"
    step_time_s: float | None = None
    mfu: float | None = None
    run_time_s: float | None = None
    device_hours: float | None = None
    cost_usd: float | None = None
    energy_kwh: float | None = None
    co2_kg: float | None = None
    joules_per_token: float | None = None
    time_ratio: float | None = None  # vs the baseline row
    cost_ratio: float | None = None
    energy_ratio: float | None = None


@dataclass(frozen=True)
class InferRow:
    """One cluster's (or device class's) serving deployment and its decode metrics (SI)."""

    label: str
    assumptions: tuple[str, ...]
    note: str = ""
    num_devices: int | None = None
    deployment: str = "-"
    sequences_per_replica: float | None = None
    tpot_s: float | None = None
    tokens_per_s_per_request: float | None = None
    output_tokens_per_s_per_device: float | None = None
    output_tokens_per_s_per_node: float | None = None
    devices_per_node: int | None = None  # the node size behind the per-node figure
    usd_per_million_output_tokens: float | None = None
    joules_per_token: float | None = None
    fastest_tpot_s: float | None = (
        None  # the lowest TPOT any deployment reaches within the TTFT target
    )
    tpot_ratio: float | None = None
    usd_ratio: float | None = None
    joules_ratio: float | None = None


@dataclass(frozen=True)
class WhatIf:
    """A what-if comparison: rows in the order asked, the baseline first."""

    model: str
    phase: str
    rows: tuple[TrainRow, ...] | tuple[InferRow, ...]
    setting: str
    elapsed_s: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready results (`whatif --json`, docs/json.md): plans as their fields."""
        rows = []
        for r in self.rows:
            data = asdict(r)
            plan = getattr(r, "plan", None)
            if plan is not None:
                data["plan"] = plan.model_dump()
            data["assumptions"] = list(r.assumptions)
            rows.append(data)
        return {"model": self.model, "phase": self.phase, "setting": self.setting, "rows": rows}


def _ratio(value: float | None, base: float | None) -> float | None:
    if value is None or base is None or base <= 0 or not math.isfinite(value):
        return None
    return value / base


def _train_row(
    model: ModelSpec, t: Target, w: TrainWorkload, opts: SpaceOptions | None
) -> TrainRow:
    if t.cluster is None:
        acc = catalog.load_accelerator(t.emerging_accelerator or "")
        note = f"not applicable: {acc.name} is modeled for inference only (hw/emerging.py)"
        return TrainRow(t.label, t.notes, note)
    cluster = t.applied()
    found = search_train(model, cluster, w, "time", top=1, opts=opts)
    notes = (*t.notes, *describe_cluster(t.cluster))
    if not found.plans:
        msg = found.no_fit_message or "no plan fits"
        return TrainRow(t.label, notes, msg, cluster.num_devices)
    p = found.plans[0].prediction
    return TrainRow(
        t.label,
        notes,
        num_devices=cluster.num_devices,
        plan=p.plan,
        plan_text=describe_plan(p.plan),
        step_time_s=p.step_time_s,
        mfu=p.mfu,
        run_time_s=p.run_time_s,
        device_hours=p.device_hours,
        cost_usd=p.cost_usd,
        energy_kwh=p.energy_kwh,
        co2_kg=p.co2_kg,
        joules_per_token=p.joules_per_token,
    )


def whatif_train(
    model: ModelSpec,
    targets: list[Target],
    workload: TrainWorkload = DEFAULT_TRAIN,
    opts: SpaceOptions | None = None,
) -> WhatIf:
    """Best plan by time on every target; ratios against targets[0]. `opts` narrows the planner's
    space (None: the full space)."""
    t0 = time.perf_counter()
    rows = [_train_row(model, t, workload, opts) for t in targets]
    base = rows[0]
    rows = [
        replace(
            r,
            time_ratio=_ratio(r.run_time_s, base.run_time_s),
            cost_ratio=_ratio(r.cost_usd, base.cost_usd),
            energy_ratio=_ratio(r.energy_kwh, base.energy_kwh),
        )
        for r in rows
    ]
    tokens = workload.train_tokens or 0.0
    setting = (
        f"{model.name}: global batch {workload.global_batch_size:,} x {workload.seq_len:,} tokens, "
        f"{workload.dtype} where the device has it, {tokens / 1e12:,.3g}T tokens; best plan by time "
        f"from the planner ({'full' if opts is None else 'reduced'} space); energy from the "
        "calibrated power model (perf/energy.py) with node overhead and PUE"
    )
    return WhatIf(model.name, "train", tuple(rows), setting, time.perf_counter() - t0)


def _cluster_serve_row(
    model: ModelSpec, t: Target, w: InferenceWorkload, num_devices: int | None
) -> InferRow:
    cluster = t.applied(num_devices)
    assert t.cluster is not None
    notes = (*t.notes, *describe_cluster(resize(t.cluster, num_devices)))
    note = ""
    try:
        try:
            found = plan_serve(model, cluster, w, top=1, disaggregation=False)
        except ScalelabError as exc:
            free = w.model_copy(update={"ttft_target_s": None, "tpot_target_s": None})
            found = plan_serve(model, cluster, free, top=1, disaggregation=False)
            note = f"targets not met ({exc}); cheapest deployment without targets shown"
        best = found.best
        seqs = max(1, round(best.sequences_per_replica))
        r = predict_inference(
            model, cluster, best.decode_plan, w.model_copy(update={"batch_size": seqs})
        )
    except ScalelabError as exc:
        return InferRow(t.label, notes, str(exc), cluster.num_devices)
    return InferRow(
        t.label,
        notes,
        note,
        num_devices=cluster.num_devices,
        deployment=best.label,
        sequences_per_replica=float(seqs),
        tpot_s=r.tpot_s,
        tokens_per_s_per_request=r.tokens_per_s_per_request,
        output_tokens_per_s_per_device=r.output_tokens_per_s_per_device,
        output_tokens_per_s_per_node=r.output_tokens_per_s_per_node,
        devices_per_node=cluster.devices_per_node,
        usd_per_million_output_tokens=r.usd_per_million_output_tokens,
        joules_per_token=r.joules_per_token,
        fastest_tpot_s=found.pareto[0].tpot_s if found.pareto else None,
    )


def emerging_decode(
    model: ModelSpec, acc: AcceleratorSpec, w: InferenceWorkload
) -> tuple[TokenEstimate, list[TokenEstimate], bool]:
    """Decode on a device-class model at each of EMERGING_BATCHES: the batch with the most
    tokens/s within the TPOT target (else the fastest), every estimate, and whether any met it."""
    ctx = int(decode_context(w))
    ests = [estimate_inference(model, acc, "decode", b, ctx) for b in EMERGING_BATCHES]
    ok = [e for e in ests if w.tpot_target_s is None or e.step_time_s <= w.tpot_target_s]
    best = max(ok, key=lambda e: e.tokens_per_s) if ok else min(ests, key=lambda e: e.step_time_s)
    return best, ests, bool(ok)


def emerging_fields(
    acc: AcceleratorSpec, best: TokenEstimate, ests: list[TokenEstimate], met: bool
) -> dict[str, Any]:
    """InferRow's numbers for an emerging_decode result; J/token = chip energy x PUE (host
    servers not counted)."""
    rate = best.tokens_per_s
    return {
        "note": ""
        if met
        else f"TPOT target not met at any batch in {EMERGING_BATCHES}: fastest shown",
        "num_devices": best.num_chips,
        "deployment": f"{best.num_chips:,} chips, batch {best.tokens_per_step}",
        "sequences_per_replica": float(best.tokens_per_step),
        "tpot_s": best.step_time_s,
        "tokens_per_s_per_request": 1.0 / best.step_time_s,
        "output_tokens_per_s_per_device": rate / best.num_chips,
        "output_tokens_per_s_per_node": rate * acc.default_devices_per_node / best.num_chips,
        "devices_per_node": acc.default_devices_per_node,
        "usd_per_million_output_tokens": acc.price_usd_per_hour
        * best.num_chips
        * 1e6
        / (3600 * rate),
        "joules_per_token": best.joules_per_token * EMERGING_PUE,
        "fastest_tpot_s": min(e.step_time_s for e in ests),
    }


def _emerging_row(
    model: ModelSpec, t: Target, w: InferenceWorkload, site: Site | None = None
) -> InferRow:
    """Decode on a device-class model (emerging_decode), with its assumptions listed."""
    acc = (site or Site()).accelerator(catalog.load_accelerator(t.emerging_accelerator or ""))
    best, ests, met = emerging_decode(model, acc, w)
    price = (site or Site()).price_for(acc)
    notes = (
        *t.notes,
        *([f"price set by --price-usd-per-hour: ${price:g}/chip-hour"] if price else []),
        f"decode at {int(decode_context(w)):,} tokens of context, {best.tokens_per_step} sequences per step; "
        f"J/token = chip energy x PUE {EMERGING_PUE:g} (host servers not counted)",
        *best.flags,
    )
    return InferRow(t.label, notes, **emerging_fields(acc, best, ests, met))


def whatif_infer(
    model: ModelSpec,
    targets: list[Target],
    workload: InferenceWorkload = DEFAULT_SERVE,
    num_devices: int | None = None,
    site: Site | None = None,
) -> WhatIf:
    """Serving on every target; clusters are resized to `num_devices` (whole nodes) if given;
    `site` overrides device-hour prices (device classes too)."""
    t0 = time.perf_counter()
    rows = [
        _emerging_row(model, t, workload, site)
        if t.cluster is None
        else _cluster_serve_row(model, t, workload, num_devices)
        for t in targets
    ]
    base = rows[0]
    rows = [
        replace(
            r,
            tpot_ratio=_ratio(r.tpot_s, base.tpot_s),
            usd_ratio=_ratio(r.usd_per_million_output_tokens, base.usd_per_million_output_tokens),
            joules_ratio=_ratio(r.joules_per_token, base.joules_per_token),
        )
        for r in rows
    ]
    ms = 1e3
    targets_text = ", ".join(
        x
        for x in (
            f"TTFT <= {workload.ttft_target_s * ms:g} ms" if workload.ttft_target_s else "",
            f"TPOT <= {workload.tpot_target_s * ms:g} ms" if workload.tpot_target_s else "",
        )
        if x
    )
    setting = (
        f"{model.name}: prompt {workload.prompt_tokens:,}, output {workload.output_tokens:,} "
        f"tokens, {workload.dtype} weights, {targets_text or 'no latency targets'}; cheapest "
        "collocated deployment from plan-serve, metrics from predict_inference at its batch"
    )
    return WhatIf(model.name, "infer", tuple(rows), setting, time.perf_counter() - t0)


def whatif(
    model: ModelSpec,
    baseline: str,
    vs: list[str],
    phase: str = "train",
    train: TrainWorkload = DEFAULT_TRAIN,
    serve: InferenceWorkload = DEFAULT_SERVE,
    opts: SpaceOptions | None = None,
    serve_devices: int | None = None,
    site: Site | None = None,
) -> WhatIf:
    """Resolve the SPECs (ConfigError naming a bad one) and run the phase's comparison; `site`
    overrides prices and the carbon intensity on every cluster."""
    if phase not in PHASES:
        raise ConfigError(f"--phase: expected one of {', '.join(PHASES)}, got '{phase}'")
    targets = resolve_targets(baseline, vs)
    if site is not None:
        targets = [
            t if t.cluster is None else replace(t, cluster=site.cluster(t.cluster)) for t in targets
        ]
    if phase == "train":
        return whatif_train(model, targets, train, opts)
    return whatif_infer(model, targets, serve, serve_devices, site)
