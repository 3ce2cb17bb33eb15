"""How the fuzz draws a command line: an argument (valid and impossible values, files it names),
a command (its arguments and example budget), the values several commands share, the registry
every command entry adds itself to, and the strategy for one case."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import fuzz_docs as docs
from fuzz_checkpoints import checkpoint_mutations
from fuzz_harness import Case
from fuzz_values import Domain, Float, Int, cli_bad, cli_valid
from hypothesis import strategies as st

S = st.SearchStrategy


@dataclass(frozen=True)
class Arg:
    """A positional argument (name without dashes) or an option of one command.

    valid/bad: strategies of values as typed (None: a switch without a value; bad None: no
    impossible value). files: (file name, FileDraw) pairs for arguments naming a file.
    only_bad: the option is given only with an impossible value (a valid one would start
    minutes of work or other processes)."""

    name: str
    valid: S[str] | None = None
    bad: S[str] | None = None
    files: S[tuple[str, docs.FileDraw]] | None = None
    required: bool = False
    p: float = 0.5
    only_bad: bool = False
    checkpoint: bool = False  # the value is a checkpoint made by the session fixture

    @property
    def is_option(self) -> bool:
        return self.name.startswith("-")

    @property
    def can_be_bad(self) -> bool:
        return self.bad is not None or self.files is not None or self.checkpoint


def opt(name: str, d: Domain, **kw: object) -> Arg:
    """An option whose values come from a domain (as typed on the command line)."""
    return Arg(name, cli_valid(d), cli_bad(d), **kw)  # type: ignore[arg-type]


def switch(name: str) -> Arg:
    return Arg(name)


def pick(name: str, valid: tuple[str, ...], bad: tuple[str, ...] = (), **kw: object) -> Arg:
    return Arg(
        name, st.sampled_from(valid) if valid else None, st.sampled_from(bad) if bad else None, **kw
    )  # type: ignore[arg-type]


def named(name: str, strategy: S[docs.FileDraw]) -> S[tuple[str, docs.FileDraw]]:
    return strategy.map(lambda f: (name, f))


@dataclass(frozen=True)
class Command:
    path: str
    args: tuple[Arg, ...]
    examples: int
    fail_fast: bool = False  # every case holds an impossible value (a valid run is expensive)
    quiet_exit: bool = False  # exit 1 without an error line is fine (validate --strict)
    fixed: tuple[str, ...] = ()
    # tiny valid runs (arguments after the command's path, files, checkpoints): each must exit 0
    valid_runs: tuple[Case, ...] = field(default_factory=tuple)


JSON = switch("--json")
CLUSTERS = ("h100x8", "h100x16", "h800x64", "b200x8", "h200x8", "h100x512")
BAD_CLUSTERS = ("h100x0", "zzz", "x8", f"h100x{10**12}", "h100x-8", "[bold]x8")
MODEL_IDS = docs.MODELS
BAD_MODELS = ("no-such-model", "../../etc/passwd", "", "[bold]")
SERVE_DTYPES = ("bf16", "fp8", "int8", "int4")
BAD_DTYPES = ("fp64", "bogus", "", "BF16x")
TRAIN_TOKENS = ("1T", "15e12", "1e9", "2.5T")
BAD_TRAIN_TOKENS = ("inf", "nan", "-1", "0", "1e40", "abc", "")
COUNT = Int(1, 2**30, 4096)
TOKENS = Int(1, docs.MAX_SEQ, 16384)
MS = Float(0, math.inf, lo_open=True, soft=1e5)
RADIX = Int(2, 1024, 256)
PLANES = Int(1, 1024, 16)
LINK_GBIT = Float(0, 1e6, lo_open=True)
TOPOLOGY_NAMES = (*docs.TOPOLOGIES, "all", "ft2", "sf", "df", "torus", "2d-torus")

MODEL_ARG_FILES = st.one_of(
    named("m.toml", docs.model_file("toml")),
    named("m.json", docs.model_file("json")),
    named("config.json", docs.hf_config_file()),
)


def model_arg(name: str = "MODEL", **kw: object) -> Arg:
    return Arg(
        name,
        st.sampled_from(MODEL_IDS),
        st.sampled_from(BAD_MODELS),
        files=MODEL_ARG_FILES,
        **kw,  # type: ignore[arg-type]
    )


def out_arg(name: str, good: tuple[str, ...], bad: tuple[str, ...], **kw: object) -> Arg:
    """An output path: `{dir}` is the example's folder (a folder where a file is wanted is bad)."""
    return pick(name, good, bad, **kw)


DATA_IN = st.one_of(
    named("d.csv", docs.data_file("csv")), named("d.jsonl", docs.data_file("jsonl"))
)
DATA_OUT_BAD = ("{dir}", "{dir}/o.txt", "{dir}/o", "{dir}/a-file/o.csv")
DATASET_BAD = ("no-such-set", "", "../x")
TEXT_COL = pick("--text-col", ("text",), ("nope",))
LABEL_COL = pick("--label-col", ("label",), ("nope",))
PNG_BAD = ("{dir}/p.txt", "{dir}", "{dir}/p")
SEED = pick("--seed", ("0", "7", "4294967295"), ("abc", "1.5", "-1", "4294967296"))
BAD_CKPT_PATHS = ("{dir}/missing", "{dir}")

PRICE = pick(
    "--price-usd-per-hour",
    ("2.5", "h100=2.5,b200=4", "h200=3"),
    ("0", "-1", "nan", "inf", "x", "nope=2", "h100=", "h100=inf"),
    p=0.2,
)
CO2 = opt("--co2-kg-per-kwh", Float(0, 10), p=0.2)

COMMANDS: dict[str, Command] = {}


def add(cmd: Command) -> None:
    COMMANDS[cmd.path] = cmd


@st.composite
def cases(draw: st.DrawFn, cmd: Command) -> Case:
    """One command line for `cmd`: each argument present or not, valid or (for at most one
    argument) impossible; with `fail_fast`, always one impossible argument."""
    slots = [i for i, a in enumerate(cmd.args) if a.can_be_bad]
    bad_slot = None
    if slots and (cmd.fail_fast or draw(st.booleans())):
        bad_slot = draw(st.sampled_from(slots))
    argv: list[str] = list(cmd.path.split()) + list(cmd.fixed)
    files: dict[str, str | bytes] = {}
    checkpoints: dict[str, tuple[str, ...]] = {}
    reasons: list[str] = []
    file_named = ""
    for i, a in enumerate(cmd.args):
        is_bad = i == bad_slot
        if a.only_bad and not is_bad:
            continue
        if not (is_bad or a.required or draw(st.booleans() if a.p == 0.5 else _chance(a.p))):
            continue
        if a.valid is None and a.bad is None and a.files is None and not a.checkpoint:
            argv.append(a.name)  # a switch
            continue
        value, reason, fname = draw(_value(a, is_bad, files, checkpoints))
        if reason:
            reasons.append(f"{a.name} {reason}")
        file_named = file_named or fname
        argv += [f"{a.name}={value}"] if a.is_option else [value]
    if cmd.path == "validate" and any(a.startswith("--kind=") for a in argv):
        reasons = _case_heads_only(reasons)
    only_file = file_named if len(reasons) == 1 and reasons[0].endswith("[file]") else ""
    return Case(
        tuple(argv),
        files,
        "; ".join(r.removesuffix(" [file]") for r in reasons),
        only_file,
        checkpoints,
    )


# A case's tables are read when it runs; `validate --kind K` runs only the cases of kind K, while
# every case's head (id, kind, expect, tolerance) is checked when the file is read.
_TABLES = ("model", "hardware", "parallel", "workload")


def _case_heads_only(reasons: list[str]) -> list[str]:
    out = []
    for reason in reasons:
        if not reason.startswith("--cases "):
            out.append(reason)
            continue
        parts = reason.removeprefix("--cases ").removesuffix(" [file]").split("; ")
        keep = [p for p in parts if not any(f"cases.0.{t}" in p for t in _TABLES)]
        if keep:
            out.append(f"--cases {'; '.join(keep)} [file]")
    return out


def _chance(p: float) -> S[bool]:
    return st.integers(0, 99).map(lambda n: n < p * 100)


@st.composite
def _value(
    draw: st.DrawFn,
    a: Arg,
    is_bad: bool,
    files: dict[str, str | bytes],
    checkpoints: dict[str, tuple[str, ...]],
) -> tuple[str, str, str]:
    """(value, impossible reason, file name whose content alone is impossible)."""
    if a.checkpoint and (not is_bad or draw(st.booleans())):
        mutation = draw(checkpoint_mutations(must_be_bad=is_bad))
        suffix = {"quantized": ".safetensors", "quantized-flip": ".safetensors"}.get(
            mutation[0], ""
        )
        name = f"ck{len(checkpoints)}{'.onnx' if mutation[0] == 'onnx-garbage' else suffix}"
        checkpoints[name] = mutation
        reason = f"checkpoint {' '.join(mutation)} [file]" if is_bad else ""
        return "{dir}/" + name, reason, name if reason else ""
    use_file = a.files is not None and (a.valid is None or draw(st.booleans()))
    if is_bad and a.files is not None and (a.bad is None or use_file):
        fname, fd = draw(a.files.filter(lambda f: bool(f[1].impossible)))
        files[fname] = fd.content
        return "{dir}/" + fname, f"{fd.impossible} [file]", fname
    if is_bad:
        assert a.bad is not None
        value = draw(a.bad)
        return value, f"= {value!r}", ""
    if use_file:
        assert a.files is not None
        fname, fd = draw(a.files)
        files[fname] = fd.content
        if not fd.impossible:
            return "{dir}/" + fname, "", ""
        return "{dir}/" + fname, f"{fd.impossible} [file]", fname
    assert a.valid is not None
    return draw(a.valid), "", ""
