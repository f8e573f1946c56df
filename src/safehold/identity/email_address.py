"""Normalising email addresses so that every coalition member derives the same pseudonym."""

from __future__ import annotations

import re
from functools import lru_cache

from safehold.identity.errors import IdentifierError

_KIND = "email address"
_GOOGLE_DOMAINS = frozenset({"gmail.com", "googlemail.com"})
_LABEL = re.compile(r"[a-z0-9_-]{1,63}", re.ASCII)
_MAX_DOMAIN = 253


def _fail(reason: str, fix: str) -> IdentifierError:
    return IdentifierError(_KIND, reason, fix)


def _has_space_or_control(text: str) -> bool:
    """True for any whitespace, separator or control/format character.

    ``str.isprintable`` is False for every C* and Z* character except the ASCII space, and
    runs in C, which matters for million-row columns."""
    return " " in text or not text.isprintable()


@lru_cache(maxsize=65_536)
def _ascii_domain(domain: str) -> str | None:
    """IDNA-encode and check a domain; ``None`` when it is not a usable internet domain.

    Cached because a handful of domains cover most addresses in a real data set."""
    domain = domain.lower().removesuffix(".")
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    labels = domain.split(".")
    if len(domain) > _MAX_DOMAIN or len(labels) < 2:
        return None
    if not all(_LABEL.fullmatch(label) for label in labels):
        return None
    return domain


def normalise_email(raw: str, *, provider_rules: bool = False) -> str:
    """Return the canonical form of an email address.

    Normalised: surrounding whitespace is stripped, the whole address is lowercased (no
    mainstream provider treats the local part as case-sensitive, although RFC 5321 allows it),
    and the domain is IDNA-encoded (stdlib codec, IDNA 2003) so ``bücher.example`` and
    ``xn--bcher-kva.example`` agree. A trailing dot on the domain is dropped.

    Deliberately NOT normalised by default: dots and ``+tags`` in the local part. Whether
    ``a.b+x@`` and ``ab@`` reach the same mailbox is a provider-specific rule that differs
    between providers and changes over time; a coalition-wide rule must be applied identically
    by every member, so only the rules everyone can verify are applied. ``provider_rules=True``
    opts in to Google's rules (gmail.com and googlemail.com: dots removed, ``+tag`` dropped,
    googlemail.com folded into gmail.com); all members must then use the same setting.

    Rejected: addresses without exactly one ``@``, with spaces or control characters, with an
    empty local part, or whose domain is not a dotted internet domain.
    """
    if not isinstance(raw, str):
        raise _fail("expected text", "pass the address as a string")
    text = raw.strip()
    if not text:
        raise _fail("it is empty", "leave the field missing instead of passing an empty value")
    if _has_space_or_control(text):
        raise _fail("it contains spaces or control characters", "remove them and retry")
    if text.count("@") != 1:
        raise _fail("it must contain exactly one '@'", "pass a single address such as x@y.org")
    local, _, domain_part = text.partition("@")
    if not local:
        raise _fail("the part before '@' is empty", "check the source field for truncation")
    domain = _ascii_domain(domain_part)
    if domain is None:
        raise _fail(
            "the domain is not a valid internet domain",
            "check the part after '@' (it needs at least one dot and no invalid characters)",
        )
    local = local.lower()
    if provider_rules and domain in _GOOGLE_DOMAINS:
        local = local.split("+", 1)[0].replace(".", "")
        domain = "gmail.com"
        if not local:
            raise _fail(
                "nothing is left of the local part after Google's rules",
                "check the part before '@'",
            )
    return f"{local}@{domain}"
