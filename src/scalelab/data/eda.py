"""Synonym replacement from WordNet and the EDA operations (Wei & Zou 2019, "EDA: Easy Data
Augmentation Techniques for Boosting Performance on Text Classification Tasks", EMNLP).

Synonyms keep the word's usual part of speech: the one whose WordNet senses were tagged most
often in SemCor (cntlist.rev), since an offline tagger is not available. Only base forms are
replaced (morphy(word) == word), so "cars" is never turned into a singular synonym.
"""

from __future__ import annotations

import random
from collections import defaultdict
from pathlib import Path
from typing import Any

from scalelab.data.text import STOP_WORDS, is_word, match_case, tokens
from scalelab.data.wordnet import load_wordnet

POS_ORDER = ("n", "v", "a", "r")  # WordNet's own order breaks ties in sense counts
EDA_ALPHA = 0.1  # fraction of words changed per operation (Wei & Zou 2019, sec. 3, alpha = 0.1)


class WordNetSynonyms:
    """word -> synonyms of its usual part of speech (cached; lower case; '_' becomes ' ')."""

    def __init__(self, wordnet: Any = None) -> None:
        self._wn = wordnet if wordnet is not None else load_wordnet()
        self._tagged = _tag_counts(Path(self._wn.root.path) / "cntlist.rev")
        self._cache: dict[str, tuple[str, ...]] = {}

    def __call__(self, word: str) -> tuple[str, ...]:
        key = word.lower()
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self._lookup(key)
        return found

    def _senses(self, word: str) -> dict[str, int]:
        index = getattr(self._wn, "_lemma_pos_offset_map", None)  # NLTK's in-memory index
        if index is not None:
            by_pos = index.get(word, {})
            return {
                p: len(by_pos.get(p, ())) + len(by_pos.get("s", ()) if p == "a" else ())
                for p in POS_ORDER
            }
        return {p: len(self._wn.synsets(word, p)) for p in POS_ORDER}

    def _lookup(self, word: str) -> tuple[str, ...]:
        if word in STOP_WORDS or len(word) < 3 or not word.isalpha():
            return ()
        senses = self._senses(word)
        if not any(senses.values()):
            return ()
        tagged = self._tagged.get(word, {})
        pos = max(
            (p for p in POS_ORDER if senses[p]),
            key=lambda p: (tagged.get(p, 0), senses[p], -POS_ORDER.index(p)),
        )
        if self._wn.morphy(word, pos) != word:
            return ()  # an inflected form: a base-form synonym would break the grammar
        found: dict[str, None] = {}
        for synset in self._wn.synsets(word, pos):
            for name in synset.lemma_names():
                candidate = name.replace("_", " ").lower()
                if candidate != word and candidate.replace(" ", "").isalpha():
                    found[candidate] = None
        return tuple(found)


SS_TYPE_POS = {"1": "n", "2": "v", "3": "a", "4": "r", "5": "a"}  # WordNet senseidx(5WN)


def _tag_counts(path: Path) -> dict[str, dict[str, int]]:
    """lemma -> part of speech -> SemCor tag count, from cntlist.rev ("key sense_no count")."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            key, _, count = line.split()
            lemma, _, rest = key.partition("%")
            counts[lemma][SS_TYPE_POS.get(rest[:1], "n")] += int(count)
    return counts


def replace_synonyms(text: str, rng: random.Random, synonyms: WordNetSynonyms, n: int) -> str:
    """Replace up to `n` distinct content words (at least one if any has a synonym)."""
    toks = tokens(text)
    slots = [i for i, t in enumerate(toks) if is_word(t) and synonyms(t)]
    rng.shuffle(slots)
    for i in slots[: max(1, n)]:
        toks[i] = match_case(rng.choice(synonyms(toks[i])), toks[i])
    return "".join(toks)


def _core(unit: str) -> str:
    return unit.strip(".,;:!?\"'()[]{}")


def random_insertion(units: list[str], rng: random.Random, synonyms: WordNetSynonyms, n: int):
    """Insert a synonym of a random word at a random position, n times (EDA's RI)."""
    out = list(units)
    with_syn = [u for u in units if synonyms(_core(u))]
    for _ in range(n):
        if not with_syn:
            break
        out.insert(rng.randrange(len(out) + 1), rng.choice(synonyms(_core(rng.choice(with_syn)))))
    return out


def random_swap(units: list[str], rng: random.Random, n: int) -> list[str]:
    """Swap two random words, n times (EDA's RS)."""
    out = list(units)
    for _ in range(n if len(out) > 1 else 0):
        i, j = rng.sample(range(len(out)), 2)
        out[i], out[j] = out[j], out[i]
    return out


def random_deletion(units: list[str], rng: random.Random, p: float) -> list[str]:
    """Drop each word with probability p, keeping at least one (EDA's RD)."""
    kept = [u for u in units if rng.random() >= p]
    return kept or ([rng.choice(units)] if units else [])


EDA_OPERATIONS = ("synonym", "insert", "swap", "delete")


def eda(text: str, op: str, rng: random.Random, synonyms: WordNetSynonyms) -> str:
    """One EDA operation on `text`; n = max(1, alpha * words) as in Wei & Zou (2019, sec. 2)."""
    units = text.split()
    n = max(1, round(EDA_ALPHA * len(units)))
    if op == "synonym":
        return replace_synonyms(text, rng, synonyms, n)
    if op == "insert":
        return " ".join(random_insertion(units, rng, synonyms, n))
    if op == "swap":
        return " ".join(random_swap(units, rng, n))
    if op == "delete":
        return " ".join(random_deletion(units, rng, EDA_ALPHA))
    raise ValueError(f"unknown EDA operation {op!r}")
