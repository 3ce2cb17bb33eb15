"""One test per `kind: model` validation case: must PASS within its tolerance."""

import pytest

from scalelab.validate.runner import load_cases, run_case

CASES = [c for c in load_cases() if c["kind"] == "model"]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_model_case(case):
    result = run_case(case)
    for m in result.metrics:
        print(
            f"{case['id']} {m.key}: predicted={m.predicted} expected={m.expected} rel_error={m.rel_error}"
        )
    assert result.status == "pass", result
