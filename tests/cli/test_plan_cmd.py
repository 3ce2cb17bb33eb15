"""`scalelab plan`: JSON fields, tables, --require-fit, one-line errors, hardware choice."""

from __future__ import annotations

import json


def test_plan_json(cli):
    code, out, err = cli(
        "plan",
        "--model",
        "llama-3.1-8b",
        "--cluster",
        "h100x64",
        "--batch-tokens",
        "4Mi",
        "--seq",
        "8192",
        "--train-tokens",
        "1T",
        "--top",
        "3",
        "--json",
    )
    assert code == 0, err
    data = json.loads(out)["results"]
    for key in ("plans", "num_evaluated", "num_rejected_by_reason", "search_s", "pareto"):
        assert key in data
    assert 1 <= len(data["plans"]) <= 3
    first = data["plans"][0]
    assert (
        first["plan"]["dp"] * first["plan"]["tp"] * first["plan"]["pp"] * first["plan"]["cp"] == 64
    )
    assert first["fits_in_memory"] and first["step_time_s"] > 0 and first["cost_usd"] > 0
    # "4Mi" tokens of 8192 = 512 sequences (binary, as in Llama 3's "16M" = 2^24)
    assert (
        first["step_time_s"] * first["tokens_per_s"] == 512 * 8192
        or abs(first["step_time_s"] * first["tokens_per_s"] - 512 * 8192) < 1e-3
    )


def test_plan_table(cli):
    code, out, err = cli(
        "plan",
        "--model",
        "llama-3.1-8b",
        "--cluster",
        "h100x16",
        "--global-batch",
        "256",
        "--seq",
        "4096",
    )
    assert code == 0, err
    assert "Best plans by time" in out and "winner" in out


def test_nothing_fits(cli):
    args = ("plan", "--model", "deepseek-v3", "--cluster", "h800x64", "--global-batch", "1024")
    code, out, err = cli(*args)
    assert code == 0 and "no plan fits: smallest memory shortfall" in err
    code, out, err = cli(*args, "--require-fit")
    assert code == 1 and "no plan fits" in err and len(err.strip().splitlines()) <= 2


def test_bad_inputs_are_one_line(cli):
    for args in (("--global-batch", "x1"), ("--global-batch", "64", "--batch-tokens", "1M"), ()):
        code, out, err = cli("plan", "--model", "llama-3.1-8b", "--cluster", "h100x16", *args)
        assert code == 1 and err.strip() and "Traceback" not in err
    code, _, err = cli(
        "plan",
        "--model",
        "llama-3.1-8b",
        "--cluster",
        "h100x16",
        "--global-batch",
        "64",
        "--objective",
        "speed",
    )
    assert code == 1 and "--objective" in err


def test_hardware_choice(cli):
    code, out, err = cli(
        "plan",
        "--model",
        "llama-3.1-8b",
        "--hardware",
        "h100,a100",
        "--global-batch",
        "512",
        "--seq",
        "4096",
        "--train-tokens",
        "1T",
        "--deadline-days",
        "60",
        "--json",
    )
    assert code == 0, err
    data = json.loads(out)["results"]
    assert data["answer"] is None or data["answer"]["accelerator"] in (
        "h100-sxm5-80gb",
        "a100-sxm4-80gb",
    )


def _plan_json(cli, *args):
    code, out, err = cli("plan", "--model", "llama-3.1-8b", "--seq", "4096", *args, "--json")
    assert code == 0, err
    return json.loads(out)["results"]


def test_counts_add_up_and_tied_plans_share_a_rank(cli):
    data = _plan_json(cli, "--cluster", "h100x64", "--batch-tokens", "4Mi", "--top", "10")
    rejected = sum(data["num_rejected_by_reason"].values())
    assert data["num_candidates"] == data["num_evaluated"] + rejected
    over = data["num_rejected_after_evaluation"].get("memory", 0)
    assert data["num_evaluated"] == data["num_fitting"] + over
    keys = [(p["step_time_s"], p["memory_per_device_bytes"], p["cost_usd"]) for p in data["plans"]]
    assert len(set(keys)) == len(keys)  # no two rows with the same time, memory and cost
    for p in data["plans"]:
        assert p["near_memory_limit"] == (p["memory_per_device_bytes"] > 0.9 * p["hbm_bytes"])


def test_a_tpu_pod_is_planned_as_one_ici_torus(cli):
    data = _plan_json(cli, "--cluster", "tpu-v5px256", "--batch-tokens", "2Mi", "--top", "2")
    assert data["plans"] and data["plans"][0]["fits_in_memory"]
    assert data["plans"][0]["hbm_bytes"] == 95 * 2**30


def test_hardware_any_includes_tpu_pods(cli):
    data = _plan_json(
        cli,
        "--hardware",
        "any",
        "--batch-tokens",
        "4Mi",
        "--train-tokens",
        "1T",
        "--objective",
        "cost",
    )
    accelerators = {o["accelerator"] for o in data["options"]}
    assert {"tpu-v5p", "tpu-v4"} <= accelerators and "h100-sxm5-80gb" in accelerators
    assert all("tpu" not in s for s in data["skipped"])  # every TPU pod size can be built
