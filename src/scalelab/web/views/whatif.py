"""What-if view: `scalelab whatif` behind the page. The same targets (plan/whatif_specs), the same
comparison (plan/whatif.whatif_train / whatif_infer) and the same tables' numbers, with each row's
assumptions listed and the editable ones (web/edits.py) changeable from the page."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from scalelab.core import flags
from scalelab.core.site import Site
from scalelab.core.specs import (
    MAX_BATCH,
    MAX_SEQ_TOKENS,
    InferenceWorkload,
    ModelSpec,
    TrainWorkload,
)
from scalelab.plan.hardware import SWEEP_SPACE
from scalelab.plan.whatif import (
    DEFAULT_SERVE,
    DEFAULT_TRAIN,
    PHASES,
    InferRow,
    TrainRow,
    WhatIf,
    emerging_decode,
    emerging_fields,
    whatif_infer,
    whatif_train,
)
from scalelab.plan.whatif_specs import PRESETS, Target, resolve_target, resolve_targets
from scalelab.web import edits as editing
from scalelab.web.inputs import (
    CLUSTER,
    MAX_DEVICES,
    MAX_TOKENS,
    SITE_FLAGS,
    FieldError,
    Params,
    on_field,
    on_flags,
    read_model,
    read_site,
)
from scalelab.web.jobs import Progress
from scalelab.web.views.common import Csv, model_json

COMMAND = "web whatif"
MAX_TARGETS = 10
DEFAULT_VS = "h100x2048,h200x2048,gb200x2048,photonic,cim"
FLAGS: tuple[str, ...] = ("global-batch", "seq", "train-tokens", "precision", "prompt", "output")
FLAGS += ("ttft-ms", "tpot-ms")
# `scalelab whatif deepseek-v3` against the report's targets; reduced plan space; serving on 320.
DEFAULTS = {
    "model": "deepseek-v3",
    "phase": "train",
    "baseline": "h800x2048",
    "vs": DEFAULT_VS,
    "global-batch": str(DEFAULT_TRAIN.global_batch_size),
    "seq": str(DEFAULT_TRAIN.seq_len),
    "train-tokens": "14.8T",
    "precision": "fp8",
    "quick": "1",
    "prompt": str(DEFAULT_SERVE.prompt_tokens),
    "output": str(DEFAULT_SERVE.output_tokens),
    "ttft-ms": "2000",
    "tpot-ms": "50",
    "serve-devices": "320",
}


@dataclass(frozen=True)
class WhatIfRequest:
    model: ModelSpec
    model_id: str | None
    phase: str
    targets: tuple[Target, ...]
    emerging_edits: tuple[tuple[str, tuple[tuple[str, float], ...]], ...]
    edited: tuple[tuple[str, str, float], ...]
    train: TrainWorkload
    serve: InferenceWorkload
    quick: bool
    serve_devices: int | None
    cli: str
    site: Site = field(default_factory=Site)


def _spec(text: str, field: str) -> str:
    """A SPEC the web page accepts: ACCELERATORxCOUNT or a preset, never a cluster file."""
    if text.lower() in PRESETS or CLUSTER.match(text.lower()):
        return text
    raise FieldError(
        field,
        f"spec '{text}': expected ACCELERATORxCOUNT (e.g. h800x2048) or a preset "
        f"({', '.join(PRESETS)}); the web page reads no cluster files",
    )


def _targets(p: Params, site: Site) -> list[Target]:
    baseline = _spec(p.text("baseline") or "", "baseline")
    with on_field("vs"):
        specs = [_spec(s, "vs") for s in flags.split_specs(p.text("vs") or "")]
    if len(specs) > MAX_TARGETS:
        raise FieldError("vs", f"--vs: at most {MAX_TARGETS} SPECs in the web page")
    with on_field("baseline"):
        base = resolve_targets(baseline, [])[0]
    with on_field("vs"):
        targets = [base, *(resolve_target(s, base) for s in specs)]
    # as plan/whatif.whatif applies --price-usd-per-hour / --co2-kg-per-kwh to every cluster
    return [
        t if t.cluster is None else replace(t, cluster=site.cluster(t.cluster)) for t in targets
    ]


def parse(p: Params) -> WhatIfRequest:
    """The page's fields through the CLI's parsers (`p` falls back to DEFAULTS)."""
    model, model_id = read_model(p)
    phase = p.choice("phase", PHASES)
    site = read_site(p)
    targets = _targets(p, site)
    global_batch = p.integer("global-batch", lo=1, hi=MAX_BATCH)
    seq = p.integer("seq", lo=1, hi=MAX_SEQ_TOKENS)
    train_tokens = p.text("train-tokens") or ""
    precision = p.text("precision") or ""
    prompt = p.integer("prompt", MAX_TOKENS, lo=1)
    output = p.integer("output", MAX_TOKENS, lo=1)
    ttft_ms, tpot_ms = p.number("ttft-ms", gt=0), p.number("tpot-ms", gt=0)
    with on_flags(FLAGS, "precision"):
        train = flags.whatif_train_workload(global_batch, seq, train_tokens, precision)
        serve = flags.serve_workload(prompt, output, precision, ttft_ms, tpot_ms, "whatif")
    quick = p.flag("quick")
    serve_devices = p.integer("serve-devices", MAX_DEVICES, optional=True, lo=1)
    edit_list = editing.parse_edits(p.texts("set"))
    applied, emerging = editing.apply(targets, edit_list)
    cli = (
        f"scalelab whatif {model_id or 'config.json'} --baseline {targets[0].label} "
        f"--vs {','.join(t.label for t in targets[1:])} --phase {phase}"
        + (" --quick" if quick else "")
        + "".join(f" --{n} {p.used[n]}" for n in SITE_FLAGS if p.used.get(n) is not None)
        + ("  # plus the assumptions edited on the page" if edit_list else "")
    )
    return WhatIfRequest(
        model,
        model_id,
        phase,
        tuple(applied),
        tuple((k, tuple(v.items())) for k, v in emerging.items()),
        tuple((e.label, e.key, e.value) for e in edit_list),
        train,
        serve,
        quick,
        serve_devices,
        cli,
        site,
    )


def _emerging_row(
    req: WhatIfRequest, t: Target, row: InferRow, edits: dict[str, float]
) -> InferRow:
    """An edited device class, decoded as plan/whatif's emerging rows are (the batch with the
    most tokens/s within the TPOT target, else the fastest; J/token = chip energy x PUE), with
    the edited parameters. tests/web/test_web_parts.py holds it equal to plan/whatif's row unedited."""
    acc = editing.emerging_accelerator(t, edits, req.site)
    return replace(row, **emerging_fields(acc, *emerging_decode(req.model, acc, req.serve)))


def _ratio(value: float | None, base: float | None) -> float | None:
    ok = value is not None and base is not None and base > 0 and math.isfinite(value)
    return value / base if ok else None  # type: ignore[operator]


def _with_edited_emerging(req: WhatIfRequest, w: WhatIf) -> WhatIf:
    edits = {label: dict(kv) for label, kv in req.emerging_edits}
    if w.phase != "infer" or not edits:
        return w
    rows = [r for r in w.rows if isinstance(r, InferRow)]
    base = rows[0]
    out = []
    for t, r in zip(req.targets, rows, strict=True):
        if t.label in edits:
            r = _emerging_row(req, t, r, edits[t.label])
            r = replace(
                r,
                tpot_ratio=_ratio(r.tpot_s, base.tpot_s),
                usd_ratio=_ratio(
                    r.usd_per_million_output_tokens, base.usd_per_million_output_tokens
                ),
                joules_ratio=_ratio(r.joules_per_token, base.joules_per_token),
            )
        out.append(r)
    return replace(w, rows=tuple(out))


def compute(req: WhatIfRequest, progress: Progress) -> dict[str, Any]:
    """Run the comparison; rows in the order asked, the baseline first."""
    targets = list(req.targets)
    progress.step(f"{req.phase}: planning {req.model.name} on {len(targets)} targets", 0, 1)
    if req.phase == "train":
        w = whatif_train(req.model, targets, req.train, SWEEP_SPACE if req.quick else None)
    else:
        w = whatif_infer(req.model, targets, req.serve, req.serve_devices, req.site)
    w = _with_edited_emerging(req, w)
    progress.step("done", 1, 1)
    edited: dict[str, dict[str, float]] = {}
    for label, key, value in req.edited:
        edited.setdefault(label, {})[key] = value
    rows = []
    answered: list[TrainRow | InferRow] = list(w.rows)
    for t, row in zip(targets, answered, strict=True):
        data = asdict(row)
        plan = row.plan if isinstance(row, TrainRow) else None
        data["plan"] = plan.model_dump() if plan is not None else None
        data["assumptions"] = list(row.assumptions)
        data["editable"] = editing.editable(t, edited.get(t.label, {}), req.site)
        rows.append(data)
    return {
        "model": model_json(req.model, req.model_id),
        "phase": w.phase,
        "setting": w.setting,
        "rows": rows,
        "elapsed_s": w.elapsed_s,
        "cli": req.cli,
    }


def tables(results: dict[str, Any]) -> dict[str, Csv]:
    """The CSV exports: one row per target (every numeric field) and every assumption line."""
    rows = results["rows"]
    skip = ("assumptions", "editable", "plan")
    head = [k for k in rows[0] if k not in skip] if rows else []
    params = [
        [p["target"], p["key"], p["value"], p["edited"], p["assumption"], p["source"]]
        for r in rows
        for p in r["editable"]
    ]
    return {
        "rows": (head, [[r[k] for k in head] for r in rows]),
        "assumptions": (
            ["target", "assumption"],
            [[r["label"], a] for r in rows for a in r["assumptions"]],
        ),
        "parameters": (["target", "key", "value", "edited", "assumption", "source"], params),
    }
