"""The demo's device-triage step: synthetic devices triaged and ranked into a case queue;
with the demo hub, the police member checks each device's contacts against the registry
(pseudonymised), pushes the devices' cases to the cases tier, and sends the local
authority a safeguarding referral for the child in the most urgent device's warned
conversation, all through the hub's HTTP API."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
import polars as pl

from safehold.cli.background_server import serving
from safehold.cli.console import console
from safehold.cli.demo_hub import HubRun
from safehold.cli.triage import print_queue
from safehold.client.cases import push_device_case, read_device_cases
from safehold.client.check import CheckAccount, check_accounts
from safehold.client.hub_api import HubApi
from safehold.client.referrals import send_referral
from safehold.hub.app import create_app
from safehold.hub.settings import HubSettings
from safehold.identity import Pseudonymiser, load_coalition_key
from safehold.store.database import make_engine
from safehold.synth.devices import generate_devices, standard_specs
from safehold.triage.cases import case_summary
from safehold.triage.queue import QueueEntry, average_precision, rank
from safehold.triage.referrals import draft_referrals
from safehold.triage.registry_contacts import ContactToCheck, RegistryAnswer, RegistryLookup
from safehold.triage.report import TriageReport, write_report
from safehold.triage.run import load_hash_sets, triage_device

DEMO_POLICE = "police-1"
DEMO_LOCAL_AUTHORITY = "la-1"


@contextmanager
def _demo_hub(run: HubRun) -> Iterator[HubApi]:
    """The demo hub of step 3, served again on 127.0.0.1, as the police member."""
    settings = HubSettings(data_dir=run.hub_dir, database_url=f"sqlite:///{run.hub_dir / 'hub.db'}")
    engine = make_engine(settings.database_url)
    try:
        with (
            serving(create_app(settings, engine)) as url,
            closing(httpx.Client(base_url=url, timeout=120)) as http,
        ):
            yield HubApi(http, run.api_keys[DEMO_POLICE])
    finally:
        engine.dispose()


def _lookup(api: HubApi, key_path: Path) -> RegistryLookup:
    def check(device_id: str, contacts: Sequence[ContactToCheck]) -> list[RegistryAnswer]:
        accounts = [CheckAccount(c.ref, c.identifiers) for c in contacts]
        results = check_accounts(api, accounts, device_id=device_id)
        return [RegistryAnswer(r.ref, r.match, r.typology) for r in results]

    return RegistryLookup(Pseudonymiser(load_coalition_key(key_path)), check)


def run_triage_demo(
    data_dir: Path,
    *,
    serious: int = 2,
    others: int = 4,
    seed: int = 7,
    hub: HubRun | None = None,
    world_dir: Path | None = None,
) -> None:
    """Write synthetic devices under ``data_dir/demo-devices``, triage each into
    ``data_dir/demo-triage/<device>``, and print the queue with its rank measure. With the
    demo ``hub`` (and its members' keys), do it as the police member of the demo world;
    with ``world_dir`` as well, the first device's address book also holds the phone number
    of a person the world's justice members registered, for the registry check to find."""
    devices_dir, results_dir = data_dir / "demo-devices", data_dir / "demo-triage"
    for folder in (devices_dir, results_dir):
        shutil.rmtree(folder, ignore_errors=True)  # both are the demo's own output
    started = time.perf_counter()
    specs = standard_specs(serious, others)
    planted = registered_contact(world_dir) if world_dir is not None and hub else None
    if planted is not None:
        specs[0] = replace(specs[0], extra_contacts=(planted,))
    with console.status("generating synthetic Android and iOS extractions"):
        truths = generate_devices(devices_dir, specs, seed=seed)
    index = load_hash_sets([devices_dir / "known_hashes.json"])
    key_path = data_dir / "coalition.key"
    with _hub_or_none(hub) as api:
        lookup = _lookup(api, key_path) if api is not None and key_path.exists() else None
        reports: list[tuple[Path, TriageReport]] = []
        with console.status("triaging"):
            for truth in truths:
                device = devices_dir / "devices" / truth.device_id
                report = triage_device(device, hash_index=index, registry=lookup)
                write_report(report, results_dir / truth.device_id)
                reports.append((results_dir / truth.device_id, report))
        ranked = rank(reports)
        print_queue(ranked)
        serious_ids = {t.device_id for t in truths if t.serious}
        ap = average_precision([e.report.device for e in ranked], serious_ids)
        console.print(
            f"{len(truths)} synthetic devices triaged in {time.perf_counter() - started:.1f}s; "
            f"the {len(serious_ids)} with planted material rank with average precision {ap:.2f}. "
            f"Reports: {results_dir}/<device>/report.html; devices and hash set: {devices_dir}",
            soft_wrap=True,
        )
        if api is not None:
            _to_hub(api, ranked, planted is not None)


@contextmanager
def _hub_or_none(run: HubRun | None) -> Iterator[HubApi | None]:
    if run is None or DEMO_POLICE not in run.api_keys:
        yield None
        return
    with _demo_hub(run) as api:
        yield api


def registered_contact(world_dir: Path) -> tuple[str, str] | None:
    """(name, phone) of a person with a current registration in the world's justice records."""
    month = datetime.now(UTC).strftime("%Y-%m")
    for path in sorted((world_dir / "members").glob("*/justice_records.parquet")):
        found = (
            pl.read_parquet(path)
            .filter(
                (pl.col("status") == "active")
                & pl.col("phone").is_not_null()
                & (pl.col("registered_until").is_null() | (pl.col("registered_until") >= month))
            )
            .head(1)
        )
        if found.height:
            row = found.row(0, named=True)
            return f"{row['given_name']} {row['family_name']}", str(row["phone"])
    return None


def _to_hub(api: HubApi, ranked: list[QueueEntry], planted: bool) -> None:
    """Registry results, device cases, and one referral, as the police member would."""
    checked = sum(e.report.registry_checked or 0 for e in ranked)
    matched = [e.report.device for e in ranked if e.report.registry_matches]
    if checked:
        expected = (
            "the first device's address book was given the number of a registered person of "
            "the demo world"
            if planted
            else "none was planted"
        )
        console.print(
            f"Registry: {checked:,} device contacts checked through the hub as keyed "
            f"pseudonyms; matches on {', '.join(matched) or 'no device'} ({expected}). "
            "The hub saw pseudonyms under contact tokens only; the matching number is in "
            "that device's report, to be confirmed with the registering member."
        )
    outcomes = [push_device_case(api, case_summary(e.report)).outcome for e in ranked]
    held = read_device_cases(api)
    console.print(
        f"Cases tier: {len(outcomes)} device cases pushed by {DEMO_POLICE} "
        f"({', '.join(sorted(set(outcomes)))}); the hub now holds {len(held)}, highest "
        f"priority {held[0]['payload']['summary']['device_id'] if held else 'none'}. Only "
        "scores, reasons and counts travel: no messages, numbers, paths or hashes."
    )
    first = next((e for e in ranked if draft_referrals(e.report, DEMO_LOCAL_AUTHORITY)), None)
    if first is None:
        console.print("No warned conversation with a likely child: no referral to send.")
        return
    draft = draft_referrals(first.report, DEMO_LOCAL_AUTHORITY)[0]
    # In the demo, this line stands for the officer reviewing the draft and confirming it
    # (`safehold triage refer` asks before sending anything).
    sent = send_referral(api, draft)
    console.print(
        f"Safeguarding referral {sent.referral_id} about {draft.child.case_ref or 'a child'} "
        f"({draft.child_age_band.value}) on device {first.report.device} sent to "
        f"{sent.to_member} ({'already there' if sent.replayed else 'stored'}, case "
        f"{sent.case_id[:12]}...), as an officer confirming `safehold triage refer` would."
    )
