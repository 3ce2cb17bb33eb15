"""Calculon (calculon-ai/calculon at caa4b11) on Narayanan et al. SC'21 Table 1 with the authors'
plans (experiments/narayanan_published_plans.py), for the side-by-side in docs/perf-model.md.

Run: CALCULON_DIR=/path/to/calculon .venv/bin/python experiments/calculon_narayanan.py
Calculon's system file systems/a100_80g.json; data_par_overlap off (with it on, Calculon puts
2.7 s of exposed DP time on the 1.7B run, twenty times its own link time).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from narayanan_published_plans import _IDS, RUN_TABLE_1  # noqa: E402

from scalelab.validate.runner import default_cases_path, load_cases  # noqa: E402


def _inputs(case: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    m, par = case["model"], case["parallel"]
    mbs, per_chunk = RUN_TABLE_1[case["id"].rsplit("-", 1)[1]]
    app = {
        "hidden": m["hidden_size"], "feedforward": m["ffn_hidden_size"], "seq_size": 2048,
        "attn_heads": m["num_attention_heads"],
        "attn_size": m["hidden_size"] // m["num_attention_heads"], "num_blocks": m["num_layers"],
    }  # fmt: skip
    execution = {
        "num_procs": par["tp"] * par["pp"] * par["dp"], "tensor_par": par["tp"],
        "pipeline_par": par["pp"], "data_par": par["dp"], "tensor_par_net": 0,
        "pipeline_par_net": 1, "data_par_net": 1,
        "batch_size": case["workload"]["global_batch_size"], "microbatch_size": mbs,
        "datatype": "float16", "fused_activation": False, "attention_type": "multihead",
        "activation_recompute": "full",
        "pipeline_interleaving": m["num_layers"] // (par["pp"] * per_chunk) if per_chunk else 1,
        "optimizer_sharding": False, "tensor_par_comm_type": "ar", "tensor_par_overlap": "none",
        "seq_par_ag_redo": False, "data_par_overlap": False, "weight_offload": False,
        "activations_offload": False, "optimizer_offload": False, "training": True,
    }  # fmt: skip
    return app, execution


def main() -> None:
    root = Path(os.environ["CALCULON_DIR"])
    for case in load_cases(default_cases_path("public.yaml")):
        if case["id"] not in _IDS:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            paths = [Path(tmp, f"{n}.json") for n in ("app", "exe", "stats")]
            for path, doc in zip(paths, _inputs(case), strict=False):
                path.write_text(json.dumps(doc))
            cmd = [sys.executable, "bin/calculon", "llm", *map(str, paths[:2])]
            cmd += ["systems/a100_80g.json", str(paths[2])]
            subprocess.run(cmd, cwd=root, env={**os.environ, "PYTHONPATH": str(root)}, check=True)
            step = json.loads(paths[2].read_text())["total_time"]
        err = step / case["expect"]["step_time_s"] - 1.0
        print(f"{case['id']}: Calculon {step:.3f} s, error {100 * err:+.1f}%")


if __name__ == "__main__":
    main()
