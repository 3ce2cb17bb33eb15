"""At 80 columns the names users type are printed whole: case ids (validate), catalog ids
(hardware list, model list) and plan labels (plan); numbers are never split either."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scalelab.core import catalog
from scalelab.validate.runner import load_cases


@pytest.fixture
def narrow(cli, monkeypatch):
    from scalelab.cli import common

    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setattr(common.out, "width", 80)  # also where the console fixed its width earlier

    def run(*args: str) -> str:
        code, out, err = cli(*args)
        assert code == 0, err
        assert max(map(len, out.splitlines())) <= 80
        return out

    return run


def _tokens(out: str) -> set[str]:
    return {t for line in out.splitlines() for t in line.split()}


def test_validate_prints_every_case_id_whole_with_its_tolerance(narrow):
    out = narrow("validate")
    assert {c["id"] for c in load_cases()} <= _tokens(out)
    assert "tol." in out and "PASS (tol" not in out
    assert re.search(r"\s\d+\.\d%\s+PASS", out)  # the tolerance in its own column


def test_hardware_and_model_lists_print_every_catalog_id_whole(narrow):
    out = narrow("hardware", "list")
    assert set(catalog.list_ids("accelerators")) <= _tokens(out)
    assert set(catalog.list_ids("interconnects")) <= _tokens(out)
    out = narrow("model", "list")
    assert set(catalog.list_ids("models")) <= _tokens(out)


def test_plan_prints_short_whole_labels_and_the_batch_used(narrow):
    out = narrow("plan", "--model", "deepseek-v3", "--cluster", "h800x2048", "--global-batch",
                 "15360", "--seq", "4096", "--train-tokens", "14.8T", "--fp8", "--top", "3")  # fmt: skip
    labels = re.findall(r"\bTP\d+(?:·CP\d+)?·PP\d+(?:·EP\d+)?·DP\d+\b", out)
    assert len(labels) >= 3  # one per ranked plan, never broken across lines
    assert "batch: 15,360 sequences x 4,096 tokens = 62,914,560 tokens per step" in out


def test_predict_train_prints_the_batch_and_average_power(narrow):
    scenario = Path(__file__).resolve().parents[2] / "examples" / "deepseek-v3-train.toml"
    out = narrow("predict", "train", str(scenario))
    assert "batch: 15,360 sequences x 4,096 tokens" in out
    assert re.search(r"average power per device \(board\)\s+\d+ W", out)
