"""Registry look-ups of a seized device's contacts, pseudonymised on the police side.

Why: an officer triaging a device needs to know whether the people it talks to are
registered offenders, without the hub ever seeing a phone number or email. Every address
the device holds (address-book numbers, message counterparts, call numbers) is normalised
and keyed with the coalition key here; the check itself is a callable the caller supplies
(the CLI sends it through the hub client), so triage never talks to the network and a run
without a hub is unchanged. The answer is match or no match per contact token; the report
keeps the matching addresses on the police side, and the score gains a reason."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from safehold.exchange import IdentifierKind, SubjectRef
from safehold.identity import IdentifierError, Pseudonymiser
from safehold.triage.records import DeviceCall, DeviceContact, DeviceMessage


@dataclass(frozen=True)
class ContactToCheck:
    """One device address as it is sent: an opaque token and its keyed pseudonym."""

    ref: str
    identifiers: tuple[SubjectRef, ...]


@dataclass(frozen=True)
class RegistryAnswer:
    ref: str
    match: bool
    typology: str | None


RegistryCheck = Callable[[str, Sequence[ContactToCheck]], Sequence[RegistryAnswer]]
"""``(device_id, contacts) -> answers``: the hub's police contact check, supplied by the caller."""


@dataclass
class DeviceAddress:
    """One distinct identifier found on the device, with where it was seen."""

    kind: IdentifierKind
    normalised: str
    shown: str
    """The first form found on the device (kept in the police-side report only)."""
    seen_in: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class RegistryMatch:
    address: str
    kind: str
    seen_in: tuple[str, ...]
    typology: str | None


@dataclass(frozen=True)
class RegistryLookup:
    """What a run needs to check contacts: the coalition key and the hub's check."""

    pseudonymiser: Pseudonymiser
    check: RegistryCheck


@dataclass(frozen=True)
class RegistryOutcome:
    checked: int
    """Distinct addresses sent (as pseudonyms)."""
    unusable: int
    """Addresses that are neither a valid phone number nor an email, so not checked."""
    matches: tuple[RegistryMatch, ...]


def _kind_and_value(address: str) -> tuple[IdentifierKind, str] | None:
    text = address.strip()
    if not text or text == "device-owner":
        return None
    if "@" in text:
        local, _, domain = text.partition("@")
        if local.isdigit() and "whatsapp" in domain.lower():
            return IdentifierKind.PHONE, "+" + local  # a WhatsApp JID is a phone number
        return IdentifierKind.EMAIL, text
    if sum(ch.isdigit() for ch in text) < 5:
        return None  # a short code or a username, not a number in the registry's sense
    return IdentifierKind.PHONE, text


def device_addresses(
    contacts: Iterable[DeviceContact],
    messages: Iterable[DeviceMessage],
    calls: Iterable[DeviceCall],
    pseudonymiser: Pseudonymiser,
) -> tuple[list[DeviceAddress], int]:
    """Distinct normalised phone numbers and emails on the device (sorted, so tokens are
    repeatable), and how many raw addresses could not be normalised."""
    raw: list[tuple[str, str]] = []
    for contact in contacts:
        raw += [(n, f"{contact.app} contacts") for n in contact.numbers]
    raw += [(m.counterpart, f"{m.app} messages") for m in messages]
    raw += [(c.number, f"{c.app} calls") for c in calls]
    found: dict[tuple[IdentifierKind, str], DeviceAddress] = {}
    unusable: set[str] = set()
    for address, source in raw:
        parsed = _kind_and_value(address)
        if parsed is None:
            continue
        kind, value = parsed
        try:
            normalised = pseudonymiser.normalise(kind, value)
        except (IdentifierError, ValueError):
            unusable.add(address)
            continue
        entry = found.setdefault(
            (kind, normalised), DeviceAddress(kind, normalised, shown=address.strip())
        )
        entry.seen_in.add(source)
    ordered = sorted(found.values(), key=lambda a: (a.kind.value, a.normalised))
    return ordered, len(unusable)


def check_device_contacts(
    device_id: str,
    contacts: Iterable[DeviceContact],
    messages: Iterable[DeviceMessage],
    calls: Iterable[DeviceCall],
    lookup: RegistryLookup,
) -> RegistryOutcome:
    """Pseudonymise the device's addresses and ask the hub; only tokens and pseudonyms leave."""
    addresses, unusable = device_addresses(contacts, messages, calls, lookup.pseudonymiser)
    keyed = lookup.pseudonymiser
    to_check = [
        ContactToCheck(
            ref=f"c{n}",
            identifiers=(
                SubjectRef(
                    kind=a.kind,
                    pseudonym=keyed.pseudonym_of_normalised(a.kind, a.normalised),
                    key_version=keyed.key_version,
                ),
            ),
        )
        for n, a in enumerate(addresses)
    ]
    answers = lookup.check(device_id, to_check) if to_check else []
    by_ref = {a.ref: a for a in answers}
    missing = [c.ref for c in to_check if c.ref not in by_ref]
    if missing:
        raise ValueError(
            f"the registry check answered {len(by_ref)} of {len(to_check)} contacts "
            f"(first missing {missing[0]}); run the triage again"
        )
    matches = tuple(
        RegistryMatch(a.shown, a.kind.value, tuple(sorted(a.seen_in)), by_ref[c.ref].typology)
        for c, a in zip(to_check, addresses, strict=True)
        if by_ref[c.ref].match
    )
    return RegistryOutcome(checked=len(to_check), unusable=unusable, matches=matches)
