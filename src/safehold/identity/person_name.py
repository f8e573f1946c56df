"""Normalising personal names for fuzzy linkage (the input to CLK encoding)."""

from __future__ import annotations

import re
import unicodedata

from safehold.identity.errors import IdentifierError

_KIND = "person name"
_APOSTROPHES = frozenset("'\u2018\u2019\u201b\u02bb\u02bc\u0060\u2032\uff07")
_HYPHENS = frozenset("-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d")
_SPACED_HYPHEN = re.compile(r" ?- ?")
_RUN = re.compile(r"[-']{2,}")


def _map_char(ch: str) -> str:
    """Map one decomposed, casefolded character to its kept form ('' drops it)."""
    if ch in _APOSTROPHES:
        return "'"
    if ch in _HYPHENS:
        return "-"
    category = unicodedata.category(ch)
    if category == "Mn" or category == "Me" or category == "Cf":
        return ""  # diacritics, enclosing marks, invisible format characters (soft hyphen)
    if category[0] in "LN" or category == "Mc":
        return ch
    return " "  # other punctuation, symbols, whitespace and control characters


def _tidy_word(word: str) -> str:
    """Collapse runs of hyphens/apostrophes and drop them at the edges of a word."""
    return _RUN.sub(lambda m: m.group(0)[0], word).strip("-'")


def normalise_person_name(raw: str) -> str:
    """Return a name reduced to the form every coalition member encodes.

    Normalised: Unicode compatibility decomposition (NFKD), diacritics removed (combining
    marks dropped, so ``Zoë`` becomes ``zoe``), casefolded (``ß`` becomes ``ss``), typographic
    apostrophes and dashes folded to ``'`` and ``-``, any other punctuation or symbol turned
    into a space, whitespace collapsed, spaces around hyphens removed.

    Decision on punctuation: hyphens and apostrophes are KEPT inside words because they are
    part of how names such as ``O'Neil`` and ``Smith-Jones`` are spelt; bigram encoding already
    tolerates records that omit them. Other punctuation (``J.R.``, ``Smith, John``) becomes a
    word break, so initials stay separate letters. Hyphens and apostrophes at the edges of a
    word (stray quotes) are dropped.

    Deliberately NOT done: reordering parts (given/family order is kept as written), removing
    titles or particles, transliteration, and phonetic encoding (Soundex and friends belong to
    the linkage step, which can choose them per comparison). In scripts that write vowels as
    combining marks, dropping marks loses information (Cyrillic ``й`` becomes ``и``); it is
    still applied identically everywhere, so equal names still encode equally.
    """
    if not isinstance(raw, str):
        raise IdentifierError(_KIND, "expected text", "pass the name as a string")
    text = unicodedata.normalize("NFKD", raw).casefold()
    text = unicodedata.normalize("NFKD", text)
    text = "".join(_map_char(ch) for ch in text)
    text = _SPACED_HYPHEN.sub("-", " ".join(text.split()))
    words = [w for w in (_tidy_word(w) for w in text.split(" ")) if w]
    if not words:
        raise IdentifierError(
            _KIND,
            "no letters or digits remain after normalisation",
            "pass the name as written, or leave the field missing",
        )
    return " ".join(words)
