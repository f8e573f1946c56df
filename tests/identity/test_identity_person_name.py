"""Person-name normalisation for CLK encoding."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from safehold.identity import IdentifierError, normalise_person_name

WORD = st.from_regex(r"[a-z]{1,10}", fullmatch=True)
ACCENTS = {"a": "á", "e": "ë", "i": "î", "o": "ô", "u": "ü", "c": "ç", "n": "ñ"}


@given(st.lists(WORD, min_size=1, max_size=4), st.sampled_from([" ", "  ", "\t", " \n "]))
def test_case_accent_and_space_variants_agree(words: list[str], gap: str) -> None:
    plain = " ".join(words)
    accented = "".join(ACCENTS.get(c, c) for c in plain)
    variant = gap + gap.join(w.upper() for w in accented.split(" ")) + gap
    assert normalise_person_name(variant) == normalise_person_name(plain) == plain


@given(st.text(max_size=40))
def test_idempotent(raw: str) -> None:
    try:
        once = normalise_person_name(raw)
    except IdentifierError:
        return
    assert normalise_person_name(once) == once
    assert once == once.strip()
    assert "  " not in once


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Zoë", "zoe"),
        ("  JOSÉ   María ", "jose maria"),
        ("Straße", "strasse"),
        ("O’Neil", "o'neil"),
        ("O'Neil", "o'neil"),
        ("Smith – Jones", "smith-jones"),
        ("Smith‐Jones", "smith-jones"),
        ("J.R. Hartley", "j r hartley"),
        ("Hartley, John", "hartley john"),
        ("'Bob'", "bob"),
        ("Anne--Marie", "anne-marie"),
        ("ＡＮＮＡ", "anna"),
        ("Ana\u00adbel", "anabel"),
        ("Nguyễn Văn An", "nguyen van an"),
    ],
)
def test_examples(raw: str, expected: str) -> None:
    assert normalise_person_name(raw) == expected


def test_order_of_parts_is_kept() -> None:
    assert normalise_person_name("Ada Lovelock") != normalise_person_name("Lovelock Ada")


def test_no_phonetic_encoding() -> None:
    assert normalise_person_name("Smyth") != normalise_person_name("Smith")


@pytest.mark.parametrize("raw", ["", "   ", "...", "--", "'", "!?", "\u0301\u0301"])
def test_nothing_left_raises(raw: str) -> None:
    with pytest.raises(IdentifierError, match="person name"):
        normalise_person_name(raw)
