"""One test per `kind: network` and `kind: energy` validation case: must PASS within its tolerance.
Calibration checks, not independent validation: the fat-tree-2/3 (and 8-plane) costs fix the price
per switch and link (hw/netcost.py); the h200-power bf16 GEMM and copy powers fix the energy per
FLOP and byte and idle_w is the measured idle (perf/energy.py). Held out: slim fly and dragonfly
costs, every count, all rates (kernel model) and the fp8 GEMM power."""

import pytest

from scalelab.validate.runner import load_cases, run_case

CASES = [c for c in load_cases() if c["kind"] in ("network", "energy")]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_network_energy_case(case):
    result = run_case(case)
    for m in result.metrics:
        print(
            f"{case['id']} {m.key}: predicted={m.predicted} expected={m.expected} rel_error={m.rel_error}"
        )
    assert result.status == "pass", result


def test_all_network_and_energy_cases_present():
    ids = {c["id"] for c in CASES}
    assert {
        "topology-fat-tree-2",
        "topology-multi-plane-fat-tree",
        "topology-fat-tree-3",
        "topology-slim-fly",
        "topology-dragonfly",
        "h200-power",
    } <= ids
