"""Fuzz of every `scalelab` command, option and input file kind (issue 15), in-process through the
console entry point: exit code 0 or 1, never a traceback, never a hang, an impossible value never
accepted, and an error caused by a file's content names the file.

The example set is fixed (derandomized) so CI runs the same few thousand examples every time:
SCALELAB_FUZZ_SCALE multiplies the budget, SCALELAB_FUZZ_SEED explores other examples,
SCALELAB_FUZZ_SURVEY=FILE.jsonl records every failure instead of stopping at the first (to count
them), SCALELAB_FUZZ_TIMEOUT_S bounds one example (default 60 s; beyond it is a hang)."""

from __future__ import annotations

import json
import os
import resource
import tempfile
import time
from pathlib import Path

import pytest
from fuzz_commands import COMMANDS, Command, cases
from fuzz_harness import Case, Outcome, invoke, invoke_fresh, judge, materialize
from hypothesis import HealthCheck, Phase, given, seed, settings

SCALE = float(os.environ.get("SCALELAB_FUZZ_SCALE", "1"))
SEED = os.environ.get("SCALELAB_FUZZ_SEED")
SURVEY = os.environ.get("SCALELAB_FUZZ_SURVEY")
TIMEOUT_S = float(os.environ.get("SCALELAB_FUZZ_TIMEOUT_S", "60"))
VALID_RUN_TIMEOUT_S = max(TIMEOUT_S, 300.0)  # a whole report on a loaded 2-core machine


def leaf_commands() -> dict[str, tuple[set[str], set[str]]]:
    """Every command `scalelab --help` reaches: path -> (option names, positional names)."""
    import typer.main

    from scalelab.cli.main import app

    found: dict[str, tuple[set[str], set[str]]] = {}

    def walk(command: object, path: list[str]) -> None:
        children = getattr(command, "commands", None)
        if children:
            for name, child in children.items():
                walk(child, [*path, name])
            return
        options, positionals = set(), set()
        for param in getattr(command, "params", []):
            opts = getattr(param, "opts", [])
            if opts and opts[0].startswith("-"):
                options.update(opts)
            else:
                positionals.add(param.name.upper())
        found[" ".join(path)] = (options, positionals)

    walk(typer.main.get_command(app), [])
    return found


def test_every_command_is_fuzzed():
    """A command without a fuzz entry (e.g. one that landed later) is listed here."""
    uncovered = sorted(set(leaf_commands()) - set(COMMANDS))
    assert not uncovered, (
        f"commands without a fuzz strategy in tests/fuzz/fuzz_commands.py: {uncovered}"
    )
    stale = sorted(set(COMMANDS) - set(leaf_commands()))
    assert not stale, f"fuzz entries for commands that no longer exist: {stale}"


def test_every_option_is_fuzzed():
    """Every option and positional argument of every command has values in its fuzz entry."""
    missing = []
    for path, (options, positionals) in leaf_commands().items():
        if path not in COMMANDS:
            continue
        names = {a.name for a in COMMANDS[path].args}
        for opt in options:
            if opt not in names and not (_aliases(path, opt) & names):
                missing.append(f"{path} {opt}")
        missing += [f"{path} {p}" for p in sorted(positionals - names)]
    assert not missing, f"options/arguments the fuzz never sets: {sorted(missing)}"


def _aliases(path: str, opt: str) -> set[str]:
    """Other names of the same option (e.g. whatif --baseline / --cluster)."""
    import typer.main

    from scalelab.cli.main import app

    command = typer.main.get_command(app)
    for part in path.split():
        command = command.commands[part]  # type: ignore[attr-defined]
    for param in command.params:  # type: ignore[attr-defined]
        if opt in getattr(param, "opts", []):
            return set(param.opts)
    return set()


# Imported once here so each forked example finds them loaded (importing runs no torch op, so
# no thread pool exists yet when the examples fork).
PRELOAD = (
    "scalelab.cli.main",
    "torch",
    "safetensors.torch",
    "sklearn.linear_model",
    "scalelab.report.builder",
    "scalelab.lab.lm",
    "scalelab.lab.parallel.config",
    "scalelab.lab.experiments.gradient_flow",
    "scalelab.lab.experiments.overfitting",
    "scalelab.lab.plots",
    "scalelab.compress.workflow",
    "scalelab.compress.bench",
    "scalelab.compress.quantize_torch",
    "scalelab.compress.quantize_ort",
    "onnxruntime",
    "torch._dynamo",
    "torch.onnx",
    "scalelab.data.datasets",
    "scalelab.data.augment",
    "scalelab.data.audit",
    "scalelab.data.selftrain",
    "scalelab.data.experiment",
)


@pytest.fixture(scope="session")
def fuzz_resources(tmp_path_factory) -> dict[str, Path]:
    """A tiny compress checkpoint and its int8 variant, for the checkpoint readers."""
    import importlib

    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            continue
    from scalelab.core import catalog

    for kind in catalog.KINDS:  # parsed once here, not in every example
        for catalog_id in catalog.list_ids(kind):
            catalog.load_raw(kind, catalog_id)
    folder = tmp_path_factory.mktemp("fuzz-resources")
    ckpt, quant = folder / "ck", folder / "q.safetensors"
    tiny = ["--layers", "1", "--dim", "8", "--heads", "1", "--max-len", "4", "--vocab", "16"]
    for args in (
        ["compress", "train", "--out", str(ckpt), *tiny, "--epochs", "1"],
        ["compress", "quantize", str(ckpt), "--out", str(quant)],
    ):
        outcome = invoke(args, 300)
        assert outcome.code == 0, outcome.stderr
    return {"checkpoint": ckpt, "quantized": quant}


def _cpu_s() -> float:
    """CPU seconds of this process and of the examples it forked (reaped children)."""
    own, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _record(entry: dict[str, object]) -> None:
    with open(SURVEY, "a", encoding="utf-8") as fh:  # type: ignore[arg-type]
        fh.write(json.dumps(entry) + "\n")


def run_case(
    cmd: Command,
    case: Case,
    resources: dict[str, Path],
    timeout_s: float = TIMEOUT_S,
    fresh: bool = False,
) -> tuple[tuple[str, str] | None, Outcome]:
    """Materialize `case` in a scratch folder (also the working directory) and judge its run."""
    with tempfile.TemporaryDirectory(prefix="fuzz-") as scratch:
        folder = Path(scratch)
        args = materialize(case, folder, resources)
        old = os.getcwd()
        os.chdir(folder)
        try:
            outcome = (invoke_fresh if fresh else invoke)(args, timeout_s)
        finally:
            os.chdir(old)
        verdict = judge(case, outcome, cmd.quiet_exit)
        if SURVEY and verdict is not None:
            _record(
                {
                    "command": cmd.path,
                    "kind": verdict[0],
                    "detail": verdict[1],
                    "args": [a.replace(str(folder), "DIR") for a in args],
                    "impossible": case.impossible,
                    "files": {
                        k: v if isinstance(v, str) else repr(v) for k, v in case.files.items()
                    },
                }
            )
        return verdict, outcome


@pytest.mark.slow
@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_fuzz_command(path: str, fuzz_resources: dict[str, Path]) -> None:
    cmd = COMMANDS[path]
    examples = max(1, round(cmd.examples * SCALE))
    start, count, cpu = time.perf_counter(), [0], _cpu_s()

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=SEED is None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: a hang would repeat
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(case=cases(cmd))
    def check(case: Case) -> None:
        count[0] += 1
        verdict, _ = run_case(cmd, case, fuzz_resources)
        if not SURVEY:
            assert verdict is None, (
                f"{verdict[0]}: {verdict[1]}\n  args: {case.args}\n  impossible: {case.impossible!r}"
            )

    if SEED is not None:
        check = seed(int(SEED))(check)
    check()
    if SURVEY:
        seconds, cpu_s = time.perf_counter() - start, _cpu_s() - cpu
        _record({"command": path, "examples": count[0], "seconds": seconds, "cpu_s": cpu_s})


VALID_RUNS = [(path, case) for path, cmd in sorted(COMMANDS.items()) for case in cmd.valid_runs]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("path", "run"), VALID_RUNS, ids=[f"{p}-{i}" for i, (p, _) in enumerate(VALID_RUNS)]
)
def test_valid_tiny_runs(path: str, run: Case, fuzz_resources: dict[str, Path]) -> None:
    """The expensive commands, fuzzed above with inputs that fail fast, run once with a tiny
    valid input (user names full of markup where a name is shown): exit 0, no traceback."""
    case = Case((*path.split(), *run.args), dict(run.files), checkpoints=dict(run.checkpoints))
    verdict, outcome = run_case(
        COMMANDS[path], case, fuzz_resources, VALID_RUN_TIMEOUT_S, fresh=True
    )
    assert verdict is None and outcome.code == 0, (verdict, outcome.stderr[-800:])
