"""Username and account-id normalisation, always scoped by platform."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from safehold.identity import (
    IdentifierError,
    normalise_account_id,
    normalise_platform_id,
    normalise_username,
)

PLATFORM = st.from_regex(r"[a-z0-9][a-z0-9._-]{0,15}", fullmatch=True)
HANDLE = st.from_regex(r"[a-z0-9_.]{1,20}", fullmatch=True)


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@given(PLATFORM, HANDLE)
def test_variants_agree(platform: str, handle: str) -> None:
    expected = f"{platform}:{handle}"
    assert normalise_username(platform, handle) == expected
    assert normalise_username(platform.upper(), "@" + handle.upper()) == expected
    assert normalise_username(f" {platform} ", f"  @@{handle}\t") == expected
    assert normalise_username(platform, _fullwidth("@" + handle)) == expected


@given(PLATFORM, PLATFORM, HANDLE)
def test_same_handle_on_two_platforms_differs(p1: str, p2: str, handle: str) -> None:
    if p1 != p2:
        assert normalise_username(p1, handle) != normalise_username(p2, handle)


@given(PLATFORM, st.text(max_size=30))
def test_idempotent(platform: str, raw: str) -> None:
    try:
        once = normalise_username(platform, raw)
    except IdentifierError:
        return
    prefix, _, handle = once.partition(":")
    assert prefix == platform
    assert normalise_username(platform, handle) == once


def test_dots_and_underscores_are_kept() -> None:
    assert normalise_username("chat", "a.b_c") == "chat:a.b_c"
    assert normalise_username("chat", "ab_c") != normalise_username("chat", "a.b_c")


@pytest.mark.parametrize("raw", ["", "   ", "@", "@@ ", "two words", "tab\there"])
def test_bad_usernames_raise(raw: str) -> None:
    with pytest.raises(IdentifierError, match="username"):
        normalise_username("chat", raw)


@pytest.mark.parametrize("platform", ["", " ", "has:colon", "has space", "-lead", "x" * 65])
def test_bad_platform_ids_raise(platform: str) -> None:
    with pytest.raises(IdentifierError, match="platform id"):
        normalise_platform_id(platform)


def test_account_ids_keep_case() -> None:
    assert normalise_account_id("Chat", " AbC123 ") == "chat:AbC123"
    assert normalise_account_id("chat", "abc123") != normalise_account_id("chat", "ABC123")
    with pytest.raises(IdentifierError, match="account id"):
        normalise_account_id("chat", "a b")
