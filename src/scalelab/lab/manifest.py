"""Checkpoint integrity, shared by single-process and distributed checkpoints: a JSON manifest
with the SHA-256 and size of every file, written last and checked before anything is read, and
publishing a finished folder as `latest` only once it verifies.

The manifest protects against damage (a flipped byte, a truncated or deleted file), not against
someone who can write the folder: they can rewrite the manifest too. What keeps a crafted folder
from running code is that nothing in a checkpoint is ever unpickled (safetensors + JSON only).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

from scalelab.core.errors import CheckpointError
from scalelab.core.io import write_atomic

MANIFEST = "manifest.json"
LATEST = "latest"
FORMAT = "scalelab-checkpoint"
VERSION = 1
MAX_MANIFEST_BYTES = 16 * 2**20  # thousands of shards fit; a larger file is not ours
_STEP_DIR = re.compile(r"step_\d{8}")
_FILE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,200}")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def step_dir_name(step: int) -> str:
    return f"step_{step:08d}"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_manifest(folder: Path, step: int, kind: str) -> dict[str, Any]:
    """Hash every file of `folder` into folder/manifest.json (written last, atomically)."""
    files = {
        p.name: {"sha256": sha256_file(p), "size_bytes": p.stat().st_size}
        for p in sorted(folder.iterdir())
        if p.name != MANIFEST
    }
    manifest = {"format": FORMAT, "version": VERSION, "kind": kind, "step": step, "files": files}
    write_atomic(folder / MANIFEST, json.dumps(manifest, indent=1))
    return manifest


def _read_manifest(folder: Path, kind: str) -> dict[str, Any]:
    path = folder / MANIFEST
    try:
        if path.stat().st_size > MAX_MANIFEST_BYTES:
            raise CheckpointError(f"{path}: larger than {MAX_MANIFEST_BYTES} bytes; not a manifest")
        manifest = json.loads(path.read_bytes())
    except (OSError, ValueError):
        raise CheckpointError(
            f"{folder}: missing or unreadable {MANIFEST}; the checkpoint is incomplete or damaged"
        ) from None
    ok = (
        isinstance(manifest, dict)
        and manifest.get("format") == FORMAT
        and manifest.get("version") == VERSION
        and isinstance(manifest.get("step"), int)
        and isinstance(manifest.get("files"), dict)
    )
    if not ok:
        raise CheckpointError(f"{path}: not a {FORMAT} v{VERSION} manifest (damaged?)")
    if manifest.get("kind") != kind:
        raise CheckpointError(
            f"{folder}: a {manifest.get('kind')!r} checkpoint, expected {kind!r} "
            "(single-process runs and --nproc runs keep separate checkpoints)"
        )
    for name, info in manifest["files"].items():
        well_formed = (
            _FILE_NAME.fullmatch(name)
            and name not in (".", "..", MANIFEST)
            and isinstance(info, dict)
            and isinstance(info.get("sha256"), str)
            and _SHA256.fullmatch(info["sha256"])
            and isinstance(info.get("size_bytes"), int)
        )
        if not well_formed:
            raise CheckpointError(f"{path}: malformed entry for file {name[:80]!r}")
    return manifest


def verify_checkpoint(folder: Path, kind: str) -> dict[str, Any]:
    """Check every file against the manifest (and that no other file is present); returns it."""
    manifest = _read_manifest(folder, kind)
    files: dict[str, dict[str, Any]] = manifest["files"]
    present = {p.name for p in folder.iterdir()} - {MANIFEST}
    extra = sorted(present - set(files))
    if extra:
        raise CheckpointError(f"{folder}: {extra[0]} is not listed in {MANIFEST}")
    for name, info in files.items():
        f = folder / name
        if not f.is_file():
            raise CheckpointError(f"{folder}: {name} is missing")
        size = f.stat().st_size
        if size != info["size_bytes"]:
            raise CheckpointError(
                f"{folder}: {name} is truncated or padded ({size} bytes, "
                f"expected {info['size_bytes']})"
            )
        if sha256_file(f) != info["sha256"]:
            raise CheckpointError(f"{folder}: {name} is corrupted (sha256 mismatch)")
    return manifest


def publish(root: Path, tmp: Path, step: int, kind: str) -> Path:
    """Verify the finished temp folder, rename it to step_N, then point `latest` at it."""
    verify_checkpoint(tmp, kind)
    final = root / step_dir_name(step)
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)
    write_atomic(root / LATEST, final.name)
    return final


def latest_checkpoint(root: Path) -> Path | None:
    """The folder `latest` names, or None when `root` holds no checkpoint at all."""
    pointer = root / LATEST
    if not pointer.exists():
        return None
    try:
        name = pointer.read_text(encoding="utf-8", errors="replace").strip()
    except OSError as exc:
        raise CheckpointError(f"{pointer}: unreadable ({exc.strerror})") from None
    if not _STEP_DIR.fullmatch(name):
        raise CheckpointError(f"{pointer}: expected a name like step_00000100, got {name[:40]!r}")
    path = root / name
    if not path.is_dir():
        raise CheckpointError(f"{pointer} names {name}, which does not exist")
    return path


def remove_stale_temps(root: Path) -> None:
    """Delete `.step_*.tmp*` folders that a killed writer left behind (the run lock is held)."""
    if root.is_dir():
        for p in root.glob(".step_*.tmp*"):
            shutil.rmtree(p, ignore_errors=True)
