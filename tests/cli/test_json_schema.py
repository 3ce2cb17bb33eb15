"""Every command's --json: the versioned envelope, and `results` valid against the schema that
docs/json.md documents for that command (docs/json/<command>.schema.json)."""

from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path

import jsonschema
import pytest
from cli_tree import LEAVES, ROOT, SLOW_GROUPS, examples_of, path_id

SCHEMAS = ROOT / "docs" / "json"
JSON_LEAVES = [
    (p, c) for p, c in LEAVES if any("--json" in getattr(x, "opts", []) for x in c.params)
]


def schema_path(path: tuple[str, ...]) -> Path:
    return SCHEMAS / f"{'-'.join(path)}.schema.json"


def _load(path: Path) -> dict:
    data = json.loads(path.read_text())
    jsonschema.Draft202012Validator.check_schema(data)
    return data


def test_envelope_schema_and_docs_cover_every_json_command():
    _load(SCHEMAS / "envelope.schema.json")
    doc = (ROOT / "docs" / "json.md").read_text()
    missing = []
    for path, _ in JSON_LEAVES:
        if not schema_path(path).exists():
            missing.append(f"{schema_path(path).relative_to(ROOT)} (scalelab {path_id(path)})")
        elif f"json/{schema_path(path).name}" not in doc or f"scalelab {path_id(path)}`" not in doc:
            missing.append(f"docs/json.md section for scalelab {path_id(path)}")
    assert not missing, "undocumented --json output: " + ", ".join(missing)


def _runs(path: tuple[str, ...], command) -> list[tuple[str, bool]]:
    """The command's examples in order; those that call it get --json (checked), others run as
    written (they make what it reads)."""
    runs = []
    for line in examples_of(command):
        own = (line + " ").startswith(f"scalelab {path_id(path)} ")
        if own and "--json" not in line.split():
            line += " --json"
        runs.append((line, own))
    return runs


@pytest.mark.parametrize(
    ("path", "command"),
    [
        pytest.param(p, c, marks=pytest.mark.slow) if p[0] in SLOW_GROUPS else (p, c)
        for p, c in JSON_LEAVES
    ],
    ids=[path_id(p) for p, _ in JSON_LEAVES],
)
def test_json_output_matches_the_documented_schema(cli, tmp_path, monkeypatch, path, command):
    assert schema_path(path).exists(), f"no schema for scalelab {path_id(path)}"
    envelope, results = _load(SCHEMAS / "envelope.schema.json"), _load(schema_path(path))
    shutil.copytree(ROOT / "examples", tmp_path / "examples", ignore=shutil.ignore_patterns("runs"))
    monkeypatch.chdir(tmp_path)
    checked = 0
    for line, own in _runs(path, command):
        code, out, err = cli(*shlex.split(line)[1:])
        assert code == 0, f"{line}\n{err[-2000:]}"
        if not own:
            continue
        data = json.loads(out)
        jsonschema.validate(data, envelope)
        assert data["command"] == path_id(path)
        jsonschema.validate(data["results"], results)
        checked += 1
    assert checked >= 1
