"""One test per `kind: inference` validation case: must PASS within its tolerance."""

import pytest

from scalelab.validate.runner import load_cases, run_case

CASES = [c for c in load_cases() if c["kind"] == "inference"]


def test_there_are_inference_cases():
    assert {c["id"] for c in CASES} >= {"ep-decode-limit-ib400", "ep-decode-limit-nvl72"}


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_inference_case(case):
    result = run_case(case)
    for m in result.metrics:
        print(
            f"{case['id']} {m.key}: predicted={m.predicted} expected={m.expected} rel_error={m.rel_error}"
        )
    assert result.status == "pass", result
