"""The fuzz entries of the lab, data and compress commands (see fuzz_commands.py)."""

from __future__ import annotations

import math

from fuzz_args import (
    BAD_CKPT_PATHS,
    BAD_CLUSTERS,
    CLUSTERS,
    DATA_IN,
    DATA_OUT_BAD,
    DATASET_BAD,
    JSON,
    LABEL_COL,
    PNG_BAD,
    SEED,
    TEXT_COL,
    Arg,
    Case,
    Command,
    add,
    model_arg,
    opt,
    out_arg,
    pick,
    switch,
)
from fuzz_values import Choice, Float, Int
from hypothesis import strategies as st

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
