import re

import pytest
import yaml

from scalelab.core.errors import CatalogError, ConfigError, InfeasiblePlan
from scalelab.validate import runner
from scalelab.validate.runner import load_cases, run_cases, to_json

MODEL = {"catalog_id": "llama-3.1-405b"}


def write(tmp_path, cases, schema="scalelab-validation/1"):
    path = tmp_path / "cases.yaml"
    path.write_text(yaml.safe_dump({"schema": schema, "cases": cases}))
    return path


def test_pass_fail_unsupported(tmp_path):
    path = write(
        tmp_path,
        [
            {
                "id": "ok",
                "kind": "model",
                "model": MODEL,
                "expect": {"kv_cache_bytes_per_token": 516096},
                "tolerance_frac": 0.001,
            },
            {
                "id": "wrong",
                "kind": "model",
                "model": MODEL,
                "expect": {"kv_cache_bytes_per_token": 1000},
                "tolerance_frac": 0.1,
            },
            {
                "id": "unknown-metric",
                "kind": "model",
                "model": MODEL,
                "expect": {"bogus_metric": 1.0},
            },
        ],
    )
    report = to_json(run_cases(path))
    assert [c["status"] for c in report["cases"]] == ["pass", "fail", "unsupported"]
    assert report["summary"] == {"pass": 1, "fail": 1, "unsupported": 1, "error": 0}
    metric = report["cases"][1]["metrics"]["kv_cache_bytes_per_token"]
    assert metric["predicted"] == 516096 and metric["rel_error"] == pytest.approx(515.096)


def test_malformed_case_is_an_error_naming_file_and_case(tmp_path):
    """A case whose tables do not resolve is bad input, not a result (issue 15)."""
    case = {"id": "bad", "kind": "model", "model": {"catalog_id": "nope"}, "expect": {"x": 1}}
    path = write(tmp_path, [case])
    with pytest.raises(CatalogError, match=r"cases\.yaml: case bad: model: unknown model 'nope'"):
        run_cases(path)


def test_model_error_is_recorded_not_raised(tmp_path, monkeypatch):
    def infeasible(case):
        raise InfeasiblePlan("no plan fits")

    monkeypatch.setattr(runner, "predict_case", infeasible)
    path = write(tmp_path, [{"id": "c", "kind": "model", "model": MODEL, "expect": {"x": 1}}])
    (result,) = run_cases(path)
    assert result.status == "error" and "no plan fits" in result.message


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"expect": {"x": float("nan")}}, "expect.x: nan is not a finite number"),
        ({"expect": {"x": "big"}}, "expect.x: expected a number, got 'big'"),
        ({"expect": {"x": None}}, "expect.x"),
        ({"expect": {}}, "expect"),
        ({"tolerance_frac": -0.1}, "tolerance_frac"),
        ({"tolerance_frac": True}, "tolerance_frac: expected a number, got true"),
        ({"hardware": [1]}, "hardware"),
        ({"typo": 1}, "typo: unknown field"),
    ],
)
def test_case_head_checked(tmp_path, change, message):
    case = {"id": "c", "kind": "model", "model": MODEL, "expect": {"x": 1}, **change}
    with pytest.raises(ConfigError, match="case c: " + re.escape(message)):
        load_cases(write(tmp_path, [case]))


def test_schema_and_kind_checked(tmp_path):
    with pytest.raises(ConfigError, match="schema must be"):
        load_cases(write(tmp_path, [], schema="other/2"))
    with pytest.raises(ConfigError, match="case x: kind: Input should be 'model'"):
        load_cases(write(tmp_path, [{"id": "x", "kind": "weather", "expect": {}}]))
    with pytest.raises(ConfigError, match="--kind"):
        run_cases(None, kind="weather")


def test_every_shipped_case_is_reported():
    cases = load_cases()
    results = run_cases()
    assert [r.id for r in results] == [c["id"] for c in cases]
    for r in results:
        assert r.status in ("pass", "fail", "unsupported", "error")
        assert {m.key for m in r.metrics} == set(
            next(c for c in cases if c["id"] == r.id)["expect"]
        )


@pytest.mark.parametrize("name", ["public.yaml", "calculon-t5.yaml"])
def test_shipped_copy_matches_shared_file(name):
    from pathlib import Path

    from scalelab.validate.runner import default_cases_path

    shared = Path(__file__).resolve().parents[3] / "shared" / "validation" / name
    if not shared.is_file():
        pytest.skip("shared/ not beside the checkout")
    assert default_cases_path(name).read_bytes() == shared.read_bytes()


def test_both_shipped_files_run_by_default():
    from scalelab.validate.runner import DEFAULT_CASE_FILES

    assert DEFAULT_CASE_FILES[:2] == ("public.yaml", "calculon-t5.yaml")
    results = run_cases(kind="train")
    assert {"public.yaml", "calculon-t5.yaml"} <= {r.file for r in results}
    assert sum(r.id.startswith("korthikanti22-t5-") for r in results) == 8
