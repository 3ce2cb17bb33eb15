"""`scalelab data augment|self-train|experiment|audit|need`: the data dimension (docs/data.md).

Library work lives in scalelab.data; tables and the need-to-cost composition in
report/sections/data.py; this module declares options, reads and writes files, and prints.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from scalelab.cli.common import (
    MAX_SEED,
    JsonOption,
    err,
    examples,
    finite,
    out,
    print_json,
    rich_table,
)
from scalelab.core.errors import ConfigError, InfeasiblePlan, located
from scalelab.core.io import write_atomic
from scalelab.report.section import Table

data_app = typer.Typer(
    help="Data: augmentation, self-training, experiments that measure them, dataset audit, and "
    "how much text a model needs.",
    no_args_is_help=True,
)

DATASET_HELP = "A shipped data set: bbc, tweets, rt or debates (docs/data.md)."
TEXT_COL = typer.Option("text", "--text-col", help="Column holding the text.")
LABEL_COL = typer.Option("label", "--label-col", help="Column holding the label.")


class Method(StrEnum):
    synonym = "synonym"
    eda = "eda"
    backtranslate = "backtranslate"


class Kind(StrEnum):
    augmentation = "augmentation"
    self_training = "self-training"


class Engine(StrEnum):
    local = "local"
    dask = "dask"


def _print_table(table: Table) -> None:
    """User strings (file names, texts, groups) are escaped by rich_table before rich reads markup."""
    out.print(rich_table(table))


@contextmanager
def _progress(label: str, total: int | None) -> Iterator[Any]:
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn()]  # fmt: skip
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task(escape(label), total=total)

        def advance(description: str | None = None) -> None:
            bar.advance(task)
            if description:
                bar.update(task, description=escape(description))

        yield advance


def _load(path: Path | None, dataset: str | None, text_col: str, label_col: str,
          group_col: str | None = None) -> Any:  # fmt: skip
    from scalelab.data.datasets import load_dataset, load_table

    if (path is None) == (dataset is None):
        raise ConfigError("give exactly one of IN (a CSV/JSONL file) or --dataset NAME")
    if dataset is not None:
        return load_dataset(dataset)
    return load_table(path, text_col, label_col, group_col)  # type: ignore[arg-type]


def _write_rows(path: Path, columns: list[str], rows: list[list[Any]]) -> None:
    """CSV or JSONL by suffix, written atomically (a failed run leaves no file)."""
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        text = "".join(json.dumps(dict(zip(columns, r, strict=True))) + "\n" for r in rows)
    elif suffix in (".csv", ".tsv"):
        buf = io.StringIO()
        writer = csv.writer(buf, delimiter="\t" if suffix == ".tsv" else ",", lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
        text = buf.getvalue()
    else:
        raise ConfigError(f"--out: {path} must end in .csv, .tsv or .jsonl")
    write_atomic(path, text)


def _check_out(path: Path | None) -> None:
    if path is not None and path.suffix.lower() not in (".csv", ".tsv", ".jsonl"):
        raise ConfigError(f"--out: {path} must end in .csv, .tsv or .jsonl")


def _translator(mt_model: str | None) -> Any:
    if not mt_model:
        return None
    from scalelab.data.translate import ctranslate2_back_translator

    parts = mt_model.split(",")
    if len(parts) != 2:
        raise ConfigError("--mt-model: expected FORWARD_DIR,BACKWARD_DIR (e.g. en-es,es-en)")
    return ctranslate2_back_translator(parts[0], parts[1])


def augment(
    in_file: Path = typer.Argument(None, help="CSV/TSV/JSONL file with a text and a label column."),
    out_file: Path = typer.Option(
        ..., "--out", help="Output .csv/.tsv/.jsonl (originals + new rows)."
    ),
    method: Method = typer.Option(
        Method.synonym, "--method", help="synonym | eda | backtranslate."
    ),
    per_example: int = typer.Option(
        1, "--per-example", min=1, max=1000, help="New rows per example (K)."
    ),
    seed: int = typer.Option(0, "--seed", min=0, max=MAX_SEED, help="Random seed (synonym, eda)."),
    dataset: str = typer.Option(None, "--dataset", help=DATASET_HELP),
    text_col: str = TEXT_COL,
    label_col: str = LABEL_COL,
    only_new: bool = typer.Option(False, "--only-new", help="Write the new rows only."),
    mt_model: str = typer.Option(
        None, "--mt-model", help="FWD_DIR,BWD_DIR: CTranslate2 models instead of Apertium."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Augment labelled text; every new row keeps its source row's label."""
    from scalelab.data.augment import augment as run_augment

    _check_out(out_file)
    data = _load(in_file, dataset, text_col, label_col)
    with _progress(f"{method.value} augmentation", len(data)) as advance:
        result = run_augment(
            data.texts, data.labels, method.value, per_example, seed, _translator(mt_model),
            progress=lambda _: advance(),
        )  # fmt: skip
    rows = [] if only_new else [[t, lab, i, "original"] for i, (t, lab) in
                                 enumerate(zip(data.texts, data.labels, strict=True))]  # fmt: skip
    rows += [[t, lab, s, method.value] for t, lab, s in
             zip(result.texts, result.labels, result.source_index, strict=True)]  # fmt: skip
    _write_rows(out_file, ["text", "label", "source_row", "method"], rows)
    summary = {"input_rows": len(data), "new_rows": len(result.texts), "out": str(out_file),
               "method": method.value, "backend": result.backend,
               "changed_frac": result.changed_frac, "rows_per_s": result.rows_per_s}  # fmt: skip
    if as_json:
        print_json(summary)
        return
    _print_table(Table(f"Augmented {data.name}", ["", "value"],
                       [[k, f"{v:.3g}" if isinstance(v, float) else str(v)] for k, v in summary.items()]))  # fmt: skip
    for src, new in list(zip(result.source_index, result.texts, strict=True))[:3]:
        out.print(f"[dim]{escape(data.texts[src][:100])}[/]\n  -> {escape(new[:100])}")


def _self_train_inputs(data: Any, from_file: bool, labels_per_class: int | None, pool: int,
                       seed: int) -> tuple[list[int], list[int], Any]:  # fmt: skip
    """(labeled rows, pool rows, true labels of the pool or None)."""
    import numpy as np

    if from_file:
        if labels_per_class is not None:
            raise ConfigError(
                "--labels-per-class: only with --dataset (a file's empty labels mark the pool)"
            )
        labeled = [i for i, lab in enumerate(data.labels) if lab.strip()]
        unlabeled = [i for i, lab in enumerate(data.labels) if not lab.strip()]
        if not unlabeled:
            raise ConfigError(f"{data.source}: no row with an empty label: nothing to pseudo-label")
        if len({data.labels[i] for i in labeled}) < 2:
            raise ConfigError(f"{data.source}: the labeled rows hold fewer than two classes")
        return labeled, unlabeled[:pool], None
    n = labels_per_class or 10
    y = data.label_ids()
    order = np.random.default_rng(seed).permutation(len(data))
    labeled = []
    for c, name in enumerate(data.class_names):
        rows = order[y[order] == c]
        if rows.size <= n:
            raise ConfigError(
                f"--labels-per-class: {n} is more than class {name!r} has ({rows.size} rows)"
            )
        labeled += rows[:n].tolist()
    chosen = set(labeled)
    pool_rows = [int(i) for i in order if int(i) not in chosen][:pool]
    return labeled, pool_rows, y[pool_rows]


def self_train(
    in_file: Path = typer.Argument(None, help="CSV/TSV/JSONL; rows with an empty label form the unlabeled pool."),
    dataset: str = typer.Option(None, "--dataset", help=DATASET_HELP + " Labels are hidden except --labels-per-class."),
    labels_per_class: int = typer.Option(None, "--labels-per-class", min=1, max=10**6, help="With --dataset: labels kept per class (default 10)."),
    threshold: float = typer.Option(None, "--threshold", callback=finite(ge=0, le=1), help="Pseudo-label rows whose top class probability reaches this (default 0.6)."),
    rounds: int = typer.Option(3, "--rounds", min=1, max=100, help="Pseudo-label / retrain rounds."),
    pool: int = typer.Option(5000, "--pool", min=1, max=10**7, help="Unlabeled rows used, at most."),
    seed: int = typer.Option(0, "--seed", min=0, max=MAX_SEED),
    out_file: Path = typer.Option(None, "--out", help="Write the pool rows that got a pseudo-label (.csv/.jsonl)."),
    text_col: str = TEXT_COL,
    label_col: str = LABEL_COL,
    as_json: bool = JsonOption,
) -> None:  # fmt: skip
    """Self-training: a classifier trained on few labels labels the pool where confident, retrains."""
    from scalelab.data.classify import require_sklearn
    from scalelab.data.selftrain import DEFAULT_THRESHOLD
    from scalelab.data.selftrain import self_train as run_self_train

    require_sklearn()
    _check_out(out_file)
    data = _load(in_file, dataset, text_col, label_col)
    labeled, pool_rows, truth = _self_train_inputs(
        data, in_file is not None, labels_per_class, pool, seed
    )
    classes = sorted({data.labels[i] for i in labeled})
    import numpy as np

    y = np.array([classes.index(data.labels[i]) for i in labeled])
    with _progress("self-training", None), located(str(data.source)):
        result = run_self_train(
            [data.texts[i] for i in labeled], y, [data.texts[i] for i in pool_rows],
            threshold if threshold is not None else DEFAULT_THRESHOLD, rounds, seed,
            None if truth is None else np.array([classes.index(data.class_names[t]) for t in truth]),
        )  # fmt: skip
    if out_file is not None:
        rows = [[data.texts[pool_rows[i]], classes[lab], pool_rows[i]]
                for i, lab in zip(result.pseudo_index, result.pseudo_labels, strict=True)]  # fmt: skip
        _write_rows(out_file, ["text", "label", "source_row"], rows)
    summary = {"labeled_rows": len(labeled), "pool_rows": len(pool_rows),
               "pseudo_labeled_rows": len(result.pseudo_index), "threshold": result.threshold_frac,
               "rounds": [asdict(r) for r in result.rounds]}  # fmt: skip
    if as_json:
        print_json(summary)
        return
    rows = [[str(r.round), f"{r.num_added:,}", f"{r.num_pseudo_total:,}",
             "-" if r.pseudo_accuracy_frac is None else f"{100 * r.pseudo_accuracy_frac:.1f}"]
            for r in result.rounds]  # fmt: skip
    _print_table(Table(f"Self-training on {data.name}: {len(labeled)} labels, pool {len(pool_rows):,}",
                       ["round", "added", "pseudo-labels", "pseudo-label accuracy (%)"], rows,
                       note=f"threshold {result.threshold_frac:g}; each round adds the same share of "
                       "every class; accuracy only where true labels exist (--dataset)"))  # fmt: skip


def experiment(
    kind: Kind = typer.Argument(..., help="augmentation | self-training"),
    dataset: str = typer.Option("tweets", "--dataset", help=DATASET_HELP),
    labels_per_class: str = typer.Option("10,20,50,100", "--labels-per-class", help="Comma-separated label budgets."),
    seeds: int = typer.Option(5, "--seeds", min=2, max=100, help="Seeds (each: its own test split and labeled sample)."),
    techniques: str = typer.Option("synonym,eda,backtranslate", "--techniques", help="Augmentations to compare."),
    per_example: int = typer.Option(4, "--per-example", min=1, max=1000, help="Augmented rows per labeled example."),
    test_size: int = typer.Option(1000, "--test-size", min=10, max=10**6, help="Held-out rows per seed."),
    plot: Path = typer.Option(None, "--plot", help="Write macro-F1 vs labels per class (.png)."),
    mt_model: str = typer.Option(None, "--mt-model", help="FWD_DIR,BWD_DIR: CTranslate2 models instead of Apertium."),
    as_json: bool = JsonOption,
) -> None:  # fmt: skip
    """Baseline vs each technique over seeds: mean ± std, paired t-test, verdict."""
    from scalelab.data.datasets import load_dataset
    from scalelab.data.experiment import AUGMENTATIONS, ExperimentConfig, run_experiment
    from scalelab.report.sections.data import experiment_figure, experiment_table

    try:
        budgets = tuple(sorted({int(v) for v in labels_per_class.split(",")}))
    except ValueError:
        raise ConfigError(
            f"--labels-per-class: expected numbers like 10,20,50, got {labels_per_class!r}"
        ) from None
    if min(budgets) < 1:
        raise ConfigError("--labels-per-class: each budget must be at least 1")
    chosen = tuple(t.strip() for t in techniques.split(",") if t.strip())
    if not chosen:
        raise ConfigError(f"--techniques: give at least one of {', '.join(AUGMENTATIONS)}")
    if bad := [t for t in chosen if t not in AUGMENTATIONS]:
        raise ConfigError(
            f"--techniques: unknown {bad[0]!r} (choose from {', '.join(AUGMENTATIONS)})"
        )
    if plot is not None and plot.suffix.lower() != ".png":
        raise ConfigError(f"--plot: {plot} must end in .png")
    config = ExperimentConfig(kind.value, budgets, seeds, chosen, test_size, per_example)
    data = load_dataset(dataset)
    with _progress(f"{kind.value} on {dataset}", seeds * len(budgets)) as advance:
        result = run_experiment(data, config, _translator(mt_model), progress=advance)
    if plot is not None:
        write_atomic(plot, experiment_figure(result))
    if as_json:
        payload = asdict(result)
        for c, comp in zip(payload["comparisons"], result.comparisons, strict=True):
            c.update(gain_f1_mean_std=comp.gain_f1, gain_acc_mean_std=comp.gain_acc)
        print_json(payload)
        return
    _print_table(experiment_table(result))
    for technique, (gain, p, verdict) in result.overall.items():
        out.print(
            f"{escape(technique)}: [bold]{verdict}[/] (mean F1 gain {100 * gain:+.2f} points, p = {p:.3f})"
        )


def audit(
    in_file: Path = typer.Argument(None, help="CSV/TSV/JSONL file to audit (streamed, never loaded whole)."),
    dataset: str = typer.Option(None, "--dataset", help=DATASET_HELP),
    text_col: str = TEXT_COL,
    label_col: str = LABEL_COL,
    group_col: str = typer.Option(None, "--group-col", help="Column naming a group (speaker, source...) for the bias checks."),
    test_frac: float = typer.Option(0.2, "--test-frac", callback=finite(gt=0, lt=1), help="Share of rows in the (pseudo-random, fixed) test split."),
    seed: int = typer.Option(0, "--seed", min=0, max=MAX_SEED, help="Seed of the split."),
    engine: Engine = typer.Option(Engine.local, "--engine", help="local: this process; dask: a Dask cluster."),
    workers: int = typer.Option(2, "--workers", min=1, max=256, help="--engine dask: local worker processes."),
    scheduler: str = typer.Option(None, "--scheduler", help="--engine dask: address of a running scheduler (tcp://host:8786)."),
    as_json: bool = JsonOption,
) -> None:  # fmt: skip
    """Class balance, exact/near duplicates and train/test leaks, coverage, bias by group."""
    from contextlib import nullcontext

    from scalelab.data.audit import audit as run_audit
    from scalelab.data.datasets import iter_table, load_dataset
    from scalelab.data.mapreduce import dask_executor
    from scalelab.report.sections.data import audit_tables

    if (in_file is None) == (dataset is None):
        raise ConfigError("give exactly one of IN (a CSV/JSONL file) or --dataset NAME")
    if dataset is not None:
        data = load_dataset(dataset)
        name = f"{dataset} ({data.source})"
        rows = data.rows
    else:
        name = str(in_file)
        rows = lambda: iter_table(in_file, text_col, label_col, group_col)  # noqa: E731
    context = dask_executor(scheduler, workers) if engine is Engine.dask else nullcontext(None)
    with _progress(f"auditing {name}", None), context as executor, located(name):
        result = run_audit(rows, name, executor, test_frac, seed)
    if len(result.class_counts) < 2:
        raise ConfigError(
            f"{name}: column {label_col!r} has one class ({next(iter(result.class_counts))!r})"
        )
    if as_json:
        print_json(asdict(result))
        return
    for table in audit_tables(result):
        _print_table(table)
    for finding, pairs in result.examples.items():
        for row, text in pairs[:2]:
            out.print(
                f"[dim]{escape(finding)}, row {row}:[/] {escape(' '.join(text.split())[:110])}"
            )


# Far above any model trained (~2e12 parameters); the shape for it stays within the spec limits.
MAX_PARAMS = 1e15


def need(
    params: str = typer.Option(None, "--params", help="Parameters, e.g. 100B, 7e9 (a Llama-shaped dense model)."),
    model: str = typer.Option(None, "--model", help="A catalog model (laws use its active parameters)."),
    bytes_per_token: float = typer.Option(4.0, "--bytes-per-token", callback=finite(gt=0, le=100), help="Bytes of text per token (English BPE ~4)."),
    cluster: str = typer.Option("h100x1024", "--cluster", help="Cluster for time and cost (planner's fastest plan)."),
    as_json: bool = JsonOption,
) -> None:  # fmt: skip
    """Compute-optimal tokens, bytes of text, repeated-epoch options, time and cost to train."""
    from scalelab.core.scenario import resolve_model
    from scalelab.core.units import parse_count
    from scalelab.data.need import data_need, dense_model_for_params
    from scalelab.perf.model.params import count_params
    from scalelab.report.sections.data import need_costs, need_runs, need_tables

    if (params is None) == (model is None):
        raise ConfigError("give exactly one of --params N or --model ID")
    if params is not None and not parse_count(params, "--params") <= MAX_PARAMS:
        raise ConfigError(f"--params: at most {MAX_PARAMS:g} parameters, got {params}")
    spec = (
        resolve_model(model) if model else dense_model_for_params(parse_count(params, "--params"))
    )
    counts = count_params(spec)
    n = parse_count(params, "--params") if params else float(counts.active_per_token)
    result = data_need(n, float(counts.total) if model else n, bytes_per_token)
    try:
        costs: dict[str, Any] | None = need_costs(spec, need_runs(spec, result), cluster)
    except InfeasiblePlan as exc:  # the data need stands without a cost
        costs = None
        err.print(f"no time/cost: {escape(str(exc))}")
    if as_json:
        payload = asdict(result)
        payload.update(model=spec.name, shape={"num_layers": spec.num_layers, "hidden_size": spec.hidden_size},
                       time_and_cost=costs)  # fmt: skip
        print_json(payload)
        return
    for table in need_tables(result, costs, spec.name):
        _print_table(table)


def register(app: typer.Typer) -> None:
    data_app.command(
        "augment",
        epilog=examples(
            "scalelab data augment --dataset tweets --method eda --per-example 2 --out tweets-eda.csv",
        ),
    )(augment)
    data_app.command(
        "self-train",
        epilog=examples(
            "scalelab data self-train --dataset tweets --labels-per-class 10 --rounds 2 --pool 500",
        ),
    )(self_train)
    data_app.command(
        "experiment",
        epilog=examples(
            "scalelab data experiment augmentation --dataset tweets --labels-per-class 10 "
            "--seeds 2 --techniques eda",
        ),
    )(experiment)
    data_app.command(
        "audit",
        epilog=examples(
            "scalelab data audit --dataset debates --group-col speaker",
            "scalelab data audit --dataset tweets --json",
        ),
    )(audit)
    data_app.command(
        "need",
        epilog=examples(
            "scalelab data need --params 100B",
            "scalelab data need --model deepseek-v3 --cluster h800x2048 --json",
        ),
    )(need)
    app.add_typer(data_app, name="data")
