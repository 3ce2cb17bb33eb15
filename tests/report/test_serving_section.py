"""The report's serving section compares deployments per GPU first, per node beside it."""

from scalelab.core.scenario import resolve_model
from scalelab.report.context import ReportContext
from scalelab.report.sections import serving


def test_serving_tables_put_tokens_per_gpu_first():
    sec = serving.build(ReportContext("deepseek-v3", resolve_model("deepseek-v3")))
    table = next(t for t in sec.tables if t.title.startswith("Collocated serving"))
    cols = table.columns
    assert cols.index("out tok/s per GPU") < cols.index("per node (GPUs)")
    rows = {r[0]: r for r in table.rows}
    nvl72 = next(r for k, r in rows.items() if "NVL72" in k)
    assert nvl72[cols.index("per node (GPUs)")].endswith("(72)")
    # the DeepSeek decode unit written in the engines' vocabulary runs (no "cannot run")
    assert all("cannot run" not in r[1] for r in table.rows)
    assert any("dp 144 ep 144" in k for k in rows)
