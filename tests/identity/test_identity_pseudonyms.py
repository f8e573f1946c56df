"""Keyed pseudonyms: deterministic per key, different across keys, versions and kinds."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from hypothesis import given
from hypothesis import strategies as st

from safehold.exchange.subjects import IdentifierKind, SubjectRef
from safehold.identity import CoalitionKey, IdentifierError, Pseudonymiser

SECRET = bytes(range(32))
SECRETS = st.binary(min_size=32, max_size=64)
VERSIONS = st.integers(min_value=1, max_value=1_000_000)
EMAILS = st.from_regex(r"[a-z0-9][a-z0-9._+-]{0,12}@[a-z0-9]{1,10}\.[a-z]{2,5}", fullmatch=True)
HANDLES = st.from_regex(r"[a-z0-9_.]{1,20}", fullmatch=True)
KINDS = st.sampled_from(list(IdentifierKind))


def _pseudonymiser(secret: bytes = SECRET, version: int = 1) -> Pseudonymiser:
    return Pseudonymiser(CoalitionKey(version=version, secret=secret))


def test_known_answer_matches_an_independent_hmac() -> None:
    subkey = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"safehold/pseudonym/v1"
    ).derive(SECRET)
    expected = hmac.new(subkey, b"email\x00someone@example.org", hashlib.sha256).hexdigest()
    ref = _pseudonymiser().pseudonymise("email", "  Someone@Example.ORG ")
    assert ref == SubjectRef(kind=IdentifierKind.EMAIL, pseudonym=expected, key_version=1)
    assert expected == "d1605f2d707cc8f856dd7f990b027a7b4caa4545b1fa27ec7776577fd91d8342"


@given(SECRETS, VERSIONS, EMAILS)
def test_same_input_same_key(secret: bytes, version: int, email: str) -> None:
    first = _pseudonymiser(secret, version).pseudonymise(IdentifierKind.EMAIL, email)
    second = _pseudonymiser(secret, version).pseudonymise(IdentifierKind.EMAIL, email)
    assert first == second
    assert first.key_version == version


@given(SECRETS, VERSIONS, VERSIONS, EMAILS)
def test_another_version_gives_another_key(secret: bytes, v1: int, v2: int, email: str) -> None:
    a = _pseudonymiser(secret, v1).pseudonymise("email", email).pseudonym
    b = _pseudonymiser(secret, v2).pseudonymise("email", email).pseudonym
    assert (a == b) == (v1 == v2)


@given(SECRETS, SECRETS, EMAILS)
def test_another_secret_gives_another_key(s1: bytes, s2: bytes, email: str) -> None:
    a = _pseudonymiser(s1).pseudonymise("email", email).pseudonym
    b = _pseudonymiser(s2).pseudonymise("email", email).pseudonym
    assert (a == b) == (s1 == s2)


@given(KINDS, KINDS, st.text(max_size=30))
def test_different_kinds_never_collide(k1: IdentifierKind, k2: IdentifierKind, value: str) -> None:
    p = _pseudonymiser()
    a = p.pseudonym_of_normalised(k1, value)
    b = p.pseudonym_of_normalised(k2, value)
    assert (a == b) == (k1 == k2)


@given(HANDLES)
def test_username_and_account_with_same_text_differ(handle: str) -> None:
    p = _pseudonymiser()
    user = p.pseudonymise("username", handle, platform="chat")
    account = p.pseudonymise("account", handle, platform="chat")
    assert user.pseudonym != account.pseudonym


@given(HANDLES)
def test_same_handle_on_two_platforms_differs(handle: str) -> None:
    p = _pseudonymiser()
    assert (
        p.pseudonymise("username", handle, platform="chat").pseudonym
        != p.pseudonymise("username", handle, platform="games").pseudonym
    )


@pytest.mark.parametrize(
    ("kind", "variants", "platform"),
    [
        ("phone", ["+44 7700 900123", "07700 900123", "07700-900-123", "0044 7700 900123"], None),
        ("email", ["Someone@Example.org", " someone@example.ORG ", "someone@example.org."], None),
        ("username", ["@Someone", "someone", " ＠ＳＯＭＥＯＮＥ "], "chat"),
    ],
)
def test_equivalent_variants_give_the_same_pseudonym(
    kind: str, variants: list[str], platform: str | None
) -> None:
    p = _pseudonymiser()
    refs = {p.pseudonymise(kind, v, platform=platform) for v in variants}
    assert len(refs) == 1


@given(EMAILS, st.sampled_from(["", " ", "\t"]))
def test_case_and_space_variants_agree(email: str, pad: str) -> None:
    p = _pseudonymiser()
    assert p.pseudonymise("email", pad + email.upper() + pad) == p.pseudonymise("email", email)


def test_settings_that_change_normalisation_change_pseudonyms() -> None:
    key = CoalitionKey(version=1, secret=SECRET)
    plain, google = Pseudonymiser(key), Pseudonymiser(key, email_provider_rules=True)
    assert plain.pseudonymise("email", "a.b+x@gmail.com") != plain.pseudonymise(
        "email", "ab@gmail.com"
    )
    assert google.pseudonymise("email", "a.b+x@gmail.com") == google.pseudonymise(
        "email", "ab@gmail.com"
    )
    fr = Pseudonymiser(key, phone_region="FR")
    assert (
        fr.pseudonymise("phone", "06 12 34 56 78").pseudonym
        == plain.pseudonymise("phone", "+33 6 12 34 56 78").pseudonym
    )


def test_platform_rules() -> None:
    p = _pseudonymiser()
    with pytest.raises(ValueError, match="need a platform"):
        p.pseudonymise("username", "someone")
    with pytest.raises(ValueError, match="do not take a platform"):
        p.pseudonymise("email", "a@b.org", platform="chat")
    with pytest.raises(ValueError, match="is not a valid IdentifierKind"):
        p.pseudonymise("passport", "x")


def test_repr_does_not_show_key_material() -> None:
    p = _pseudonymiser()
    assert repr(p) == "Pseudonymiser(key_version=1, phone_region='GB')"


def test_many_matches_one_at_a_time() -> None:
    p = _pseudonymiser()
    values: list[str | None] = ["A@b.org", None, "a@B.org", "c@d.org", "A@b.org"]
    many = p.pseudonymise_many("email", values)
    singles = [None if v is None else p.pseudonymise("email", v).pseudonym for v in values]
    assert many == singles
    assert many[0] == many[2] == many[4]
    assert many[1] is None


def test_many_invalid_values() -> None:
    p = _pseudonymiser()
    with pytest.raises(IdentifierError):
        p.pseudonymise_many("phone", ["07700 900123", "nonsense"])
    out = p.pseudonymise_many("phone", ["07700 900123", "nonsense", None], on_invalid="none")
    assert out[0] == p.pseudonymise("phone", "+447700900123").pseudonym
    assert out[1:] == [None, None]


def test_many_with_per_value_platforms_and_normalised_values() -> None:
    p = _pseudonymiser()
    out = p.pseudonymise_many("username", ["@Kit", "kit", None], platform=["chat", "games", "chat"])
    assert out == [
        p.pseudonymise("username", "kit", platform="chat").pseudonym,
        p.pseudonymise("username", "kit", platform="games").pseudonym,
        None,
    ]
    assert p.pseudonymise_many("username", ["chat:kit"], already_normalised=True) == out[:1]
    with pytest.raises(ValueError, match="one platform id per value"):
        p.pseudonymise_many("username", ["kit"], platform=["chat", "games"])
    with pytest.raises(ValueError, match="carry their platform"):
        p.pseudonymise_many("username", ["chat:kit"], platform="chat", already_normalised=True)
