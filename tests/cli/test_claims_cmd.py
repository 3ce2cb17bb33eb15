"""`scalelab claims`: twelve claims, a verdict each, untested ones naming what is missing."""

import json

import pytest

VERDICTS = {"holds", "partly", "does not hold", "untested"}


@pytest.mark.slow
def test_claims_json_has_twelve_verdicts(cli):
    code, out, err = cli("claims", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["command"] == "claims" and doc["schema_version"] >= 1
    claims = doc["results"]["claims"]
    assert [c["id"] for c in claims] == list("abcdefghijkl")
    assert all(c["verdict"] in VERDICTS for c in claims)
    for c in claims:
        if c["verdict"] == "untested":
            assert c["missing_capability"] and c["missing_capability"] in c["verdict_text"]
        else:
            assert c["parts"] and c["command"] != "-" and c["distance"] >= 1.0
    by_id = {c["id"]: c for c in claims}
    # The measured plain-stack ratio is ~1e-11: nine orders of magnitude from 1/100.
    grad = by_id["b"]
    assert grad["verdict"] == "does not hold"
    assert grad["parts"][0]["measured"] < 1e-8
    assert grad["command"].startswith("scalelab diagnose gradient-flow")
    assert sum(doc["results"]["verdict_counts"].values()) == 12


@pytest.mark.slow
def test_claims_terminal_lists_every_claim_with_its_verdict(cli):
    code, out, err = cli("claims")
    assert code == 0, err
    for letter in "abcdefghijkl":
        assert f"({letter})" in out
    # every claim with a number names the command behind it; an untested one has none yet
    assert out.count("reproduce with: ") + out.count("verdict: untested until") == 12
    assert "reproduce with: scalelab data need --params 100B" in out
    assert "Verdict rule" in out
