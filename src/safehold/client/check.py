"""Registry checks: send keyed pseudonyms of the member's own accounts, learn match or no
match for each, never the list.

Accounts travel under opaque ``ref`` tokens chosen by the caller (row tokens, never the
account id) with their identifier pseudonyms; the answer maps each ref back to match or
no match, and the offence typology where coalition policy discloses it. Requests hold at
most 10,000 accounts; a 429 (rate limited) is waited out as the hub's ``Retry-After`` says.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

from safehold.client.hub_api import HubApi, HubError, HubUnreachableError
from safehold.exchange import SubjectRef

MAX_CHECK_ACCOUNTS = 10_000
_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")


class CheckError(Exception):
    """A registry check that could not be completed; says how far it got."""

    def __init__(self, message: str, checked: int, error: HubError | None = None) -> None:
        super().__init__(message)
        self.checked = checked
        self.error = error


@dataclass(frozen=True)
class CheckAccount:
    """One account to check: an opaque ref and the pseudonyms of its identifiers."""

    ref: str
    identifiers: tuple[SubjectRef, ...]

    def __post_init__(self) -> None:
        if not _REF.fullmatch(self.ref):
            raise ValueError(
                "a check ref is 1-64 characters of A-Z, a-z, 0-9, '_', '.', ':' or '-' "
                "and starts with a letter or digit"
            )
        if not self.identifiers:
            raise ValueError(f"account {self.ref} has no identifiers to check")

    def to_json(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "identifiers": [i.model_dump(mode="json") for i in self.identifiers],
        }


@dataclass(frozen=True)
class CheckResult:
    ref: str
    match: bool
    typology: str | None


def row_ref(row: int) -> str:
    """The ref for the ``row``-th account of a file: a position, never an identifier."""
    return f"r{row}"


def check_accounts(
    api: HubApi,
    accounts: Iterable[CheckAccount],
    *,
    per_request: int = MAX_CHECK_ACCOUNTS,
    on_request: Callable[[int], None] | None = None,
    device_id: str | None = None,
) -> list[CheckResult]:
    """Check every account, ``per_request`` at a time, in order. ``on_request`` is called
    with the number of accounts each answered request covered (for progress). With
    ``device_id`` (police triaging a seized device) the accounts are the device's contacts
    and go to ``/v1/registry/check-contacts``, bound to that device."""
    if not 1 <= per_request <= MAX_CHECK_ACCOUNTS:
        raise ValueError(f"per_request must be 1 to {MAX_CHECK_ACCOUNTS:,} accounts")
    results: list[CheckResult] = []
    seen: set[str] = set()
    for chunk in _chunks(accounts, per_request):
        for account in chunk:
            if account.ref in seen:
                raise ValueError(f"ref {account.ref} is used twice; each account needs its own")
            seen.add(account.ref)
        results.extend(_check_once(api, chunk, len(results), device_id))
        if on_request is not None:
            on_request(len(chunk))
    return results


def _chunks(items: Iterable[CheckAccount], size: int) -> Iterator[list[CheckAccount]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _check_once(
    api: HubApi, chunk: Sequence[CheckAccount], done: int, device_id: str | None
) -> list[CheckResult]:
    body: dict[str, Any] = {"accounts": [account.to_json() for account in chunk]}
    path = "/v1/registry/check"
    if device_id is not None:
        body["device_id"] = device_id
        path = "/v1/registry/check-contacts"
    try:
        answer = api.request("POST", path, json=body)
    except HubUnreachableError as exc:
        raise CheckError(
            f"{exc}; {done:,} accounts were checked before it; nothing is written, run the "
            "same command again",
            done,
        ) from None
    except HubError as exc:
        raise CheckError(
            f"the hub refused the check ({exc.status} {exc.code}): {exc.message}", done, exc
        ) from None
    return _results(answer, chunk, done)


def _results(answer: dict[str, Any], chunk: Sequence[CheckAccount], done: int) -> list[CheckResult]:
    by_ref: dict[str, CheckResult] = {}
    items = answer.get("results")
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("ref"), str):
            continue
        typology = item.get("typology")
        by_ref[item["ref"]] = CheckResult(
            ref=item["ref"],
            match=item.get("match") is True,
            typology=typology if isinstance(typology, str) else None,
        )
    missing = [a.ref for a in chunk if a.ref not in by_ref]
    if missing:
        raise CheckError(
            f"the hub's answer lacks {len(missing):,} of the {len(chunk):,} accounts sent "
            f"(first ref {missing[0]}); nothing is written, run the same command again",
            done,
        )
    return [by_ref[a.ref] for a in chunk]
