"""`scalelab data augment|self-train|experiment|audit|need`: --json numbers, written files, and
one-line errors (exit 1, no partial output) on bad input."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest


def _one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 1
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "error:" in lines[0] and "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], lines[0]


def _csv(tmp_path: Path, name: str = "in.csv", rows: int = 30) -> Path:
    path = tmp_path / name
    lines = ["text,label"] + [
        f"The {'good' if i % 2 else 'terrible'} movie number {i} was quite {'nice' if i % 2 else 'dull'},"
        f"{'pos' if i % 2 else 'neg'}"
        for i in range(rows)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_augment_writes_labels_unchanged(cli, tmp_path):
    src, out_file = _csv(tmp_path), tmp_path / "aug.csv"
    code, out, err = cli("data", "augment", str(src), "--out", str(out_file), "--method", "synonym",
                         "--per-example", "2", "--seed", "1", "--json")  # fmt: skip
    assert code == 0, err
    res = json.loads(out)["results"]
    assert res["new_rows"] == 60 and res["input_rows"] == 30
    rows = list(csv.DictReader(out_file.open(encoding="utf-8")))
    assert len(rows) == 90
    originals = {int(r["source_row"]): r for r in rows if r["method"] == "original"}
    for r in rows:
        assert r["label"] == originals[int(r["source_row"])]["label"]
    assert sum(r["method"] == "synonym" and r["text"] != originals[int(r["source_row"])]["text"]
               for r in rows) >= 50  # fmt: skip
    again = tmp_path / "again.csv"
    cli("data", "augment", str(src), "--out", str(again), "--method", "synonym", "--per-example",
        "2", "--seed", "1")  # fmt: skip
    assert again.read_bytes() == out_file.read_bytes()


def test_augment_backtranslate_jsonl(cli, tmp_path):
    src, out_file = _csv(tmp_path, rows=6), tmp_path / "bt.jsonl"
    code, out, err = cli("data", "augment", str(src), "--out", str(out_file), "--method",
                         "backtranslate", "--only-new", "--json")  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["results"]["backend"].startswith("apertium")
    rows = [json.loads(line) for line in out_file.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 6 and all(r["method"] == "backtranslate" for r in rows)


def test_self_train_file_pool(cli, tmp_path):
    path = tmp_path / "st.csv"
    lines = ["text,label"] + [f"goal match team {i},sport" for i in range(5)]
    lines += [f"bank stock price {i},money" for i in range(5)]
    lines += [f"goal team player {i}," for i in range(20)] + [
        f"stock bank loan {i}," for i in range(20)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out_file = tmp_path / "pseudo.csv"
    code, out, err = cli("data", "self-train", str(path), "--threshold", "0.55", "--out",
                         str(out_file), "--json")  # fmt: skip
    assert code == 0, err
    res = json.loads(out)["results"]
    assert res["labeled_rows"] == 10 and res["pool_rows"] == 40 and res["pseudo_labeled_rows"] > 0
    for row in csv.DictReader(out_file.open(encoding="utf-8")):
        assert row["label"] == ("sport" if "goal" in row["text"] else "money")


def test_self_train_dataset_table(cli):
    code, out, err = cli("data", "self-train", "--dataset", "debates", "--labels-per-class", "10",
                         "--pool", "300", "--rounds", "2")  # fmt: skip
    assert code == 0, err
    assert "pseudo-label accuracy" in out


@pytest.mark.slow
def test_experiment_json_and_plot(cli, tmp_path):
    plot = tmp_path / "gain.png"
    code, out, err = cli("data", "experiment", "augmentation", "--dataset", "debates",
                         "--labels-per-class", "5,10", "--seeds", "5", "--techniques", "eda",
                         "--per-example", "1", "--test-size", "200", "--plot", str(plot), "--json")  # fmt: skip
    assert code == 0, err
    res = json.loads(out)["results"]
    assert {c["labels_per_class"] for c in res["comparisons"]} == {5, 10}
    assert all(len(c["baseline_f1"]) == 5 for c in res["comparisons"])
    assert res["overall"]["eda"][2] in ("helps", "no measurable effect", "hurts")
    assert plot.read_bytes().startswith(b"\x89PNG")


@pytest.mark.slow
def test_experiment_table_prints_mean_std_and_verdict(cli):
    code, out, err = cli("data", "experiment", "self-training", "--dataset", "debates",
                         "--labels-per-class", "5", "--seeds", "5", "--test-size", "200")  # fmt: skip
    assert code == 0, err
    assert "±" in out and ("helps" in out or "no measurable effect" in out or "hurts" in out)


def test_audit_file_json(cli, tmp_path):
    path = _csv(tmp_path, rows=40)
    with path.open("a", encoding="utf-8") as fh:
        fh.write("The good movie number 1 was quite nice,pos\n")  # an exact copy of row 1
    code, out, err = cli("data", "audit", str(path), "--json")
    assert code == 0, err
    res = json.loads(out)["results"]
    assert res["num_rows"] == 41 and res["duplicates"]["exact_duplicate_rows"] == 1
    assert res["class_counts"] == {"neg": 20, "pos": 21}


def test_audit_dataset_table(cli):
    code, out, err = cli("data", "audit", "--dataset", "debates")
    assert code == 0, err
    assert "exact duplicate rows" in out and "Representation by group" in out


def test_need_params_json(cli):
    code, out, err = cli("data", "need", "--params", "100e9", "--json")
    assert code == 0, err
    res = json.loads(out)["results"]
    assert res["tokens"] == pytest.approx(2e12) and res["bytes"] == pytest.approx(8e12)
    assert "Hoffmann" in res["method"]
    runs = res["time_and_cost"]["runs"]
    assert all(v["time_s"] > 0 and v["cost_usd"] > 0 for v in runs.values())


def test_need_model_table(cli):
    code, out, err = cli("data", "need", "--model", "deepseek-v3")
    assert code == 0, err
    assert "DeepSeek-V3 trained on" in out and "14.80T" in out and "TB" in out


@pytest.mark.parametrize(
    ("content", "args", "needles"),
    [
        (b"text,y\na,b\nc,d\n", (), ("in.csv", "no column 'label'")),
        (b"", (), ("in.csv", "empty file")),
        (b"text,label\ncaf\xe9 good,a\nb,c\n", (), ("in.csv", "not valid UTF-8")),
        (b"text,label\na,x\nb,x\n", (), ("in.csv", "one class")),
        (b"text,label\na,x\nb,y\n", ("--text-col", "body"), ("in.csv", "no column 'body'")),
    ],
)
def test_augment_bad_files_leave_no_output(cli, tmp_path, content, args, needles):
    src, out_file = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_bytes(content)
    code, _, err = cli("data", "augment", str(src), "--out", str(out_file), *args)
    _one_line_error(code, err, *needles)
    assert not out_file.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_audit_bad_files(cli, tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("text,label\na,x\nb,x\n", encoding="utf-8")
    code, _, err = cli("data", "audit", str(path))
    _one_line_error(code, err, "one class")
    path.write_bytes(b"text,label\n\xff\xfe,x\n")
    code, _, err = cli("data", "audit", str(path))
    _one_line_error(code, err, "one.csv", "not valid UTF-8")


def test_labels_per_class_above_a_class_is_one_line(cli):
    code, _, err = cli("data", "experiment", "self-training", "--dataset", "debates",
                       "--labels-per-class", "10,5000", "--seeds", "2")  # fmt: skip
    _one_line_error(code, err, "--labels-per-class", "5000")
    code, _, err = cli("data", "self-train", "--dataset", "debates", "--labels-per-class", "5000")
    _one_line_error(code, err, "--labels-per-class")


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (("data", "need"), ("--params",)),
        (("data", "need", "--params", "abc"), ("--params",)),
        (("data", "audit"), ("--dataset",)),
        (("data", "audit", "--dataset", "nope"), ("unknown data set",)),
        (("data", "experiment", "augmentation", "--techniques", "magic"), ("--techniques",)),
        (("data", "augment", "--dataset", "rt", "--out", "x.parquet"), ("--out",)),
    ],
)
def test_flag_errors_are_one_line(cli, args, needles):
    code, _, err = cli(*args)
    _one_line_error(code, err, *needles)
