"""Report section "Data": the audit of a shipped data set, whether augmentation and self-training
help with few labels (measured over seeds), and how much text the report's model needs."""

from __future__ import annotations

import math
import re
import shutil
from typing import Any

import numpy as np

from scalelab.core.specs import ModelSpec
from scalelab.report.context import ReportContext
from scalelab.report.fmt import pct
from scalelab.report.section import Figure, Section, Table

TITLE = "Data"
REPORT_AUDIT_DATASET = "rt"  # short texts with a group column (movie): audit in ~2 s
REPORT_EXPERIMENT_DATASET = "tweets"


def _snippet(text: str, width: int = 70) -> str:
    """One line, `width` characters; square brackets become parentheses (terminal markup) and
    links lose their scheme (the HTML report links to nothing outside itself)."""
    flat = " ".join(text.split()).replace("[", "(").replace("]", ")")
    flat = re.sub(r"https?://", "", flat)
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def audit_tables(r: Any) -> list[Table]:
    """Tables of an AuditResult: findings with counts, groups, examples."""
    d, lk, rt, cov = r.duplicates, r.leakage, r.retweets, r.coverage
    rows = [
        ["rows (test split)", f"{r.num_rows:,} ({r.num_test_rows:,})"],
        ["classes", ", ".join(f"{_snippet(k, 20)} {v:,}" for k, v in r.class_counts.items())],
        ["largest / smallest class", f"{r.imbalance_ratio:.2f}x"],
        ["exact duplicate rows (groups)", f"{d['exact_duplicate_rows']:,} ({d['exact_duplicate_groups']:,})"],
        ["  groups whose copies disagree on the label", f"{d['groups_with_conflicting_labels']:,}"],
        ["duplicates after case/space folding", f"{d['normalized_duplicate_rows']:,}"],
        ["near-duplicate rows (clusters)", f"{d['near_duplicate_rows']:,} ({d['near_duplicate_clusters']:,})"],
        ["retweets (of a row in the set)", f"{rt['retweet_rows']:,} ({rt['retweets_of_a_row_in_the_set']:,})"],
        ["test rows with an exact copy in train", f"{lk['test_rows_with_exact_copy_in_train']:,}"],
        ["test rows with a near copy in train", f"{lk['test_rows_with_near_copy_in_train']:,}"],
        ["vocabulary train / test", f"{cov['train_vocabulary']:,.0f} / {cov['test_vocabulary']:,.0f}"],
        ["test words unseen in train (types / tokens)",
         f"{pct(cov['test_oov_type_frac'])} / {pct(cov['test_oov_token_frac'])}"],
        ["mean words per row", f"{cov['mean_words_per_row']:.1f}"],
    ]  # fmt: skip
    note = f"{'; '.join(r.notes)}; engine {r.engine}, {r.seconds:.1f} s"
    tables = [Table(f"Audit of {_snippet(r.name, 40)}", ["finding", "count"], rows, note)]
    if r.groups:
        group_rows = [
            [_snippet(g, 24), f"{v['rows']:,}",
             ", ".join(f"{_snippet(k, 12)} {pct(f, 0)}" for k, f in v["label_frac"].items()),
             ", ".join(v["terms"][:6]),
             "-" if math.isnan(v["test_accuracy_frac"]) else f"{pct(v['test_accuracy_frac'])} ({v['test_rows']})"]
            for g, v in r.groups["shown"].items()
        ]  # fmt: skip
        tables.append(Table(
            f"Representation by group ({r.groups['num_groups']:,} groups, largest shown)",
            ["group", "rows", "labels", "terms most tied to the group", "classifier accuracy (test rows)"],
            group_rows,
            note="terms: log-odds with an informative Dirichlet prior (Monroe et al. 2008); accuracy: "
            "TF-IDF + logistic regression trained on the train split",
        ))  # fmt: skip
    examples = [[k, str(i), _snippet(t)] for k, pairs in r.examples.items() for i, t in pairs]
    if examples:
        tables.append(Table("Examples", ["finding", "row", "text"], examples, terminal=False))
    return tables


def experiment_table(r: Any) -> Table:
    """Mean ± std over seeds of the baseline and the gain of each technique, with the verdict."""
    rows = []
    for c in sorted(r.comparisons, key=lambda c: (c.technique, c.labels_per_class)):
        base, gain = np.mean(c.baseline_f1), c.gain_f1
        acc_gain = c.gain_acc
        rows.append([c.technique, str(c.labels_per_class), f"{100 * base:.1f}",
                     f"{100 * gain[0]:+.1f} ± {100 * gain[1]:.1f}",
                     f"{100 * acc_gain[0]:+.1f} ± {100 * acc_gain[1]:.1f}",
                     f"{c.p_value:.3f}", c.verdict])  # fmt: skip
    for technique, (gain, p, verdict) in r.overall.items():
        rows.append(
            [f"{technique}, all budgets", "-", "-", f"{100 * gain:+.1f}", "-", f"{p:.3f}", verdict]
        )
    cfg = r.config
    note = (f"{r.dataset}: {cfg.seeds} seeds, test set {r.num_test} rows, "
            f"{r.num_duplicates_dropped} duplicate rows dropped first; paired t-test on macro-F1, "
            f"alpha 0.05; {r.seconds:.0f} s. Reproduce: scalelab data experiment {cfg.kind} "
            f"--dataset {r.dataset} --labels-per-class {','.join(map(str, cfg.labels_per_class))} "
            f"--seeds {cfg.seeds} --test-size {cfg.test_size}" + (f" --techniques "
            f"{','.join(cfg.techniques)} --per-example {cfg.per_example}"
            if cfg.kind == "augmentation" else ""))  # fmt: skip
    cols = ["technique", "labels/class", "baseline macro-F1 (%)", "F1 gain (points)",
            "accuracy gain (points)", "p", "verdict"]  # fmt: skip
    return Table(
        f"{cfg.kind.capitalize()} on {r.dataset}: gain over the baseline", cols, rows, note
    )


def experiment_figure(r: Any, fmt: str = "png") -> bytes:
    """Macro-F1 vs labels per class: baseline and each technique, mean ± std over seeds (PNG for
    `--plot`, SVG for the report)."""
    from scalelab.report.plots import label_axes, new_figure, to_image, to_png

    fig, ax = new_figure()
    by_technique: dict[str, list[Any]] = {}
    for c in r.comparisons:
        by_technique.setdefault(c.technique, []).append(c)
    first = next(iter(by_technique.values()))
    xs = sorted(c.labels_per_class for c in first)
    base = {c.labels_per_class: c.baseline_f1 for c in first}
    ax.errorbar(xs, [100 * np.mean(base[x]) for x in xs], [100 * np.std(base[x], ddof=1) for x in xs],
                label="baseline", marker="o", capsize=3, color="black")  # fmt: skip
    for technique, cs in by_technique.items():
        cs = sorted(cs, key=lambda c: c.labels_per_class)
        ax.errorbar([c.labels_per_class for c in cs], [100 * np.mean(c.technique_f1) for c in cs],
                    [100 * np.std(c.technique_f1, ddof=1) for c in cs], label=technique,
                    marker="s", capsize=3)  # fmt: skip
    ax.set_xscale("log")
    ax.set_xticks(xs, [str(x) for x in xs])
    ax.minorticks_off()
    label_axes(ax, "labels per class", "macro-F1 (%)", f"{r.config.kind} on {r.dataset}")
    return to_image(fig) if fmt == "svg" else to_png(fig)


def need_costs(model: ModelSpec, token_counts: dict[str, float], cluster_id: str) -> dict[str, Any]:
    """Time, GPU-hours and money to train `model` on each token count, from one prediction of
    the planner's fastest plan on `cluster_id` (time scales linearly with tokens)."""
    from scalelab.core.scenario import Scenario, resolve_cluster
    from scalelab.core.specs import TrainWorkload
    from scalelab.perf.train.predict import predict_train
    from scalelab.plan.search import best_training_plan

    cluster = resolve_cluster(cluster_id)
    wl = TrainWorkload(global_batch_size=1024, seq_len=4096, train_tokens=1e12)
    plan = best_training_plan(model, cluster, wl)
    pred = predict_train(Scenario(model, cluster, plan, wl))
    price = (pred.cost_usd or 0.0) / (pred.device_hours or 1.0)
    rows = {}
    for label, tokens in token_counts.items():
        time_s = tokens / pred.tokens_per_s
        hours = time_s * cluster.num_devices / 3600
        rows[label] = {"tokens": tokens, "time_s": time_s, "device_hours": hours,
                       "cost_usd": hours * price}  # fmt: skip
    return {"cluster": cluster.name, "plan": str(plan), "mfu": pred.mfu, "runs": rows,
            "price_usd_per_device_hour": price}  # fmt: skip


def need_tables(need: Any, costs: dict[str, Any] | None, name: str) -> list[Table]:
    tb = lambda b: f"{b / 1e12:,.2f} TB"  # noqa: E731
    tt = lambda t: f"{t / 1e12:,.2f}T"  # noqa: E731
    rows = [["compute-optimal tokens (20 per parameter)", tt(need.tokens), tb(need.bytes)]]
    for law, tokens in need.fitted.items():
        rows.append(
            [
                f"optimum of the fitted loss law, {law}",
                tt(tokens),
                tb(tokens * need.bytes_per_token),
            ]
        )
    for e in need.epochs:
        rows.append([f"unique data if repeated {e.epochs:g} epochs (trains {tt(e.tokens_trained)})",
                     tt(e.unique_tokens), tb(e.unique_bytes)])  # fmt: skip
    from scalelab.data.need import PUBLISHED_RUNS

    for run, (tokens, _total, active) in PUBLISHED_RUNS.items():
        rows.append([f"{run} trained on ({tokens / active:,.0f} tokens per active parameter)",
                     tt(tokens), tb(tokens * need.bytes_per_token)])  # fmt: skip
    params = f"{need.params / 1e9:,.1f}B" + (
        f" active of {need.total_params / 1e9:,.0f}B" if need.total_params != need.params else ""
    )
    tables = [Table(f"Text needed by {name} ({params} parameters)", ["what", "tokens", "text"],
                    rows, note=need.method)]  # fmt: skip
    if costs:
        crow = [[label, tt(v["tokens"]), f"{v['time_s'] / 86400:,.1f}", f"{v['device_hours'] / 1e3:,.0f}K",
                 f"${v['cost_usd'] / 1e6:,.2f}M"] for label, v in costs["runs"].items()]  # fmt: skip
        tables.append(Table(
            f"Training on it: {costs['cluster']}, planner's fastest plan (MFU {pct(costs['mfu'])})",
            ["run", "tokens", "days", "GPU-hours", "cost"], crow,
            note=f"{costs['plan']}; ${costs['price_usd_per_device_hour']:.2f}/GPU-hour; "
            "time scales linearly with tokens at the predicted step throughput",
        ))  # fmt: skip
    return tables


def need_runs(model: ModelSpec, need: Any) -> dict[str, float]:
    """Token counts to cost: the compute optimum, the model's published run, 15T."""
    from scalelab.data.need import CATALOG_RUNS, PUBLISHED_RUNS

    runs = {"compute-optimal (20 tokens/parameter)": need.tokens}
    published = CATALOG_RUNS.get(model.catalog_id or "")
    if published:
        runs[f"as {published} (published)"] = PUBLISHED_RUNS[published][0]
    runs["15T tokens (Llama 3 / DeepSeek-V3 scale)"] = 15e12
    return runs


def model_need(model: ModelSpec, cluster_id: str = "h100x1024") -> tuple[Any, dict[str, Any]]:
    """DataNeed of a catalog model (laws on active parameters) and the cost of its runs."""
    from scalelab.data.need import data_need
    from scalelab.perf.model.params import count_params

    counts = count_params(model)
    need = data_need(float(counts.active_per_token), float(counts.total))
    return need, need_costs(model, need_runs(model, need), cluster_id)


def _experiments(quick: bool) -> tuple[list[Any], list[str]]:
    from scalelab.data.datasets import load_dataset
    from scalelab.data.experiment import ExperimentConfig, run_experiment

    data = load_dataset(REPORT_EXPERIMENT_DATASET)
    techniques = ("synonym", "eda") + (("backtranslate",) if shutil.which("apertium") else ())
    notes = (
        []
        if "backtranslate" in techniques
        else ["back-translation skipped: Apertium is not installed"]
    )
    budgets = (10, 50) if quick else (10, 20, 50, 100)
    aug = run_experiment(
        data,
        ExperimentConfig(
            "augmentation", budgets, seeds=5, techniques=techniques, test_size=500, per_example=1
        ),
    )
    st = run_experiment(data, ExperimentConfig("self-training", budgets, seeds=5, test_size=500))
    return [aug, st], notes


def build(ctx: ReportContext) -> Section:
    """Audit (rt), augmentation and self-training (tweets), and the model's data need."""
    from scalelab.data.audit import audit
    from scalelab.data.classify import require_sklearn
    from scalelab.data.datasets import load_dataset

    need, costs = model_need(ctx.model)
    tables = need_tables(need, costs, ctx.model.name)
    figures: list[Figure] = []
    summary = (f"A compute-optimal {ctx.model.name} ({need.params / 1e9:,.0f}B parameters per token) "
               f"needs {need.tokens / 1e12:,.2f}T tokens, about {need.bytes / 1e12:,.1f} TB of text "
               f"at {need.bytes_per_token:g} bytes per token.")  # fmt: skip
    data: dict[str, Any] = {"need": need.__dict__ | {"epochs": [e.__dict__ for e in need.epochs]},
                            "need_costs": costs}  # fmt: skip
    try:
        require_sklearn()
        shipped = load_dataset(REPORT_AUDIT_DATASET)
    except Exception as exc:  # the data extra is optional: say so instead of failing the report
        return Section(
            TITLE, summary + f" (Audit and experiments skipped: {exc})", tables, figures, data
        )
    result = audit(shipped.rows, f"{shipped.name} ({shipped.source})")
    tables = audit_tables(result) + tables
    data["audit"] = {k: v for k, v in result.__dict__.items() if k != "examples"}
    experiments, notes = _experiments(ctx.quick)
    for r in experiments:
        tables.append(experiment_table(r))
        figures.append(Figure(f"Macro-F1 vs labels per class on {r.dataset}: {r.config.kind} "
                              "(mean ± std over 5 seeds)", experiment_figure(r, "svg")))  # fmt: skip
        data[r.config.kind] = {
            t: {"gain_f1": g, "p": p, "verdict": v} for t, (g, p, v) in r.overall.items()
        }
    verdicts = "; ".join(f"{t}: {v} ({100 * g:+.1f} F1 points)" for r in experiments
                         for t, (g, _, v) in r.overall.items())  # fmt: skip
    summary += (f" Audit of {shipped.name}: {result.duplicates['exact_duplicate_rows']} exact duplicate rows, "
                f"{result.leakage['test_rows_with_near_copy_in_train']} test rows with a near copy in train. "
                f"With few labels on {REPORT_EXPERIMENT_DATASET}: {verdicts}. " + " ".join(notes))  # fmt: skip
    return Section(TITLE, summary.strip(), tables, figures, data)
