"""Email normalisation: what is folded, what deliberately is not, and what is rejected."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from safehold.identity import IdentifierError, normalise_email

LOCAL = st.from_regex(r"[a-z0-9][a-z0-9._+-]{0,15}", fullmatch=True)
DOMAIN = st.from_regex(r"[a-z0-9]{1,10}(\.[a-z0-9]{1,8}){0,2}\.[a-z]{2,6}", fullmatch=True)


def _recase(text: str, flips: list[bool]) -> str:
    flags = (flips + [False] * len(text))[: len(text)]
    return "".join(c.upper() if f else c for c, f in zip(text, flags, strict=True))


@given(LOCAL, DOMAIN, st.lists(st.booleans()), st.sampled_from(["", " ", "\t", "  \n"]))
def test_case_and_whitespace_variants_agree(
    local: str, domain: str, flips: list[bool], pad: str
) -> None:
    plain = f"{local}@{domain}"
    variant = pad + _recase(plain, flips) + pad
    assert normalise_email(variant) == normalise_email(plain) == plain


@given(st.text(max_size=40), st.booleans())
def test_idempotent(raw: str, provider_rules: bool) -> None:
    try:
        once = normalise_email(raw, provider_rules=provider_rules)
    except IdentifierError:
        return
    assert normalise_email(once, provider_rules=provider_rules) == once


def test_idna_domain_is_encoded() -> None:
    assert normalise_email("Anna@Bücher.Example") == "anna@xn--bcher-kva.example"
    assert normalise_email("anna@xn--bcher-kva.example") == "anna@xn--bcher-kva.example"


def test_trailing_dot_on_domain_is_dropped() -> None:
    assert normalise_email("a@example.org.") == "a@example.org"


def test_dots_and_tags_kept_by_default() -> None:
    assert normalise_email("First.Last+news@gmail.com") == "first.last+news@gmail.com"
    assert normalise_email("first.last@googlemail.com") == "first.last@googlemail.com"


def test_provider_rules_fold_gmail_only() -> None:
    assert (
        normalise_email("First.Last+news@gmail.com", provider_rules=True) == "firstlast@gmail.com"
    )
    assert normalise_email("firstlast@googlemail.com", provider_rules=True) == "firstlast@gmail.com"
    assert (
        normalise_email("first.last+news@example.org", provider_rules=True)
        == "first.last+news@example.org"
    )


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "no-at-sign.example.org",
        "two@@example.org",
        "a@b@example.org",
        "@example.org",
        "someone@",
        "someone@localhost",
        "some one@example.org",
        "someone@exa mple.org",
        "someone@example..org",
        "someone@exa!mple.org",
        "someone@" + "a" * 64 + ".org",
        "+@gmail.com",
    ],
)
def test_rejected(raw: str) -> None:
    with pytest.raises(IdentifierError, match="email address") as info:
        normalise_email(raw, provider_rules=True)
    assert info.value.kind == "email address"


def test_non_text_rejected() -> None:
    with pytest.raises(IdentifierError):
        normalise_email(12345)  # type: ignore[arg-type]
