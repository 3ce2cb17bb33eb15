"""`scalelab plan-serve`: a table or JSON of deployments; unreachable targets and bad input are one line
naming the problem, exit code 1."""

import json


def test_plan_serve_json_meets_targets(cli):
    code, out, err = cli(
        "plan-serve",
        "--model",
        "llama-3.1-70b",
        "--cluster",
        "h200x16",
        "--ttft-ms",
        "500",
        "--tpot-ms",
        "30",
        "--json",
    )
    assert code == 0, err
    data = json.loads(out)["results"]
    best = data["best"]
    assert best["ttft_s"] <= 0.5 and best["tpot_s"] <= 0.03
    assert data["options"][0] == best
    assert len(data["pareto"]) >= 3


def test_plan_serve_table(cli):
    code, out, _ = cli(
        "plan-serve", "--model", "llama-3.1-8b", "--cluster", "h200x1", "--tpot-ms", "20"
    )
    assert code == 0
    assert "cheapest first" in out and "Pareto" in out


def test_unreachable_tpot_is_one_line_with_best_value(cli):
    code, out, err = cli(
        "plan-serve", "--model", "llama-3.1-70b", "--cluster", "h200x8", "--tpot-ms", "0.1"
    )
    assert code == 1
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert "TPOT target 0.1 ms cannot be met" in lines[0] and "best achievable TPOT is" in lines[0]


def test_unreachable_ttft_is_named(cli):
    code, _, err = cli(
        "plan-serve",
        "--model",
        "llama-3.1-70b",
        "--cluster",
        "h200x8",
        "--ttft-ms",
        "0.5",
        "--prompt",
        "32768",
    )
    assert code == 1 and "TTFT target 0.5 ms cannot be met" in err and "best achievable TTFT" in err


def test_bad_inputs_are_one_line_errors(cli):
    for args in (
        ["--model", "no-such-model", "--cluster", "h200x8"],
        ["--model", "llama-3.1-8b", "--cluster", "h200x8", "--dtype", "fp7"],
        ["--model", "llama-3.1-8b", "--cluster", "h200x8", "--tpot-ms", "-3"],
        ["--model", "llama-3.1-8b", "--cluster", "nonsense"],
    ):
        code, _, err = cli("plan-serve", *args)
        assert code == 1, args
        assert len(err.strip().splitlines()) == 1, (args, err)
        assert "Traceback" not in err
