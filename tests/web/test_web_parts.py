"""The web package's pieces on their own: query parsing, uploads, edits, the emerging-row copy
against plan/whatif, and the runner (cache, one computation per identical request, progress)."""

from __future__ import annotations

import asyncio
import threading

import pytest

from scalelab.core import catalog
from scalelab.plan.whatif import DEFAULT_SERVE, whatif_infer
from scalelab.plan.whatif_specs import resolve_targets
from scalelab.web import edits
from scalelab.web.inputs import (
    FieldError,
    Params,
    encode_spec,
    field_of,
    model_from_upload,
    read_cluster,
    read_model,
)
from scalelab.web.jobs import Progress, Runner
from scalelab.web.views import whatif as whatif_view

HF_LLAMA = {  # the fields of a Llama-3-8B-style config.json
    "model_type": "llama",
    "architectures": ["LlamaForCausalLM"],
    "_name_or_path": "my-llama",
    "num_hidden_layers": 32,
    "hidden_size": 4096,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "intermediate_size": 14336,
    "vocab_size": 128256,
    "hidden_act": "silu",
}


def test_params_defaults_blank_and_types():
    p = Params(
        {"seq": "8192", "ttft-ms": "", "fp8": "0"},
        {},
        {"seq": "4096", "top": "5", "ttft-ms": "2000"},
    )
    assert p.integer("seq") == 8192 and p.integer("top") == 5  # given, then default
    assert p.number("ttft-ms") is None  # present but blank: no target
    assert p.flag("fp8") is False
    with pytest.raises(FieldError) as exc:
        Params({"seq": "4k"}).integer("seq")
    assert exc.value.field == "seq" and exc.value.message == (
        "Invalid value for '--seq': Input should be a valid integer, unable to parse string as an integer"
    )
    with pytest.raises(FieldError) as exc:
        Params({"seq": "0"}).integer("seq", lo=1)
    assert (
        exc.value.message == "Invalid value for '--seq': Input should be greater than or equal to 1"
    )
    with pytest.raises(FieldError) as exc:
        Params({"ttft-ms": "nan"}).number("ttft-ms", gt=0)
    assert exc.value.message == "Invalid value for '--ttft-ms': must be a finite number, got nan"
    with pytest.raises(FieldError):
        Params({"top": "99"}).integer("top", 20)


def test_field_of_picks_the_first_flag_named():
    names = ("global-batch", "batch-tokens", "seq")
    assert (
        field_of("give exactly one of --global-batch or --batch-tokens", names, "seq")
        == "global-batch"
    )
    assert field_of("--batch-tokens: expected a number", names, "seq") == "batch-tokens"
    assert field_of("plan: seq_len: bad", names, "seq") == "seq"


def test_uploaded_model_round_trips_through_the_url():
    model = model_from_upload(HF_LLAMA)
    assert model.name == "my-llama" and model.num_layers == 32 and model.kv_heads == 8
    again, model_id = read_model(Params({"mspec": encode_spec(model)}))
    assert again == model and model_id is None


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({**HF_LLAMA, "model_type": "gpt2"}, "model_type 'gpt2' is not supported"),
        ({k: v for k, v in HF_LLAMA.items() if k != "vocab_size"}, "lacks 'vocab_size'"),
        ([1, 2], "expected a table/object"),
        (
            {
                "num_layers": 2,
                "hidden_size": 64,
                "num_attention_heads": 4,
                "vocab_size": 9,
                "hiden": 1,
            },
            "hiden: unknown field (typo?)",
        ),
    ],
)
def test_bad_upload_is_one_line_on_the_model_field(data, words):
    with pytest.raises(FieldError) as exc:
        model_from_upload(data)
    assert exc.value.field == "model" and words in exc.value.message
    assert exc.value.message.startswith("config.json: ") and "\n" not in exc.value.message


def test_bad_url_spec_is_refused():
    for text in ("%%%", "bm90IGpzb24", "x" * 5000):
        with pytest.raises(FieldError) as exc:
            read_model(Params({"mspec": text}))
        assert exc.value.field == "model"


def test_cluster_with_network_override():
    c = read_cluster(Params({"cluster": "h800x256", "network": "photonic-link"}))
    assert c.num_devices == 256 and c.scale_out is not None and c.scale_out.kind == "photonic-link"
    assert c.scale_out.nics_per_node == 8  # one NIC per device, as for the default network


def test_editable_parameters_carry_their_sources():
    targets = resolve_targets("h800x2048", ["photonic", "cim"])
    photonic = {p["key"]: p for p in edits.editable(targets[1], {})}
    raw = catalog.load_raw("interconnects", "photonic-link")
    assert photonic["nic_gbit_per_s"]["value"] == pytest.approx(raw["nic_gbit_per_s"])
    assert photonic["energy_pj_per_bit"]["source"] == raw["sources"]["energy_pj_per_bit"]
    cim = {p["key"]: p for p in edits.editable(targets[2], {})}
    acc_raw = catalog.load_raw("accelerators", "cim-analog")
    for key, value in acc_raw["emerging"].items():
        if isinstance(value, int | float):
            assert cim[key]["value"] == pytest.approx(value), key  # shown in the catalog's units
    assert cim["tdp_w"]["value"] == pytest.approx(acc_raw["tdp_w"])
    assert (
        cim["idle_w"]["value"] == pytest.approx(acc_raw["idle_w"]) and cim["idle_w"]["assumption"]
    )
    h800 = {p["key"] for p in edits.editable(targets[0], {})}
    assert "idle_w" not in h800  # no catalog idle power: the power model's fraction is used


def test_emerging_row_copy_equals_plan_whatif_unedited():
    # web/views/whatif.py recomputes an edited device-class row; with no edit it must agree with
    # plan/whatif's own row, so the copy cannot drift from the library unnoticed.
    model = catalog.load_model("llama-3.1-70b")
    targets = resolve_targets("h100x64", ["cim", "fpga"])
    w = whatif_infer(model, targets, DEFAULT_SERVE, num_devices=16)
    req = whatif_view.WhatIfRequest(
        model, "llama-3.1-70b", "infer", tuple(targets), (), (), None, DEFAULT_SERVE, True, 16, ""
    )  # type: ignore[arg-type]
    for t, row in zip(targets[1:], w.rows[1:], strict=True):
        mine = whatif_view._emerging_row(req, t, row, {})
        for key in ("num_devices", "tpot_s", "usd_per_million_output_tokens", "joules_per_token",
                    "output_tokens_per_s_per_node", "output_tokens_per_s_per_device",
                    "devices_per_node", "fastest_tpot_s"):  # fmt: skip
            assert getattr(mine, key) == pytest.approx(getattr(row, key), rel=1e-12), (t.label, key)
        assert (mine.deployment, mine.note) == (row.deployment, row.note)


def test_runner_caches_and_computes_identical_requests_once():
    calls = []
    gate = threading.Event()

    def work(progress: Progress) -> int:
        calls.append(1)
        progress.step("working", 0, 1)
        gate.wait(5)
        return 42

    async def main() -> list[int]:
        runner = Runner(workers=2, cache_size=4)
        first = asyncio.create_task(runner.run("k", work, runner.progress("a")))
        await asyncio.sleep(0.05)
        second = asyncio.create_task(runner.run("k", work, runner.progress("b")))
        await asyncio.sleep(0.05)
        assert runner.lookup("a").stage == "working"  # type: ignore[union-attr]
        assert runner.lookup("b").stage == "waiting for the same computation"  # type: ignore[union-attr]
        gate.set()
        out = [await first, await second, await runner.run("k", work, runner.progress("c"))]
        assert runner.lookup("c").stage == "cached"  # type: ignore[union-attr]
        assert runner.lookup("a").finished_s is not None  # type: ignore[union-attr]
        return out

    assert asyncio.run(main()) == [42, 42, 42]
    assert len(calls) == 1


def test_runner_passes_errors_to_every_waiter_and_caches_none():
    def boom(progress: Progress) -> int:
        raise FieldError("seq", "bad seq")

    async def main() -> None:
        runner = Runner()
        for _ in range(2):
            with pytest.raises(FieldError):
                await runner.run("k", boom, runner.progress(None))

    asyncio.run(main())
