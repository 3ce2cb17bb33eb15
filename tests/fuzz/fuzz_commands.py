"""What the fuzz feeds each `scalelab` command: every positional argument and option, with values a
correct run may accept and values none may (impossible), and the input files they name.

A command that `scalelab --help` lists but COMMANDS lacks fails test_every_command_is_fuzzed, so a
command that lands later is noticed; an option a command has but its entry lacks fails
test_every_option_is_fuzzed. The lab, data and compress commands are in fuzz_commands_lab.py;
importing this module registers both."""

from __future__ import annotations

import math

import fuzz_docs as docs
from fuzz_args import (
    BAD_CLUSTERS,
    BAD_DTYPES,
    BAD_MODELS,
    BAD_TRAIN_TOKENS,
    CLUSTERS,
    CO2,
    COMMANDS,
    JSON,
    LINK_GBIT,
    MODEL_ARG_FILES,
    MS,
    PLANES,
    PRICE,
    RADIX,
    SERVE_DTYPES,
    TOKENS,
    TOPOLOGY_NAMES,
    TRAIN_TOKENS,
    Arg,
    Case,
    Command,
    add,
    cases,
    model_arg,
    named,
    opt,
    out_arg,
    pick,
    switch,
)
from fuzz_values import Choice, Float, Int
from hypothesis import strategies as st

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

import fuzz_commands_lab  # noqa: E402, F401  (registers the lab, data and compress commands)

__all__ = ["COMMANDS", "Command", "cases"]
