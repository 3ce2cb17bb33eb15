"""Word-level text helpers shared by augmentation and the audit: tokens, stop words, shingles."""

from __future__ import annotations

import re

# Words and the rest: "don't" and "e-mail" stay whole; joining the tokens gives the text back.
TOKEN_RE = re.compile(r"[A-Za-z]+(?:['\-][A-Za-z]+)*|\s+|[^\sA-Za-z]+")
WORD_RE = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")

# Function words that synonym replacement and insertion never touch (EDA, Wei & Zou 2019, sec. 2,
# skips stop words too); our own list of English closed-class words.
STOP_WORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is it its itself
    just me more most my myself no nor not now of off on once only or other our ours ourselves out
    over own same she should so some such than that the their theirs them themselves then there
    these they this those through to too under until up very was we were what when where which
    while who whom why will with would you your yours yourself yourselves get got go going gone
    let may might must shall one also s t don didn doesn isn wasn weren won wouldn""".split()
)


def tokens(text: str) -> list[str]:
    """Words, whitespace runs and punctuation runs; "".join(tokens(t)) == t."""
    return TOKEN_RE.findall(text)


def is_word(token: str) -> bool:
    return token[:1].isalpha()


def words(text: str) -> list[str]:
    """Lower-cased word tokens (letters/digits), for vocabularies and n-grams."""
    return WORD_RE.findall(text.lower())


def normalize(text: str) -> str:
    """Lower case, whitespace collapsed: the key under which 'normalized' duplicates match."""
    return " ".join(text.lower().split())


def shingles(text: str, size: int = 3) -> set[str]:
    """Word n-grams (n=`size`) of the normalized text; short texts give their whole word list."""
    ws = words(text)
    if len(ws) < size:
        return {" ".join(ws)} if ws else set()
    return {" ".join(ws[i : i + size]) for i in range(len(ws) - size + 1)}


def match_case(word: str, like: str) -> str:
    """`word` written with the capitalization of `like` (Title, UPPER or lower)."""
    if like.isupper() and len(like) > 1:
        return word.upper()
    if like[:1].isupper():
        return word[:1].upper() + word[1:]
    return word
