"""The Python API: docs/api.md runs as written, `import scalelab` is lazy and torch-free, every
entry point returns a Result whose to_dict() is the command's --json results."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

import scalelab as sl

ROOT = Path(__file__).resolve().parents[1]
TIMINGS = {"search_s", "elapsed_s"}  # wall-clock fields differ between two runs


def _blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(), re.S)


def test_the_walkthrough_in_docs_api_runs(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)  # it reads examples/ as a user in the repository would
    blocks = _blocks(ROOT / "docs" / "api.md")
    assert len(blocks) >= 8
    namespace: dict[str, object] = {}
    for i, block in enumerate(blocks):
        exec(compile(block, f"docs/api.md block {i + 1}", "exec"), namespace)  # our own docs
    out = capsys.readouterr().out
    assert "nearest valid" in out and "--global-batch 1953" in out  # the 16M error is shown
    assert "DeepSeek-V3 on 2,048 H800" in out


def test_import_is_lazy_and_never_imports_torch():
    code = (
        "import sys, scalelab as sl\n"
        "assert 'numpy' not in sys.modules and 'pydantic' not in sys.modules, 'eager import'\n"
        "m = sl.model('llama-3.1-8b')\n"
        "sl.plan_train(m, 'h100x8', sl.workload(global_batch=64, seq_len=4096), top=1)\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_every_public_name_resolves_and_is_documented():
    for name in sl.__all__:
        value = getattr(sl, name)
        if callable(value):
            assert (value.__doc__ or "").strip(), f"sl.{name} has no docstring"
    text = (ROOT / "docs" / "api.md").read_text()
    for name in sl.__all__:
        if name != "__version__":
            assert f"`{name}`" in text, f"docs/api.md does not mention sl.{name}"
    with pytest.raises(AttributeError, match="no attribute 'plan_everything'"):
        sl.plan_everything  # noqa: B018


def test_entry_points_keep_their_names_after_the_subpackages_load():
    import scalelab.plan.search  # noqa: F401
    import scalelab.validate.runner  # noqa: F401

    assert callable(sl.plan_train) and callable(sl.validate_cases)
    assert sl.plan.search.search_train is not None  # the subpackage is still reachable


def _results(cli, *args: str) -> dict:
    code, out, err = cli(*args, "--json")
    assert code == 0, err
    return json.loads(out)["results"]


def _finite(value: object) -> object:
    """As the CLI writes JSON: NaN and inf become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _same(api_dict: dict, cli_results: dict) -> None:
    a = json.loads(json.dumps(_finite(api_dict), default=str))
    for key in TIMINGS:
        a.pop(key, None)
        cli_results.pop(key, None)
    assert a == cli_results


def test_plan_train_to_dict_is_the_plan_commands_json(cli):
    w = sl.workload(batch_tokens="4Mi", seq_len=8192, train_tokens="1T")
    api = sl.plan_train("llama-3.1-8b", "h100x64", w, top=3).to_dict()
    args = ("--model", "llama-3.1-8b", "--cluster", "h100x64", "--batch-tokens", "4Mi")
    _same(api, _results(cli, "plan", *args, "--seq", "8192", "--train-tokens", "1T", "--top", "3"))


def test_predict_train_and_infer_to_dict_are_the_predict_commands_json(cli):
    path = str(ROOT / "examples" / "llama3-405b-train.toml")
    _same(sl.predict_train(sl.scenario(path)).to_dict(), _results(cli, "predict", "train", path))
    path = str(ROOT / "examples" / "llama3-70b-serve.toml")
    api = sl.predict_inference(sl.scenario(path, "infer")).to_dict()
    _same(api, _results(cli, "predict", "infer", path))


def test_whatif_and_validate_to_dict_are_their_commands_json(cli):
    small = sl.workload(global_batch=512, seq_len=4096, train_tokens="1T")
    api = sl.whatif("llama-3.1-8b", "h100x64", ["b200x64"], train=small, quick=True)
    args = ("whatif", "llama-3.1-8b", "--baseline", "h100x64", "--vs", "b200x64", "--quick",
            "--precision", "bf16")  # fmt: skip
    cli_results = _results(cli, *args, "--global-batch", "512", "--seq", "4096",
                           "--train-tokens", "1T")  # fmt: skip
    _same(api.to_dict(), cli_results)
    _same(sl.validate_cases(kind="model").to_dict(), _results(cli, "validate", "--kind", "model"))


def test_site_overrides_match_the_flags(cli):
    w = sl.workload(global_batch=256, seq_len=4096, train_tokens="100B")
    c = sl.cluster("h100x16", price_usd_per_hour=3.0, grid_co2_kg_per_kwh=0.1)
    api = sl.plan_train("llama-3.1-8b", c, w, top=1).to_dict()
    flags = ("--price-usd-per-hour", "3", "--co2-kg-per-kwh", "0.1")
    args = ("plan", "--model", "llama-3.1-8b", "--cluster", "h100x16", "--global-batch", "256")
    cli_results = _results(cli, *args, "--train-tokens", "100B", "--top", "1", *flags)
    _same(api, cli_results)
    best = cli_results["plans"][0]
    assert best["cost_usd"] == pytest.approx(best["device_hours"] * 3.0, rel=1e-9)
    assert best["co2_kg"] == pytest.approx(best["energy_kwh"] * 0.1, rel=1e-9)


@pytest.mark.parametrize(
    ("call", "flag"),
    [
        (lambda: sl.workload(batch_tokens="63M", seq_len=4096), "batch_tokens"),
        (lambda: sl.workload(seq_len=4096), "global_batch or batch_tokens"),
        (lambda: sl.model("no-such-model"), "no-such-model"),
        (lambda: sl.cluster("h100x12"), "devices_per_node"),
        (lambda: sl.cluster("h100x8", price_usd_per_hour="h100=-1"), "price_usd_per_hour"),
        (lambda: sl.parallel_plan(tp=0), "tp"),
        (lambda: sl.scenario("examples/llama3-70b-tp8.toml", phase="serve"), "phase"),
    ],
)
def test_bad_input_is_one_line_scalelab_error(call, flag):
    with pytest.raises(sl.ScalelabError) as info:
        call()
    assert flag in str(info.value) and "\n" not in str(info.value)
