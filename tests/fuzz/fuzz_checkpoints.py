"""Checkpoints for the fuzz of `scalelab compress`: the session's tiny checkpoint copied intact,
damaged, or crafted with matching checksums, and its quantized variant."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from hypothesis import strategies as st

CKPT_FILES = (
    "latest",
    "manifest.json",
    "model.safetensors",
    "optimizer.json",
    "optimizer.safetensors",
    "rng.safetensors",
    "trainer.json",
)
CRAFTED_CONFIGS = (
    {"vocab_size": -1},
    {"d_model": "x"},
    {"n_layers": 10**9},
    {"num_classes": 0},
    {"bogus": 1},
    {"max_len": 1.5},
)


def checkpoint_mutations(must_be_bad: bool) -> st.SearchStrategy[tuple[str, ...]]:
    """How the session's checkpoint is copied: intact (or its quantized variant), or damaged (a
    flipped byte, truncated, deleted, garbage), or crafted with a manifest whose checksums match
    (what an attacker can write): the reader must answer with one error line, never run."""
    if not must_be_bad:
        return st.sampled_from([("intact",), ("intact",), ("quantized",)])
    return st.one_of(
        st.tuples(st.just("flip"), st.sampled_from(CKPT_FILES), st.integers(0, 10**6).map(str)),
        st.tuples(st.just("truncate"), st.sampled_from(CKPT_FILES), st.integers(0, 50).map(str)),
        st.tuples(st.just("delete"), st.sampled_from(CKPT_FILES)),
        st.tuples(st.just("garbage"), st.sampled_from(CKPT_FILES)),
        st.tuples(st.just("crafted"), st.sampled_from(range(len(CRAFTED_CONFIGS))).map(str)),
        st.tuples(st.just("quantized-flip"), st.integers(0, 10**6).map(str)),
        st.just(("onnx-garbage",)),
    )


def materialize_checkpoint(
    mutation: tuple[str, ...], resources: dict[str, Path], dest: Path
) -> None:
    """Write the checkpoint `mutation` describes at `dest` (a folder or a file)."""
    kind = mutation[0]
    if kind == "onnx-garbage":
        dest.write_bytes(b"\x08\x07garbage onnx\x00")
        return
    if kind.startswith("quantized"):
        shutil.copyfile(resources["quantized"], dest)
        if kind == "quantized-flip":
            _flip(dest, int(mutation[1]))
        return
    shutil.copytree(resources["checkpoint"], dest)
    step = dest / (dest / "latest").read_text().strip()
    if kind == "crafted":
        trainer = step / "trainer.json"
        state = json.loads(trainer.read_text())
        state["compress"]["config"].update(CRAFTED_CONFIGS[int(mutation[1])])
        trainer.write_text(json.dumps(state))
        _resign(step, "trainer.json")
        return
    if kind == "intact":
        return
    target = dest / "latest" if mutation[1] == "latest" else step / mutation[1]
    if kind == "flip":
        _flip(target, int(mutation[2]))
    elif kind == "truncate":
        data = target.read_bytes()
        target.write_bytes(data[: min(int(mutation[2]), max(0, len(data) - 1))])
    elif kind == "delete":
        target.unlink()
    elif kind == "garbage":
        target.write_bytes(b"\x00garbage\xff")


def _flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset % len(data)] ^= 0xFF
    path.write_bytes(bytes(data))


def _resign(step: Path, name: str) -> None:
    """Update the manifest's checksum of `name` as an attacker who rewrote it would."""
    manifest = step / "manifest.json"
    meta = json.loads(manifest.read_text())
    data = (step / name).read_bytes()
    meta["files"][name] = {"sha256": hashlib.sha256(data).hexdigest(), "size_bytes": len(data)}
    manifest.write_text(json.dumps(meta, indent=1))
