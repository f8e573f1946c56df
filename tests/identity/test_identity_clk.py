"""CLK encodings: byte-for-byte agreement with clkhash 0.18.3, and useful similarity.

The vectors in data/clkhash_0_18_3_vectors.json were made by clkhash itself (blakeHash) from
synthetic records, by a script kept outside the repository (it needs clkhash, which we do not
depend on). Names were normalised by safehold first, so these tests check the encoding;
normalisation is checked against the stored normalised forms separately."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from safehold.identity import (
    PERSON_CLK_SCHEMA,
    ClkEncoder,
    ClkField,
    ClkSchema,
    CoalitionKey,
    IdentifierError,
    dice_similarity,
    normalise_date_of_birth,
    normalise_person_name,
)

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent / "data" / "clkhash_0_18_3_vectors.json").read_text(encoding="utf-8")
)
SECRET = base64.b64decode(VECTORS["secret_base64"])
PERSON_CASES = VECTORS["person_cases"]
VARIANT_SCHEMA = ClkSchema(
    fields=(
        ClkField("given_name", ngram=2, bits_per_token=15),
        ClkField("family_name", ngram=3, positional=True, bits_per_feature=7),
        ClkField(
            "dob", ngram=2, bits_per_token=40, date_format="%d/%m/%Y", missing_value=("unknown", "")
        ),
    ),
    length=512,
)


def _popcount(clk: str) -> int:
    return int.from_bytes(base64.b64decode(clk), "big").bit_count()


def test_vectors_come_from_clkhash_0_18_3() -> None:
    assert VECTORS["clkhash_version"] == "0.18.3"
    assert len(PERSON_CASES) >= 20


def test_schemas_match_what_clkhash_was_given() -> None:
    assert PERSON_CLK_SCHEMA.to_clkhash() == VECTORS["schemas"]["person"]
    assert VARIANT_SCHEMA.to_clkhash() == VECTORS["schemas"]["variant"]


@pytest.mark.parametrize("case", PERSON_CASES, ids=lambda c: "/".join(c["normalised"]))
def test_person_vectors_byte_for_byte(case: dict[str, Any]) -> None:
    ours = ClkEncoder(SECRET).encode_fields(case["normalised"])
    assert ours == case["clk"]
    assert len(base64.b64decode(ours)) == 128


@pytest.mark.parametrize(
    "case", [c for c in PERSON_CASES if c["raw"]], ids=lambda c: "/".join(c["raw"])
)
def test_raw_records_normalise_then_encode_to_the_vector(case: dict[str, Any]) -> None:
    given_name, family_name, dob = case["raw"]
    normalised = [
        normalise_person_name(given_name) if given_name else "",
        normalise_person_name(family_name) if family_name else "",
        normalise_date_of_birth(dob) if dob else "",
    ]
    assert normalised == case["normalised"]
    encoder = ClkEncoder(SECRET)
    assert encoder.encode_person(given_name, family_name, dob or None) == case["clk"]


@pytest.mark.parametrize("case", VECTORS["variant_cases"], ids=lambda c: "/".join(c["values"]))
def test_variant_schema_vectors(case: dict[str, Any]) -> None:
    """bitsPerToken (k above 32 needs two BLAKE2b calls), bitsPerFeature smaller than the
    token count (some tokens get k=0), positional trigrams, a day-first date format, a
    missing-value sentinel and a 512-bit filter."""
    assert ClkEncoder(SECRET, VARIANT_SCHEMA).encode_fields(case["values"]) == case["clk"]


def test_missing_parts_add_no_bits() -> None:
    encoder = ClkEncoder(SECRET)
    assert encoder.encode_person(None, "  ", None) == encoder.encode_fields(["", "", ""])
    assert _popcount(encoder.encode_fields(["", "", ""])) == 0
    assert encoder.encode_person("Zara", None, None) == encoder.encode_fields(["zara", "", ""])


def test_garbage_names_and_dates_raise() -> None:
    encoder = ClkEncoder(SECRET)
    with pytest.raises(IdentifierError, match="person name"):
        encoder.encode_person("???", "Smith", None)
    with pytest.raises(IdentifierError, match="date of birth"):
        encoder.encode_person("Ann", "Smith", "1990-13-01")
    with pytest.raises(ValueError, match="does not match"):
        encoder.encode_fields(["ann", "smith", "01/01/1990"])
    with pytest.raises(ValueError, match="expected 3 values"):
        encoder.encode_fields(["ann", "smith"])


def test_coalition_key_derives_an_independent_clk_secret() -> None:
    key = CoalitionKey(version=1, secret=SECRET[:32])
    derived = ClkEncoder.from_coalition_key(key).encode_person("Ann", "Smith", "2010-01-01")
    direct = ClkEncoder(SECRET[:32]).encode_person("Ann", "Smith", "2010-01-01")
    rotated = ClkEncoder.from_coalition_key(CoalitionKey(version=2, secret=SECRET[:32]))
    assert derived != direct
    assert derived != rotated.encode_person("Ann", "Smith", "2010-01-01")
    assert "secret" not in repr(ClkEncoder(SECRET)).lower()


def test_one_typo_is_similar_and_an_unrelated_person_is_not() -> None:
    encoder = ClkEncoder(SECRET)
    original = encoder.encode_person("Jonathan", "Hartwell", "2009-03-14")
    for typo in [
        encoder.encode_person("Jonathon", "Hartwell", "2009-03-14"),
        encoder.encode_person("Jonathan", "Hartwel", "2009-03-14"),
        encoder.encode_person("Jonahtan", "Hartwell", "2009-03-14"),
        encoder.encode_person("Jonathan", "Hartwell", "2009-03-15"),
    ]:
        assert dice_similarity(original, typo) > 0.8
    unrelated = encoder.encode_person("Priya", "Okonkwo", "1985-11-30")
    assert dice_similarity(original, unrelated) < 0.5


def test_dice_similarity_basics() -> None:
    encoder = ClkEncoder(SECRET)
    a = encoder.encode_person("Ann", "Smith", "2010-01-01")
    empty = encoder.encode_fields(["", "", ""])
    assert dice_similarity(a, a) == 1.0
    assert dice_similarity(a, empty) == 0.0
    assert dice_similarity(empty, empty) == 0.0
    with pytest.raises(ValueError, match="differ in length"):
        dice_similarity(a, base64.b64encode(b"\x00" * 64).decode())
    with pytest.raises(ValueError, match="base64"):
        dice_similarity(a, "not base64!")


@given(st.binary(min_size=16, max_size=16), st.binary(min_size=16, max_size=16))
def test_dice_matches_its_definition(x: bytes, y: bytes) -> None:
    bits_x = {i for i in range(128) if x[i // 8] & (0x80 >> (i % 8))}
    bits_y = {i for i in range(128) if y[i // 8] & (0x80 >> (i % 8))}
    total = len(bits_x) + len(bits_y)
    expected = 0.0 if total == 0 else 2 * len(bits_x & bits_y) / total
    a, b = base64.b64encode(x).decode(), base64.b64encode(y).decode()
    assert dice_similarity(a, b) == pytest.approx(expected)
    assert dice_similarity(a, b) == dice_similarity(b, a)


def test_schema_validation() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        ClkField("x")
    with pytest.raises(ValueError, match="exactly one"):
        ClkField("x", bits_per_token=1, bits_per_feature=1)
    with pytest.raises(ValueError, match="power of two"):
        ClkSchema(fields=(ClkField("x", bits_per_token=1),), length=1000)
    with pytest.raises(ValueError, match="unique"):
        ClkSchema(fields=(ClkField("x", bits_per_token=1), ClkField("x", bits_per_token=1)))
    with pytest.raises(ValueError, match="encode_person needs"):
        ClkEncoder(SECRET, VARIANT_SCHEMA).encode_person("a", "b", None)
