"""`safehold member prepare|submit|check` on a tiny world: against a fake hub (faults on
demand) and end to end against the real hub app on SQLite and PostgreSQL."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import httpx
import polars as pl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from safehold.cli import member as member_cli
from safehold.cli.main import app
from safehold.client.batch_files import read_batch_file
from safehold.client.journal import journal_path
from safehold.exchange import Member, MemberKind, SizeBand
from safehold.store.members import add_member, issue_key
from safehold.store.models import BatchRow
from tests.client.fake_hub import HUB_URL, FakeHub
from tests.client.worlds import TinyWorld, make_tiny_world
from tests.hub.conftest import SETUP, Hub, make_hub

PLATFORM = "plat-small-1"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> TinyWorld:
    return make_tiny_world(tmp_path_factory.mktemp("member-wire"))


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeHub:
    hub = FakeHub()
    monkeypatch.setattr(member_cli, "open_hub", lambda _url: hub.client())
    return hub


def invoke(*args: str | Path, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, [str(a) for a in args], env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def prepare(world: TinyWorld, member: str, out: Path, *extra: str) -> None:
    code, output = invoke(
        "member", "prepare", world.members / member, "--key", world.key_path, "--out", out, *extra
    )
    assert code == 0, output


def raw_identifiers(world: TinyWorld, member: str) -> set[str]:
    accounts = pl.read_parquet(world.members / member / "accounts.parquet")
    values: set[str] = set()
    for column in ("account_id", "email", "phone", "username"):
        values |= {v for v in accounts[column].drop_nulls().to_list() if len(v) >= 6}
    return values


# --- prepare ----------------------------------------------------------------------------


def test_prepare_writes_a_batch_file_with_stable_ids(world: TinyWorld, tmp_path: Path) -> None:
    out = tmp_path / "a" / "batch.ndjson.gz"
    code, output = invoke(
        "member",
        "prepare",
        world.members / PLATFORM,
        "--key",
        world.key_path,
        "--out",
        out,
        "--kind",
        "platform",
        "--batch-size",
        "50",
    )
    assert code == 0, output
    assert str(out) in output.replace("\n", "")
    assert "account_keys" in output and "batch" in output
    batches = list(read_batch_file(out))
    assert all(len(b.records) <= 50 for b in batches)
    assert {b.member_id for b in batches} == {PLATFORM}
    # Preparing again gives the same batch ids (and the same content).
    again = tmp_path / "b" / "batch.ndjson"
    prepare(world, PLATFORM, again, "--batch-size", "50")
    assert [b.batch_id for b in read_batch_file(again)] == [b.batch_id for b in batches]
    text = gzip.decompress(out.read_bytes()).decode()
    assert not any(value in text for value in raw_identifiers(world, PLATFORM))
    assert [p.name for p in out.parent.iterdir()] == ["batch.ndjson.gz"], "no staging left"


def test_prepare_refuses_the_wrong_kind(world: TinyWorld, tmp_path: Path) -> None:
    out = tmp_path / "batch.ndjson.gz"
    code, output = invoke(
        "member", "prepare", world.members / PLATFORM, "--key", world.key_path,
        "--out", out, "--kind", "police",
    )  # fmt: skip
    assert code == 2
    assert "--kind police does not match" in output and "platform" in output
    assert not out.exists()


def test_prepare_to_a_folder_still_writes_parquet(world: TinyWorld, tmp_path: Path) -> None:
    out = tmp_path / "prepared"
    prepare(world, "police-1", out)
    assert {p.name for p in out.iterdir()} == {
        "member.json",
        "registry_entries.parquet",
        "cohort_labels.parquet",
    }


# --- submit against the fake hub -----------------------------------------------------------


@pytest.fixture
def batch_file(world: TinyWorld, tmp_path: Path) -> Path:
    out = tmp_path / "plat.ndjson.gz"
    prepare(world, PLATFORM, out, "--batch-size", "40")
    return out


def submit(path: Path, key: str, *extra: str) -> tuple[int, str]:
    return invoke("member", "submit", path, "--hub", HUB_URL, *extra, env={"SAFEHOLD_API_KEY": key})


def test_submit_then_rerun_sends_nothing_twice(fake: FakeHub, batch_file: Path) -> None:
    key = fake.add_key(PLATFORM)
    ids = [b.batch_id for b in read_batch_file(batch_file)]
    code, output = submit(batch_file, key)
    assert code == 0, output
    assert f"{len(ids)} batches acknowledged" in output
    assert dict(fake.store_count) == dict.fromkeys(ids, 1)
    journal = [json.loads(x)["batch_id"] for x in journal_path(batch_file).read_text().splitlines()]
    assert journal == ids
    code, output = submit(batch_file, key)
    assert code == 0, output
    assert f"{len(ids)} skipped" in output
    assert dict(fake.store_count) == dict.fromkeys(ids, 1)


def test_submit_stops_when_the_hub_goes_away_and_resumes(fake: FakeHub, batch_file: Path) -> None:
    key = fake.add_key(PLATFORM)
    ids = [b.batch_id for b in read_batch_file(batch_file)]
    fake.down_after = 2
    fake.lose_answer = {ids[1]}
    code, output = submit(batch_file, key, "--retries", "1")
    flat = " ".join(output.split())
    assert code == 75, output
    assert f"1 of {len(ids)} batches are acknowledged" in flat
    assert "run the same command again to resume" in flat
    fake.down_after = None
    code, output = submit(batch_file, key)
    assert code == 0, output
    assert "1 were already stored (replayed)" in " ".join(output.split())
    assert dict(fake.store_count) == dict.fromkeys(ids, 1)


def test_submit_prints_the_hubs_reasons_on_422(fake: FakeHub, batch_file: Path) -> None:
    key = fake.add_key(PLATFORM)
    first = next(iter(read_batch_file(batch_file))).batch_id
    fake.reject[first] = (
        422,
        {
            "error": "batch_rejected",
            "message": "1 record is not valid",
            "details": [{"index": 3, "field": "identifiers.0.kind", "reason": "not a kind"}],
        },
    )
    code, output = submit(batch_file, key)
    flat = " ".join(output.split())
    assert code == 1, output
    assert "422 batch_rejected" in flat
    assert "record 3, field 'identifiers.0.kind': not a kind" in flat
    assert "0 of" in flat


def test_submit_reads_the_key_from_a_file_and_never_from_an_option(
    fake: FakeHub, batch_file: Path, tmp_path: Path
) -> None:
    key = fake.add_key(PLATFORM)
    key_file = tmp_path / "api.key"
    key_file.write_text(key + "\n")
    key_file.chmod(0o600)
    code, output = invoke(
        "member", "submit", batch_file, "--hub", HUB_URL, "--api-key-file", key_file
    )
    assert code == 0, output
    assert key not in output
    code, output = invoke(
        "member", "submit", batch_file, "--hub", HUB_URL, env={"SAFEHOLD_API_KEY": ""}
    )
    assert code == 2 and "no API key" in output
    code, output = invoke("member", "submit", batch_file, "--hub", HUB_URL, "--api-key", key)
    assert code == 2 and key not in output


def test_submit_a_prepared_folder_with_a_journal_beside_it(
    fake: FakeHub, world: TinyWorld, tmp_path: Path
) -> None:
    folder = tmp_path / "prepared"
    prepare(world, "police-1", folder)
    key = fake.add_key("police-1")
    code, output = submit(folder, key, "--batch-size", "10")
    assert code == 0, output
    assert journal_path(folder).exists()
    assert len(journal_path(folder).read_text().splitlines()) == len(fake.store_count) > 2
    code, output = submit(folder, key, "--batch-size", "10")
    assert code == 0 and fake.batch_requests == len(fake.store_count)


def test_submit_refuses_another_members_key_before_sending(fake: FakeHub, batch_file: Path) -> None:
    code, output = submit(batch_file, fake.add_key("plat-other"))
    assert code == 1
    assert "belongs to member plat-other" in " ".join(output.split())
    assert fake.batch_requests == 0


# --- check against the fake hub ------------------------------------------------------------


def registry_of(world: TinyWorld, tmp_path: Path) -> dict[tuple[str, str, int], str]:
    """The registry a hub would hold after the justice members submitted."""
    registry: dict[tuple[str, str, int], str] = {}
    for member in ("police-1", "probation-1", "court-1"):
        prepare(world, member, tmp_path / member)
        entries = pl.read_parquet(tmp_path / member / "registry_entries.parquet")
        for row in entries.iter_rows(named=True):
            for subject in row["subjects"]:
                registry[(subject["kind"], subject["pseudonym"], subject["key_version"])] = row[
                    "typology"
                ]
    return registry


def registered_accounts(world: TinyWorld) -> set[str]:
    """Accounts on the platform of people who have a justice record (the planted truth)."""
    people = pl.read_parquet(world.truth / "justice_records.parquet")["person_id"]
    accounts = pl.read_parquet(world.truth / "accounts.parquet")
    return set(
        accounts.filter(
            pl.col("person_id").is_in(people.to_list()) & (pl.col("member_id") == PLATFORM)
        )["account_id"]
    )


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_check_finds_registered_people_and_sends_no_raw_identifier(
    fake: FakeHub, world: TinyWorld, tmp_path: Path, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.registry = registry_of(world, tmp_path)
    fake.disclose_typology = True
    fake.rate_limited = 1
    monkey_sleeps: list[float] = []
    accounts = world.members / PLATFORM / "accounts.parquet"
    if fmt == "csv":
        csv = tmp_path / "accounts.csv"
        pl.read_parquet(accounts).drop("dob").write_csv(csv)
        accounts = csv
    out = tmp_path / "results.csv"
    monkeypatch.setattr("time.sleep", monkey_sleeps.append)
    code, output = invoke(
        "member", "check", accounts, "--key", world.key_path, "--hub", HUB_URL,
        "--out", out, "--per-request", "25",
        env={"SAFEHOLD_API_KEY": fake.add_key(PLATFORM)},
    )  # fmt: skip
    assert code == 0, output
    assert monkey_sleeps == [7.0], "the 429 was waited out as Retry-After said"
    results = pl.read_csv(out)
    raw = pl.read_parquet(world.members / PLATFORM / "accounts.parquet")
    assert results.columns == ["account_id", "checked", "match", "typology"]
    assert results["account_id"].to_list() == raw["account_id"].to_list()
    matched = set(results.filter(pl.col("match"))["account_id"])
    truth = registered_accounts(world)
    assert matched, "the tiny world plants registered people with accounts"
    assert matched <= truth
    assert results.filter(pl.col("match"))["typology"].null_count() == 0
    assert f"{len(matched)} match(es)" in " ".join(output.split())
    # Requests of at most 25 accounts, refs are row tokens, and nothing raw left the machine.
    assert all(len(r["accounts"]) <= 25 for r in fake.check_requests)
    refs = [a["ref"] for r in fake.check_requests[1:] for a in r["accounts"]]
    assert all(re.fullmatch(r"r\d+", ref) for ref in refs)
    sent = b"\n".join(fake.bodies).decode()
    assert not any(value in sent for value in raw_identifiers(world, PLATFORM))


def test_check_needs_an_identifier_column(fake: FakeHub, world: TinyWorld, tmp_path: Path) -> None:
    accounts = tmp_path / "accounts.csv"
    pl.DataFrame({"account_id": ["a1"], "nickname": ["x"]}).write_csv(accounts)
    code, output = invoke(
        "member", "check", accounts, "--key", world.key_path, "--hub", HUB_URL,
        "--out", tmp_path / "r.csv", env={"SAFEHOLD_API_KEY": fake.add_key(PLATFORM)},
    )  # fmt: skip
    assert code == 2
    assert "at least one of email, phone, username" in " ".join(output.split())
    assert fake.check_requests == []


def test_rows_without_a_usable_identifier_are_reported_not_sent(
    fake: FakeHub, world: TinyWorld, tmp_path: Path
) -> None:
    accounts = tmp_path / "accounts.csv"
    pl.DataFrame(
        {"account_id": ["a1", "a2", "a3"], "email": ["someone@example.org", None, "not an email"]}
    ).write_csv(accounts)
    out = tmp_path / "r.csv"
    code, output = invoke(
        "member", "check", accounts, "--key", world.key_path, "--hub", HUB_URL,
        "--out", out, env={"SAFEHOLD_API_KEY": fake.add_key(PLATFORM)},
    )  # fmt: skip
    assert code == 0, output
    flat = " ".join(output.split())
    assert "Checked 1 of the 3 accounts" in flat
    assert "2 accounts had no usable identifier" in flat
    assert "1 identifiers could not be normalised" in flat
    assert pl.read_csv(out)["checked"].to_list() == [True, False, False]
    assert [a["ref"] for a in fake.check_requests[0]["accounts"]] == ["r0"]


def test_an_unreachable_hub_is_reported_before_anything_is_sent(
    world: TinyWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch_file: Path
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    monkeypatch.setattr(
        member_cli,
        "open_hub",
        lambda url: httpx.Client(base_url=url, transport=httpx.MockTransport(refuse)),
    )
    monkeypatch.setattr("time.sleep", lambda _s: None)
    code, output = submit(batch_file, "shk_0123456789abcdef_x", "--retries", "2")
    assert code == 75
    assert "could not reach the hub" in output and "nothing was sent" in output


# --- end to end against the real hub app ---------------------------------------------------


class LosingClient(TestClient):
    """The in-process hub, but the answer to chosen batches is lost after they are stored."""

    lose: ClassVar[set[str]] = set()

    def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        response = super().send(request, **kwargs)
        if request.url.path == "/v1/batches" and response.status_code == 201:
            batch_id = response.json()["batch_id"]
            if batch_id in self.lose:
                self.lose.discard(batch_id)
                raise httpx.ReadTimeout("the answer was lost", request=request)
        return response


@pytest.fixture
def real_hub(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Hub]:
    hub = make_hub(tmp_path / "hub", database_url)
    with Session(hub.engine) as session, session.begin():
        add_member(
            session,
            Member(member_id=PLATFORM, name="Small platform", kind=MemberKind.PLATFORM,
                   size_band=SizeBand.SMALL),
            SETUP,
        )  # fmt: skip
        hub.member_keys[PLATFORM] = issue_key(session, SETUP, PLATFORM).plaintext
    monkeypatch.setattr(member_cli, "open_hub", lambda _url: LosingClient(hub.client.app))
    monkeypatch.setattr("time.sleep", lambda _s: None)
    try:
        yield hub
    finally:
        hub.client.close()
        hub.engine.dispose()


def stored_batches(hub: Hub, member_id: str) -> list[str]:
    with Session(hub.engine) as session:
        return list(
            session.scalars(select(BatchRow.batch_id).where(BatchRow.member_id == member_id))
        )


def test_prepare_and_submit_end_to_end_resuming_without_duplicates(
    real_hub: Hub, world: TinyWorld, tmp_path: Path
) -> None:
    for justice in ("police-1", "probation-1", "court-1"):
        path = tmp_path / f"{justice}.ndjson.gz"
        prepare(world, justice, path, "--kind", justice.split("-")[0], "--batch-size", "20")
        code, output = submit(path, real_hub.member_keys[justice])
        assert code == 0, output
        assert sorted(stored_batches(real_hub, justice)) == sorted(
            b.batch_id for b in read_batch_file(path)
        )

    path = tmp_path / "platform.ndjson.gz"
    prepare(world, PLATFORM, path, "--batch-size", "100")
    ids = [b.batch_id for b in read_batch_file(path)]
    LosingClient.lose = {ids[2]}
    key = real_hub.member_keys[PLATFORM]
    code, output = submit(path, key, "--retries", "1")
    assert code == 75, output
    assert "run the same command again to resume" in " ".join(output.split())
    assert sorted(stored_batches(real_hub, PLATFORM)) == sorted(ids[:3])

    code, output = submit(path, key)
    assert code == 0, output
    assert "1 were already stored (replayed)" in " ".join(output.split())
    assert sorted(stored_batches(real_hub, PLATFORM)) == sorted(ids)

    # Prepared again from the same raw data: the same ids and content, all replays.
    again = tmp_path / "again.ndjson.gz"
    prepare(world, PLATFORM, again, "--batch-size", "100")
    code, output = submit(again, key)
    assert code == 0, output
    assert f"{len(ids)} were already stored (replayed)" in " ".join(output.split())
    assert sorted(stored_batches(real_hub, PLATFORM)) == sorted(ids)


def test_registry_check_end_to_end_finds_planted_registered_people(
    real_hub: Hub, world: TinyWorld, tmp_path: Path
) -> None:
    for justice in ("police-1", "probation-1", "court-1"):
        path = tmp_path / f"{justice}.ndjson.gz"
        prepare(world, justice, path)
        code, output = submit(path, real_hub.member_keys[justice])
        assert code == 0, output
    out = tmp_path / "results.csv"
    code, output = invoke(
        "member", "check", world.members / PLATFORM / "accounts.parquet",
        "--key", world.key_path, "--hub", "http://testserver", "--out", out,
        env={"SAFEHOLD_API_KEY": real_hub.member_keys[PLATFORM]},
    )  # fmt: skip
    assert code == 0, output
    results = pl.read_csv(out)
    matched = set(results.filter(pl.col("match"))["account_id"])
    assert matched, "registered people with accounts on the platform are found"
    assert matched <= registered_accounts(world), "and nobody else"
    assert results["checked"].all()
    assert results.filter(pl.col("match"))["typology"].null_count() == len(matched), (
        "typology stays hidden under the default coalition policy"
    )


def test_the_real_hubs_refusal_is_printed_record_by_record(
    real_hub: Hub, world: TinyWorld, tmp_path: Path
) -> None:
    prepared = tmp_path / "police.ndjson"
    prepare(world, "police-1", prepared, "--batch-size", "5")
    lines = prepared.read_text().splitlines()
    lines.insert(3, lines[1])  # the first batch now repeats its first entry as record 2
    broken = tmp_path / "broken.ndjson"
    broken.write_text("\n".join(lines) + "\n")
    code, output = submit(broken, real_hub.member_keys["police-1"])
    flat = " ".join(output.split())
    assert code == 1, output
    assert "422 batch_rejected" in flat
    assert "record 2, field 'entry_id': repeats the entry_id of record 0" in flat
    assert stored_batches(real_hub, "police-1") == []
