"""Triage with a hub configured: the police member's registry check of a device's contacts
(pseudonymised here with the coalition key) and pushing device cases to the cases tier.

Only keyed pseudonyms under contact tokens, and case summaries (score, reasons, counts),
leave this machine; the report with the addresses and evidence pointers stays here."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Annotated

import typer

from safehold.cli import member
from safehold.cli.console import console, fail
from safehold.client.cases import PushedCase, push_device_case
from safehold.client.check import CheckAccount, CheckError, check_accounts
from safehold.client.hub_api import HubApi, HubError, HubUnreachableError, display_url
from safehold.identity import Pseudonymiser, SecretError, load_coalition_key
from safehold.triage.cases import case_summary
from safehold.triage.registry_contacts import (
    ContactToCheck,
    RegistryAnswer,
    RegistryLookup,
)
from safehold.triage.report import TriageReport

OptionalHub = Annotated[
    str | None,
    typer.Option(
        "--hub",
        help="The hub's URL: check the device's contacts (with --key) and push the case.",
    ),
]
HubKeyFile = Annotated[
    Path | None,
    typer.Option(
        "--hub-key-file",
        "--api-key-file",
        help=f"File holding the police member's API key (or set {member.API_KEY_ENV}).",
    ),
]
CoalitionKeyFile = Annotated[
    Path | None,
    typer.Option(
        "--key",
        help="Coalition key file: check the device's contacts against the registry (needs --hub).",
    ),
]
Region = Annotated[
    str, typer.Option(help="Default region for phone numbers without a country code.")
]


@contextmanager
def hub_api(hub: str, key_file: Path | None) -> Iterator[HubApi]:
    """The hub API with the member's key, checked with /v1/me before anything is sent."""
    api_key = member._api_key(key_file)
    with closing(member.open_hub(hub)) as http:
        api, _member_id = member._connect(http, hub, api_key, 6)
        yield api


def registry_lookup(api: HubApi, key_path: Path, region: str) -> RegistryLookup:
    """A lookup that pseudonymises with the coalition key here and asks the hub's police
    contact check (``/v1/registry/check-contacts``)."""
    try:
        pseudonymiser = Pseudonymiser(load_coalition_key(key_path), phone_region=region)
    except SecretError as exc:
        fail(str(exc))

    def check(device_id: str, contacts: Sequence[ContactToCheck]) -> list[RegistryAnswer]:
        accounts = [CheckAccount(c.ref, c.identifiers) for c in contacts]
        try:
            results = check_accounts(api, accounts, per_request=1_000, device_id=device_id)
        except CheckError as exc:
            code = member.EXIT_RETRY_LATER if exc.error is None else member.EXIT_REFUSED
            fail(f"registry check of {device_id}'s contacts: {exc}", code)
        return [RegistryAnswer(r.ref, r.match, r.typology) for r in results]

    return RegistryLookup(pseudonymiser, check)


def push_cases(api: HubApi, hub: str, reports: Sequence[TriageReport]) -> list[PushedCase]:
    """Push each report's case summary; a rerun is a replay, a newer triage an update."""
    pushed: list[PushedCase] = []
    for report in reports:
        summary = case_summary(report)
        try:
            pushed.append(push_device_case(api, summary))
        except HubUnreachableError as exc:
            fail(
                f"{len(pushed)} of {len(reports)} cases pushed; then {exc}: run the command "
                "again (what was pushed is not pushed twice)",
                member.EXIT_RETRY_LATER,
            )
        except HubError as exc:
            fields = ", ".join(str(d.get("field")) for d in exc.details)
            fail(
                f"{len(pushed)} of {len(reports)} cases pushed; the hub refused device "
                f"{summary.device_id}: {exc.status} {exc.code}: {exc.message}"
                + (f" (fields: {fields})" if fields else "")
            )
    for p in pushed:
        console.print(f"case for {p.device_id}: {p.outcome} at {display_url(hub)} ({p.case_id})")
    return pushed
