"""Submitting batches against a fake hub: resume after failures, never a duplicate."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from safehold.client.batch_files import batches_from_prepared, read_batch_dicts, write_batch_file
from safehold.client.hub_api import HubApi, RetryPolicy
from safehold.client.journal import Journal, journal_path
from safehold.client.submit import (
    SubmitInterruptedError,
    SubmitStoppedError,
    describe_details,
    encode_batch,
    submit_batches,
)
from safehold.exchange import Batch
from safehold.identity.prepare import prepare_member
from tests.client.fake_hub import HUB_URL, FakeHub
from tests.client.worlds import TinyWorld, make_tiny_world

WHEN = datetime(2026, 4, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def batches(tmp_path_factory: pytest.TempPathFactory) -> list[Batch]:
    root = tmp_path_factory.mktemp("submit")
    world: TinyWorld = make_tiny_world(root)
    prepare_member(world.members / "plat-small-1", world.key, root / "prepared")
    found = list(batches_from_prepared(root / "prepared", max_records=40, created_at=WHEN))
    assert len(found) >= 8
    return found


@pytest.fixture
def batch_file(batches: list[Batch], tmp_path: Path) -> Path:
    path = tmp_path / "plat-small-1.ndjson.gz"
    write_batch_file(path, batches)
    return path


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def api_for(fake: FakeHub, key: str, sleeps: Sleeps, attempts: int = 4) -> HubApi:
    return HubApi(fake.client(), key, RetryPolicy(attempts=attempts, sleep=sleeps))


def run(fake: FakeHub, key: str, path: Path, sleeps: Sleeps, attempts: int = 4) -> int:
    """One `submit` of a batch file, as the CLI runs it; returns batches acknowledged."""
    api = api_for(fake, key, sleeps, attempts)
    journal = Journal(journal_path(path), api.hub_url)
    report = submit_batches(
        api, read_batch_dicts(path), journal, member_id="plat-small-1", source=str(path)
    )
    return report.acknowledged


def journal_ids(path: Path) -> list[str]:
    return [json.loads(line)["batch_id"] for line in journal_path(path).read_text().splitlines()]


def test_everything_is_stored_once_and_journalled(batches: list[Batch], batch_file: Path) -> None:
    fake = FakeHub()
    key = fake.add_key("plat-small-1")
    sleeps = Sleeps()
    assert run(fake, key, batch_file, sleeps) == len(batches)
    assert dict(fake.store_count) == {b.batch_id: 1 for b in batches}
    assert journal_ids(batch_file) == [b.batch_id for b in batches]
    assert sleeps == []
    # A second run sends nothing at all: the journal lists every batch.
    requests = fake.batch_requests
    assert run(fake, key, batch_file, sleeps) == len(batches)
    assert fake.batch_requests == requests


def test_bodies_are_gzip_ndjson_with_the_key_in_the_header_only(batches: list[Batch]) -> None:
    body = encode_batch(batches[0])
    lines = gzip.decompress(body).decode().splitlines()
    assert json.loads(lines[0])["batch_id"] == batches[0].batch_id
    assert len(lines) == 1 + len(batches[0].records)
    assert encode_batch(batches[0]) == body, "the same batch always gives the same bytes"


def test_connection_lost_part_way_then_rerun(batches: list[Batch], batch_file: Path) -> None:
    fake = FakeHub(down_after=3)
    key = fake.add_key("plat-small-1")
    sleeps = Sleeps()
    with pytest.raises(SubmitInterruptedError) as caught:
        run(fake, key, batch_file, sleeps, attempts=3)
    assert caught.value.report.acknowledged == 3
    assert caught.value.batch_id == batches[3].batch_id
    assert "network error" in str(caught.value.cause)
    assert len(sleeps) == 2, "bounded: three tries, two waits"
    assert journal_ids(batch_file) == [b.batch_id for b in batches[:3]]

    fake.down_after = None
    assert run(fake, key, batch_file, sleeps) == len(batches)
    assert dict(fake.store_count) == {b.batch_id: 1 for b in batches}
    assert journal_ids(batch_file) == [b.batch_id for b in batches]


def test_a_lost_answer_is_retried_and_answered_as_a_replay(
    batches: list[Batch], batch_file: Path
) -> None:
    fake = FakeHub(lose_answer={batches[2].batch_id, batches[5].batch_id})
    key = fake.add_key("plat-small-1")
    sleeps = Sleeps()
    api = api_for(fake, key, sleeps)
    journal = Journal(journal_path(batch_file), api.hub_url)
    report = submit_batches(api, read_batch_dicts(batch_file), journal)
    assert report.acknowledged == len(batches)
    assert report.replayed == 2 and report.stored == len(batches) - 2
    assert dict(fake.store_count) == {b.batch_id: 1 for b in batches}
    assert len(sleeps) == 2


def test_a_lost_answer_across_runs_is_a_replay_not_a_duplicate(
    batches: list[Batch], batch_file: Path
) -> None:
    """Stored, answer lost, retries exhausted; the rerun resends it and the hub replays."""
    fake = FakeHub(lose_answer={batches[4].batch_id})
    key = fake.add_key("plat-small-1")
    sleeps = Sleeps()
    with pytest.raises(SubmitInterruptedError) as caught:
        run(fake, key, batch_file, sleeps, attempts=1)
    assert caught.value.batch_id == batches[4].batch_id
    assert "timed out" in str(caught.value.cause)
    assert batches[4].batch_id not in journal_ids(batch_file)

    assert run(fake, key, batch_file, sleeps) == len(batches)
    assert dict(fake.store_count) == {b.batch_id: 1 for b in batches}
    lines = [json.loads(x) for x in journal_path(batch_file).read_text().splitlines()]
    assert [x["batch_id"] for x in lines] == [b.batch_id for b in batches]
    assert [x["batch_id"] for x in lines if x["replayed"]] == [batches[4].batch_id]


def test_503_is_retried_after_the_hubs_retry_after(batches: list[Batch], batch_file: Path) -> None:
    fake = FakeHub(unavailable=2)
    key = fake.add_key("plat-small-1")
    sleeps = Sleeps()
    assert run(fake, key, batch_file, sleeps) == len(batches)
    assert sleeps == [3.0, 3.0]
    assert dict(fake.store_count) == {b.batch_id: 1 for b in batches}


def test_a_409_stops_with_the_hubs_reasons(batches: list[Batch], batch_file: Path) -> None:
    fake = FakeHub()
    key = fake.add_key("plat-small-1")
    fake.reject[batches[2].batch_id] = (
        409,
        {"error": "batch_conflict", "message": "other content under this id", "details": []},
    )
    with pytest.raises(SubmitStoppedError) as caught:
        run(fake, key, batch_file, Sleeps())
    stopped = caught.value
    assert stopped.batch_id == batches[2].batch_id
    assert stopped.error is not None and stopped.error.code == "batch_conflict"
    assert "409 batch_conflict" in stopped.reason
    assert stopped.report.acknowledged == 2
    assert fake.batch_requests == 3, "a refusal is not retried"
    assert journal_ids(batch_file) == [b.batch_id for b in batches[:2]]


def test_a_422_stops_with_index_field_and_reason(batches: list[Batch], batch_file: Path) -> None:
    fake = FakeHub()
    key = fake.add_key("plat-small-1")
    details = [
        {"index": 4, "field": "subject.pseudonym", "reason": "String should match pattern"},
        {"index": 9, "field": "period_days", "reason": "Input should be greater than 0"},
    ]
    fake.reject[batches[0].batch_id] = (
        422,
        {"error": "batch_rejected", "message": "2 records are not valid", "details": details},
    )
    with pytest.raises(SubmitStoppedError) as caught:
        run(fake, key, batch_file, Sleeps())
    assert caught.value.error is not None
    assert caught.value.error.details == details
    assert describe_details(caught.value.error.details) == [
        "record 4, field 'subject.pseudonym': String should match pattern",
        "record 9, field 'period_days': Input should be greater than 0",
    ]
    assert caught.value.report.acknowledged == 0
    assert not journal_path(batch_file).exists()


def test_a_batch_for_another_member_is_not_sent(batch_file: Path) -> None:
    fake = FakeHub()
    key = fake.add_key("plat-other")
    api = api_for(fake, key, Sleeps())
    journal = Journal(journal_path(batch_file), api.hub_url)
    with pytest.raises(SubmitStoppedError, match="belongs to member plat-other"):
        submit_batches(api, read_batch_dicts(batch_file), journal, member_id="plat-other")
    assert fake.batch_requests == 0


def test_the_journal_survives_a_torn_line_and_is_per_hub(
    batches: list[Batch], batch_file: Path
) -> None:
    path = journal_path(batch_file)
    journal = Journal(path, HUB_URL)
    journal.record(batches[0].batch_id, {"accepted": 40})
    journal.record(batches[1].batch_id, {"accepted": 40})
    with path.open("a") as handle:
        handle.write('{"batch_id": "' + batches[2].batch_id)  # a crash mid-line
    again = Journal(path, HUB_URL)
    assert again.acknowledged == {batches[0].batch_id, batches[1].batch_id}
    again.record(batches[3].batch_id, {"accepted": 40})
    assert Journal(path, HUB_URL).acknowledged == {
        b.batch_id for b in (batches[0], batches[1], batches[3])
    }
    assert Journal(path, "https://another-hub.example").acknowledged == set()


def test_an_invalid_batch_in_a_file_stops_before_it_is_sent(
    batches: list[Batch], tmp_path: Path
) -> None:
    path = tmp_path / "bad.ndjson"
    lines = []
    for batch in batches[:3]:
        lines.extend(encode_lines(batch))
    lines[len(lines) - 1] = lines[-1].replace('"record_type":', '"unknown_field":1,"record_type":')
    path.write_text("\n".join(lines) + "\n")
    fake = FakeHub()
    key = fake.add_key("plat-small-1")
    with pytest.raises(SubmitStoppedError, match="batch 3 is not valid"):
        run(fake, key, path, Sleeps())
    assert set(fake.store_count) == {batches[0].batch_id, batches[1].batch_id}


def encode_lines(batch: Batch) -> list[str]:
    return gzip.decompress(encode_batch(batch)).decode().splitlines()
