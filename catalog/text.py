"""German-aware text processing for search: tokens, stems, umlaut spellings.

SQLite's FTS5 has no German stemmer, so documents and queries are stemmed here with the
Snowball German algorithm (which also folds ß and the ae/oe/ue spellings of umlauts) and FTS5
indexes the stems. PostgreSQL stems with its own ``german`` configuration; for it, queries are
widened with the umlaut spelling of ae/oe/ue words instead.
"""

from __future__ import annotations

import re
from functools import lru_cache

import snowballstemmer

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_STEMMER = snowballstemmer.stemmer("german")
_UMLAUT_SPELLINGS = (("ae", "ä"), ("oe", "ö"), ("ue", "ü"))


def words(text: str) -> list[str]:
    """Lower-cased words (letters and digits) of a text."""
    return _WORD.findall(text.lower())


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    return _STEMMER.stemWord(word.lower())


def stems(text: str) -> list[str]:
    return [stem(w) for w in words(text)]


def stemmed_text(text: str) -> str:
    """The text as space-separated stems: what the SQLite index holds."""
    return " ".join(stems(text))


def umlaut_spellings(word: str) -> list[str]:
    """The word and its spelling with umlauts (``baeume`` -> ``bäume``), for PostgreSQL queries."""
    variants = [word]
    for plain, umlaut in _UMLAUT_SPELLINGS:
        if plain in word and not (plain == "ue" and "que" in word):
            variants.append(word.replace(plain, umlaut))
    return list(dict.fromkeys(variants))
