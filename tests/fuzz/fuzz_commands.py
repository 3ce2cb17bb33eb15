"""What the fuzz feeds each `scalelab` command: every positional argument and option, with values a
correct run may accept and values none may (impossible), and the input files they name.

A command that `scalelab --help` lists but COMMANDS lacks fails test_every_command_is_fuzzed, so a
command that lands later is noticed; an option a command has but its entry lacks fails
test_every_option_is_fuzzed."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import fuzz_docs as docs
from fuzz_checkpoints import checkpoint_mutations
from fuzz_harness import Case
from fuzz_values import Choice, Domain, Float, Int, cli_bad, cli_valid
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


add(
    Command(
        "report",
        (
            Arg("MODEL", None, st.sampled_from(BAD_MODELS), files=MODEL_ARG_FILES, p=0.9),
            out_arg("--out", ("{dir}/r.html",), ("{dir}", "{dir}/a-file/r.html")),
            out_arg("--results", ("{dir}/r.json",), ("{dir}", "{dir}/a-file/r.json")),
            switch("--full"),
        ),
        examples=40,
        fail_fast=True,
    )
)
add(
    Command(
        "validate",
        (
            Arg("--cases", files=named("cases.yaml", docs.case_file()), p=0.9),
            opt("--kind", Choice(docs.CASE_KINDS)),
            JSON,
            switch("--strict"),
        ),
        examples=200,
        quiet_exit=True,
    )
)
add(
    Command(
        "plan",
        (
            model_arg("--model", required=True),
            pick("--cluster", CLUSTERS, BAD_CLUSTERS, p=0.9),
            opt("--global-batch", Int(1, 2**30, 4096), p=0.7),
            pick(
                "--batch-tokens",
                ("524288", "1M", "4Mi", "2k"),
                ("1e30", "0", "-1", "nan", "x"),
                p=0.2,
            ),
            opt("--seq", TOKENS),
            pick("--train-tokens", TRAIN_TOKENS, BAD_TRAIN_TOKENS),
            opt("--objective", Choice(("time", "cost", "energy"))),
            opt("--top", Int(1, 10**4, 20)),
            switch("--fp8"),
            opt("--scale-down", Int(0, 24, 3)),
            pick(
                "--hardware",
                ("h100-sxm5-80gb", "h100-sxm5-80gb,b200"),
                ("nope", ",", "[/]"),
                p=0.15,
            ),
            opt("--deadline-days", Float(0, math.inf, lo_open=True, soft=1e4), p=0.2),
            opt("--budget-usd", Float(0, math.inf, lo_open=True, soft=1e9), p=0.2),
            switch("--require-fit"),
            PRICE,
            CO2,
            JSON,
        ),
        examples=170,
    )
)
add(
    Command(
        "plan-serve",
        (
            model_arg("--model", required=True),
            pick("--cluster", CLUSTERS[:5], BAD_CLUSTERS, required=True),
            opt("--ttft-ms", MS),
            opt("--tpot-ms", MS),
            opt("--prompt", TOKENS),
            opt("--output", TOKENS),
            pick("--dtype", SERVE_DTYPES, BAD_DTYPES),
            opt("--top", Int(1, 10**4, 20)),
            PRICE,
            JSON,
        ),
        examples=120,
    )
)
add(
    Command(
        "whatif",
        (
            model_arg(required=True),
            pick("--baseline", ("h100x8", "h800x16"), BAD_CLUSTERS),
            pick(
                "--vs",
                ("h200x8", "b200x8,h200x8", "cim", "fpga"),
                ("", ",", "nope", "h100x0"),
                required=True,
            ),
            opt("--phase", Choice(("train", "infer"))),
            pick("--train-tokens", TRAIN_TOKENS, BAD_TRAIN_TOKENS),
            opt("--global-batch", Int(1, 2**30, 2048)),
            opt("--seq", Int(1, docs.MAX_SEQ, 8192)),
            opt("--precision", Choice(("fp8", "bf16"))),
            switch("--quick"),
            opt("--prompt", TOKENS),
            opt("--output", TOKENS),
            opt("--ttft-ms", MS),
            opt("--tpot-ms", MS),
            opt("--serve-devices", Int(1, docs.MAX_DEVICES, 16)),
            PRICE,
            CO2,
            JSON,
        ),
        examples=100,
        fixed=("--quick",),
    )
)
add(
    Command(
        "network",
        (
            pick("TOPOLOGY", TOPOLOGY_NAMES, ("nope", "", "[bold]"), required=True),
            opt("--radix", RADIX),
            opt("--planes", PLANES),
            opt("--link-gbit", LINK_GBIT),
            switch("--prime-power-only"),
            JSON,
        ),
        examples=100,
    )
)
add(
    Command(
        "place",
        (
            model_arg(required=True),
            Arg("--devices", files=named("devices.toml", docs.devices_file()), required=True),
            opt("--phase", Choice(("decode", "prefill"))),
            opt("--batch-size", Int(1, 2**30, 256)),
            opt("--context", TOKENS),
            opt("--prompt", TOKENS),
            pick("--weight-dtype", SERVE_DTYPES, BAD_DTYPES),
            JSON,
        ),
        examples=120,
    )
)
add(
    Command(
        "train",
        (
            Arg("RUN_FILE", files=named("run.toml", docs.run_file()), required=True),
            switch("--resume"),
            opt("--steps", Int(1, 10**9, 3), only_bad=True),
            pick("--out", ("{dir}/o",), ()),
            opt("--stop-after", Int(1, 10**9, 2), only_bad=True),
            opt("--nproc", Int(1, 256, 2), only_bad=True),
            opt("--max-restarts", Int(0, 100, 1), only_bad=True),
            pick("--hardware", (), ("{dir}/missing.toml", "{dir}"), only_bad=True),
            JSON,
        ),
        examples=60,
        fail_fast=True,
        valid_runs=(Case(("{dir}/run.toml", "--json"), {"run.toml": docs.to_toml(docs.RUN)}),),
    )
)
add(
    Command(
        "calibrate",
        (
            opt("--device", Choice(("auto", "cpu")), only_bad=True),
            opt("--nproc", Int(1, 256, 2), only_bad=True),
            out_arg("--out", ("{dir}/p.toml",), ("{dir}",), only_bad=True),
            switch("--quick"),
            JSON,
        ),
        examples=25,
        fail_fast=True,
        valid_runs=(Case(("--quick", "--device", "cpu", "--nproc", "1", "--out", "{dir}/p.toml")),),
    )
)
add(
    Command(
        "serve",
        (
            pick("--host", ("127.0.0.1", "localhost"), ("[bold]", "a b", "", "x" * 300)),
            pick("--port", ("0",), ("-1", "65536", "http", "1.5")),
            opt("--workers", Int(1, 64, 4)),
            switch("--check"),
        ),
        examples=40,
        fixed=("--check",),  # without it a valid run serves until Ctrl+C
        valid_runs=(Case(("--check", "--port", "0", "--workers", "1")),),
    )
)
add(Command("claims", (JSON,), examples=2))
add(Command("model list", (JSON,), examples=5))
add(Command("model show", (model_arg(required=True), JSON), examples=150))
add(
    Command(
        "model import",
        (
            Arg("CONFIG", files=named("config.json", docs.hf_config_file()), required=True),
            out_arg("--out", ("{dir}/m.toml",), ("{dir}",)),
            JSON,
        ),
        examples=150,
    )
)
add(Command("hardware list", (JSON,), examples=5))
add(
    Command(
        "hardware show",
        (
            pick(
                "HW_ID",
                (*docs.ACCELERATORS, "nvlink4", "ib-ndr"),
                ("nope", "../x", "", "[/]"),
                required=True,
            ),
            JSON,
        ),
        examples=40,
    )
)
add(
    Command(
        "predict train",
        (
            Arg(
                "SCENARIO", files=named("scenario.toml", docs.scenario_file("train")), required=True
            ),
            pick(
                "--hardware",
                ("h200-sxm-141gb", "b200"),
                ("nope", "[bold]", "{dir}/missing.toml"),
                p=0.2,
            ),
            PRICE,
            CO2,
            JSON,
        ),
        examples=250,
    )
)
add(
    Command(
        "predict infer",
        (
            Arg(
                "SCENARIO", files=named("scenario.toml", docs.scenario_file("infer")), required=True
            ),
            opt("--ttft-ms", MS, p=0.2),
            opt("--tpot-ms", MS, p=0.2),
            PRICE,
            JSON,
        ),
        examples=250,
    )
)
DIAG_COMMON = (opt("--steps", Int(1, 10**6, 2)), switch("--json"))
add(
    Command(
        "diagnose gradient-flow",
        (
            opt("--depth", Int(2, 1024, 4)),
            opt("--residual", Choice(("on", "off"))),
            opt("--norm", Choice(("pre", "post", "none"))),
            opt("--activation", Choice(("tanh", "relu", "gelu", "sigmoid", "silu"))),
            opt("--init", Choice(("default", "xavier", "kaiming", "normal"))),
            opt("--model", Choice(("mlp", "transformer"))),
            opt("--width", Int(1, 4096, 8)),
            *DIAG_COMMON,
            opt("--every", Int(1, 10**6, 1)),
            SEED,
            switch("--compare"),
            out_arg("--plot", ("{dir}/p.png",), PNG_BAD),
        ),
        examples=60,
        fail_fast=True,
        valid_runs=(
            Case(("--depth", "2", "--width", "4", "--steps", "1", "--plot", "{dir}/g.png")),
        ),
    )
)
add(
    Command(
        "diagnose overfitting",
        (
            opt("--dataset", Choice(("digits",))),
            opt("--seeds", Int(1, 100, 1)),
            opt("--num-train", Int(1, 10**6, 10)),
            *DIAG_COMMON,
            opt("--dropout", Float(0, 0.99)),
            opt("--weight-decay", Float(0, math.inf, soft=1e3)),
            opt("--l2", Float(0, math.inf, soft=1e3)),
            out_arg("--plot", ("{dir}/p.png",), PNG_BAD),
        ),
        examples=60,
        fail_fast=True,
        valid_runs=(
            Case(("--seeds", "1", "--num-train", "10", "--steps", "1", "--plot", "{dir}/o.png")),
        ),
    )
)
add(
    Command(
        "data augment",
        (
            Arg("IN_FILE", files=DATA_IN, p=0.9),
            out_arg(
                "--out",
                ("{dir}/o.csv", "{dir}/o.jsonl", "{dir}/o.tsv"),
                DATA_OUT_BAD,
                required=True,
            ),
            opt("--method", Choice(("synonym", "eda"))),
            opt("--per-example", Int(1, 1000, 2)),
            SEED,
            pick("--dataset", (), DATASET_BAD, only_bad=True),
            TEXT_COL,
            LABEL_COL,
            switch("--only-new"),
            pick("--mt-model", (), ("x", "{dir}/a,{dir}/b"), only_bad=True),
            JSON,
        ),
        examples=60,
    )
)
add(
    Command(
        "data self-train",
        (
            Arg("IN_FILE", files=DATA_IN, p=0.9),
            pick("--dataset", (), DATASET_BAD, only_bad=True),
            opt("--labels-per-class", Int(1, 10**6, 5), p=0.1),
            opt("--threshold", Float(0, 1)),
            opt("--rounds", Int(1, 100, 3)),
            opt("--pool", Int(1, 10**7, 100)),
            SEED,
            out_arg("--out", ("{dir}/o.csv",), DATA_OUT_BAD),
            TEXT_COL,
            LABEL_COL,
            JSON,
        ),
        examples=80,
    )
)
add(
    Command(
        "data experiment",
        (
            pick("KIND", ("augmentation", "self-training"), ("nope", ""), required=True),
            pick("--dataset", ("tweets",), DATASET_BAD),
            pick("--labels-per-class", ("10,20",), ("0", "-1", "a", "", "10,,x", "1e30")),
            opt("--seeds", Int(2, 100, 3)),
            pick("--techniques", ("synonym,eda", "eda"), ("nope", "", ",")),
            opt("--per-example", Int(1, 1000, 2)),
            opt("--test-size", Int(10, 10**6, 100)),
            out_arg("--plot", ("{dir}/p.png",), PNG_BAD),
            pick("--mt-model", (), ("x",), only_bad=True),
            JSON,
        ),
        examples=50,
        fail_fast=True,
        valid_runs=(
            Case(
                (
                    "augmentation",
                    "--seeds",
                    "2",
                    "--labels-per-class",
                    "10",
                    "--techniques",
                    "eda",
                    "--test-size",
                    "20",
                    "--per-example",
                    "1",
                    "--plot",
                    "{dir}/e.png",
                )
            ),
        ),
    )
)
add(
    Command(
        "data audit",
        (
            Arg("IN_FILE", files=DATA_IN, p=0.9),
            pick("--dataset", (), DATASET_BAD, only_bad=True),
            TEXT_COL,
            LABEL_COL,
            pick("--group-col", ("label",), ("nope",)),
            opt("--test-frac", Float(0, 1, lo_open=True, hi_open=True)),
            SEED,
            pick("--engine", ("local",), ("spark", "")),
            opt("--workers", Int(1, 256, 2)),
            pick("--scheduler", ("tcp://127.0.0.1:1",), ()),
            JSON,
        ),
        examples=80,
    )
)
add(
    Command(
        "data need",
        (
            pick(
                "--params",
                ("1B", "7e9", "70B", "100M"),
                ("0", "-1", "nan", "inf", "abc", "1e40"),
                p=0.6,
            ),
            model_arg("--model", p=0.4),
            opt("--bytes-per-token", Float(0, 100, lo_open=True)),
            pick("--cluster", CLUSTERS, BAD_CLUSTERS),
            JSON,
        ),
        examples=80,
    )
)
COMPRESS_TRAIN = (
    opt("--epochs", Int(1, 10**4, 1)),
    opt("--batch", Int(1, 2**20, 8)),
    opt("--lr", Float(0, 10)),
    opt("--threads", Int(1, 1024, 1)),
)
add(
    Command(
        "compress train",
        (
            out_arg("--out", ("{dir}/ck",), ("{dir}/a-file/ck", "{dir}/a-file"), required=True),
            pick("--dataset", ("bbc",), DATASET_BAD),
            opt("--layers", Int(1, 64, 1)),
            opt("--dim", Int(8, 4096, 8)),
            opt("--heads", Int(1, 64, 1)),
            opt("--max-len", Int(2, 8192, 4)),
            opt("--vocab", Int(16, 10**6, 16)),
            *COMPRESS_TRAIN,
            SEED,
            JSON,
        ),
        examples=50,
        fail_fast=True,
        valid_runs=(
            Case(
                (
                    "--out",
                    "{dir}/ck",
                    "--layers",
                    "1",
                    "--dim",
                    "8",
                    "--heads",
                    "1",
                    "--max-len",
                    "4",
                    "--vocab",
                    "16",
                    "--epochs",
                    "1",
                    "--json",
                )
            ),
        ),
    )
)
add(
    Command(
        "compress distill",
        (
            Arg("--teacher", None, st.sampled_from(BAD_CKPT_PATHS), checkpoint=True, required=True),
            opt("--student-layers", Int(1, 64, 1)),
            opt("--student-dim", Int(8, 4096, 8)),
            opt("--student-heads", Int(1, 64, 1)),
            out_arg("--out", ("{dir}/st",), ("{dir}/a-file/st", "{dir}/a-file"), required=True),
            opt("--seeds", Int(1, 100, 1)),
            opt("--temperature", Float(0.01, 1e3)),
            opt("--alpha", Float(0, 1)),
            opt("--hidden-weight", Float(0, 1e3)),
            *COMPRESS_TRAIN,
            JSON,
        ),
        examples=50,
        fail_fast=True,
        valid_runs=(
            Case(
                (
                    "--teacher",
                    "{dir}/ck0",
                    "--out",
                    "{dir}/st",
                    "--student-layers",
                    "1",
                    "--student-dim",
                    "8",
                    "--student-heads",
                    "1",
                    "--seeds",
                    "1",
                    "--epochs",
                    "1",
                ),
                checkpoints={"ck0": ("intact",)},
            ),
        ),
    )
)
add(
    Command(
        "compress quantize",
        (
            Arg("CKPT", None, st.sampled_from(BAD_CKPT_PATHS), checkpoint=True, required=True),
            pick("--method", ("int8-dynamic", "int4-weight"), ("int3", "", "[bold]")),
            pick("--backend", ("torch",), ("tf", "")),
            opt("--calib", Int(1, 10**6, 8)),
            out_arg("--out", ("{dir}/q.safetensors",), ("{dir}",)),
            JSON,
        ),
        examples=60,
    )
)
add(
    Command(
        "compress export",
        (
            Arg("CKPT", None, st.sampled_from(BAD_CKPT_PATHS), checkpoint=True, required=True),
            out_arg("--out", ("{dir}/m.onnx",), ("{dir}", "{dir}/m.txt"), required=True),
            opt("--check", Int(1, 10**6, 4)),
            JSON,
        ),
        examples=40,
        fail_fast=True,
        valid_runs=(
            Case(
                ("{dir}/ck0", "--out", "{dir}/m.onnx", "--check", "4"),
                checkpoints={"ck0": ("intact",)},
            ),
        ),
    )
)
add(
    Command(
        "compress bench",
        (
            Arg("MODELS", None, st.sampled_from(BAD_CKPT_PATHS), checkpoint=True, required=True),
            opt("--threads", Int(1, 1024, 1)),
            opt("--repeats", Int(3, 10**4, 3)),
            pick("--dataset", ("bbc",), DATASET_BAD),
            JSON,
        ),
        examples=40,
    )
)


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
