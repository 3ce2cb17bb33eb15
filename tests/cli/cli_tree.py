"""The command tree of `scalelab` and the Examples of each command's --help, for the help and
JSON-schema tests."""

from __future__ import annotations

from pathlib import Path

import typer.main

from scalelab.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
# Groups whose examples train networks or run the whole report: they still run, marked slow.
SLOW_GROUPS = {"report", "train", "calibrate", "diagnose", "data", "compress"}


def _leaves(command=None, path=()):
    command = command or typer.main.get_command(app)
    subs = getattr(command, "commands", None)
    if not subs:
        return [(path, command)]
    return [leaf for name, sub in subs.items() for leaf in _leaves(sub, (*path, name))]


LEAVES = _leaves()
ALL_FLAGS = {
    o for _, c in LEAVES for p in c.params for o in getattr(p, "opts", []) if o[:2] == "--"
}


def examples_of(command) -> list[str]:
    text = (command.epilog or "").replace("\\[", "[")
    if "Examples:" not in text:
        return []
    block = text.split("Examples:", 1)[1]
    return [line.strip() for line in block.splitlines() if line.strip().startswith("scalelab ")]


def path_id(path: tuple[str, ...]) -> str:
    return " ".join(path)
