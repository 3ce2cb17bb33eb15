"""Machine translation for back-translation (Sennrich et al. 2016, "Improving Neural Machine
Translation Models with Monolingual Data", ACL): English -> pivot -> English gives paraphrases.

Two backends behind one `Translator` interface, both local: Apertium (rule-based MT, a Debian
package run as a subprocess) and a CTranslate2 model directory (e.g. a MarianMT model converted
with `ct2-transformers-converter`, with Marian's `source.spm`/`target.spm` beside it).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from scalelab.core.errors import ConfigError, ScalelabError

APERTIUM_HINT = (
    "back-translation needs Apertium: `apt-get install apertium-eng-spa` (Debian/Ubuntu), "
    "or pass --mt-model FWD_DIR,BWD_DIR for local CTranslate2 models"
)


class Translator(Protocol):
    """Translates a batch of single-line texts; returns exactly one line per input."""

    @property
    def name(self) -> str: ...

    def translate(self, texts: Sequence[str]) -> list[str]: ...


def _one_line(text: str) -> str:
    return " ".join(text.split())


@dataclass(frozen=True)
class ApertiumTranslator:
    """`apertium -u MODE` over stdin, one text per line (-u: no '*' on unknown words)."""

    mode: str  # "eng-spa", "spa-eng" (Debian's apertium-eng-spa; older installs say en-es)
    binary: str = "apertium"
    chunk_lines: int = 2000
    timeout_s: float = 600.0

    @property
    def name(self) -> str:
        return f"apertium {self.mode}"

    def _run(self, exe: str, lines: list[str]) -> list[str]:
        try:
            proc = subprocess.run(
                [exe, "-u", self.mode],
                input="\n".join(lines) + "\n",
                capture_output=True,
                text=True,
                timeout=self.timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise ScalelabError(f"{self.name}: no answer within {self.timeout_s:.0f} s") from None
        if proc.returncode != 0:
            first = (proc.stderr.strip().splitlines() or ["failed"])[0]
            raise ConfigError(f"{self.name}: {first} ({APERTIUM_HINT})")
        out = proc.stdout[:-1] if proc.stdout.endswith("\n") else proc.stdout
        got = out.split("\n")
        if len(got) != len(lines):
            raise ScalelabError(f"{self.name}: {len(lines)} lines in, {len(got)} out")
        return [line.strip() for line in got]

    def translate(self, texts: Sequence[str]) -> list[str]:
        exe = shutil.which(self.binary)
        if exe is None:
            raise ConfigError(APERTIUM_HINT)
        lines = [_one_line(t) for t in texts]
        result: list[str] = []
        for start in range(0, len(lines), self.chunk_lines):
            result.extend(self._run(exe, lines[start : start + self.chunk_lines]))
        return result


class CTranslate2Translator:
    """A CTranslate2 model directory; SentencePiece (`source.spm`, `target.spm`) when present,
    else whitespace tokens. Greedy decoding by default (beam_size=1)."""

    def __init__(self, model_dir: str | Path, beam_size: int = 1, max_length: int = 256) -> None:
        self.model_dir = Path(model_dir)
        if not (self.model_dir / "model.bin").is_file():
            raise ConfigError(f"--mt-model: {self.model_dir} is not a CTranslate2 model directory")
        try:
            import ctranslate2
        except ImportError:
            raise ConfigError(
                "--mt-model needs the ctranslate2 package: pip install ctranslate2"
            ) from None
        self._name = f"ctranslate2 {self.model_dir.name}"
        self.beam_size, self.max_length = beam_size, max_length
        self._model = ctranslate2.Translator(str(self.model_dir), device="cpu", intra_threads=1)
        self._src = self._spm("source.spm")
        self._tgt = self._spm("target.spm") or self._src

    @property
    def name(self) -> str:
        return self._name

    def _spm(self, filename: str) -> Any:
        path = self.model_dir / filename
        if not path.is_file():
            return None
        try:
            import sentencepiece
        except ImportError:
            raise ConfigError(f"{path}: needs the sentencepiece package") from None
        return sentencepiece.SentencePieceProcessor(model_file=str(path))

    def translate(self, texts: Sequence[str]) -> list[str]:
        lines = [_one_line(t) for t in texts]
        if self._src is not None:
            batch = [self._src.encode(line, out_type=str) + ["</s>"] for line in lines]
        else:
            batch = [line.split() for line in lines]
        results = self._model.translate_batch(
            batch, beam_size=self.beam_size, max_decoding_length=self.max_length
        )
        out = []
        for result in results:
            pieces = result.hypotheses[0]
            out.append(self._tgt.decode(pieces) if self._tgt is not None else " ".join(pieces))
        return out


@dataclass(frozen=True)
class BackTranslator:
    """text -> pivot language -> text."""

    forward: Translator
    backward: Translator

    @property
    def name(self) -> str:
        return f"{self.forward.name} + {self.backward.name}"

    def translate(self, texts: Sequence[str]) -> list[str]:
        return self.backward.translate(self.forward.translate(texts))


def apertium_back_translator(pivot: str = "spa") -> BackTranslator:
    """English -> `pivot` -> English through Apertium (Debian names its modes eng-spa/spa-eng)."""
    return BackTranslator(ApertiumTranslator(f"eng-{pivot}"), ApertiumTranslator(f"{pivot}-eng"))


def ctranslate2_back_translator(
    forward_dir: str | Path, backward_dir: str | Path
) -> BackTranslator:
    return BackTranslator(CTranslate2Translator(forward_dir), CTranslate2Translator(backward_dir))
