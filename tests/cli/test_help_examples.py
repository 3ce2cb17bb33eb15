"""Every command's --help: an Examples block whose every line runs as written, flags shown as flags,
TOML table names not eaten by rich markup, and no flag mentioned anywhere that no command has."""

from __future__ import annotations

import re
import shlex
import shutil

import pytest
from cli_tree import ALL_FLAGS, LEAVES, ROOT, SLOW_GROUPS, examples_of, path_id
from rich.text import Text

FLAG_RE = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*[a-z0-9]")


@pytest.mark.parametrize(("path", "command"), LEAVES, ids=[path_id(p) for p, _ in LEAVES])
def test_every_command_has_examples_that_call_it(path, command):
    lines = examples_of(command)
    assert lines, f"scalelab {path_id(path)} --help has no Examples block (cli.common.examples)"
    own = [line for line in lines if (line + " ").startswith(f"scalelab {path_id(path)} ")]
    assert own, f"no example of scalelab {path_id(path)} calls it: {lines}"


def _help_texts(command) -> list[str]:
    texts = [command.help or "", command.epilog or ""]
    return texts + [getattr(p, "help", None) or "" for p in command.params]


@pytest.mark.parametrize(("path", "command"), LEAVES, ids=[path_id(p) for p, _ in LEAVES])
def test_help_shows_flags_as_flags_and_keeps_table_names(cli, monkeypatch, path, command):
    for raw in _help_texts(command):
        # rich markup must not swallow "[model]" and the like: write them "\\[model]"
        assert Text.from_markup(raw).plain == raw.replace("\\[", "["), raw
    monkeypatch.setenv("COLUMNS", "120")
    code, out, err = cli(*path, "--help")
    assert code == 0, err
    assert "<bool>" not in out  # a flag takes no value
    for raw in _help_texts(command):
        for table in re.findall(r"\\\[(\w+)\]", raw):
            assert f"[{table}]" in out


def test_no_phantom_flags_in_help_texts_and_catalog_notes():
    """Every --flag a help text or a catalog source/assumption mentions is a real option."""
    mentioned: dict[str, str] = {}
    for path, command in LEAVES:
        for raw in _help_texts(command):
            for flag in FLAG_RE.findall(raw):
                mentioned.setdefault(flag, f"scalelab {path_id(path)} --help")
    for toml in sorted((ROOT / "src" / "scalelab" / "catalog").rglob("*.toml")):
        for flag in FLAG_RE.findall(toml.read_text()):
            mentioned.setdefault(flag, str(toml.relative_to(ROOT)))
    phantom = {f: where for f, where in mentioned.items() if f not in ALL_FLAGS | {"--help"}}
    assert not phantom, phantom


def _doc_commands() -> list[tuple[str, str]]:
    """`scalelab ...` command lines in README.md and docs/*.md (code blocks and inline code)."""
    found = []
    for md in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for line in md.read_text().splitlines():
            for cmd in re.findall(r"(?:^|`|\$ )(scalelab [^`#|]*)", line):
                found.append((md.name, cmd.strip()))
    return found


def test_docs_use_only_flags_their_command_has():
    by_path = {path: command for path, command in LEAVES}
    wrong = []
    for doc, line in _doc_commands():
        words = line.split()[1:]
        path = ()
        for word in words:
            if any(p[: len(path) + 1] == (*path, word) for p in by_path):
                path = (*path, word)
            else:
                break
        if path not in by_path:
            continue  # a group, or prose naming a command
        own = {o for p in by_path[path].params for o in getattr(p, "opts", [])} | {"--help"}
        wrong += [f"{doc}: {line} ({f})" for f in FLAG_RE.findall(line) if f not in own]
    assert not wrong, "\n".join(wrong)


GROUPS = sorted({path[0] for path, _ in LEAVES})


def _group_examples(group: str) -> list[str]:
    lines: list[str] = []
    for path, command in LEAVES:
        if path[0] == group:
            lines += [line for line in examples_of(command) if line not in lines]
    return lines


@pytest.mark.parametrize(
    "group",
    [pytest.param(g, marks=pytest.mark.slow) if g in SLOW_GROUPS else g for g in GROUPS],
)
def test_every_example_runs_as_written(cli, tmp_path, monkeypatch, group):
    """A group's examples in the order --help lists them, in one scratch folder holding a copy
    of examples/ (later examples may use what earlier ones wrote, as a user would)."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples", ignore=shutil.ignore_patterns("runs"))
    monkeypatch.chdir(tmp_path)
    for line in _group_examples(group):
        code, out, err = cli(*shlex.split(line)[1:])
        assert code == 0, f"{line}\n{err[-2000:]}"
        assert out.strip(), f"{line} printed nothing"
