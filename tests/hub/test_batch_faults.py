"""The database failing in the middle of a batch: the client gets a 503 that says nothing
was stored and to retry with the same batch id, no tier holds half the batch, the failure
is audited, and the retry succeeds. On PostgreSQL the connection is also really killed
(``pg_terminate_backend`` from a second connection) while COPY is streaming rows."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import psycopg
import pytest
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from safehold.hub.routes import batches as batches_route
from safehold.store import enclave
from safehold.store.database import make_engine
from tests.databases import postgres_database
from tests.hub.conftest import Hub, make_hub
from tests.hub.test_batches import EMPTY, as_json, batch_events, post
from tests.store.test_ingest import (
    account_keys,
    batch_dict,
    behaviour,
    cohort_label,
    contact_event,
    counts,
    registry_entry,
    signal,
)


def platform_batch(batch_id: str) -> dict[str, Any]:
    """Signals first (written before the enclave rows), then 200 enclave records."""
    records = [signal(f"s-{i}") for i in range(5)]
    records += [behaviour() for _ in range(150)] + [account_keys() for _ in range(40)]
    records += [contact_event(f"e-{i}") for i in range(10)]
    return batch_dict("plat-a", records, batch_id)


def court_batch(batch_id: str) -> dict[str, Any]:
    records = [registry_entry(f"J-{i}") for i in range(20)]
    records += [cohort_label(f"L-{i}", "court") for i in range(30)]
    return batch_dict("court-1", records, batch_id)


Writer = Callable[[Session, str, int, Iterable[Any]], int]


def fail_part_way(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make the enclave writer store some rows, then lose the database. Returns a list that
    records how many rows were written before the failure."""
    real: Writer = enclave.write_records
    written: list[int] = []

    def faulty(session: Session, member_id: str, batch_pk: int, items: Iterable[Any]) -> int:
        items = list(items)
        half = len(items) // 2
        written.append(real(session, member_id, batch_pk, items[:half]))
        raise OperationalError(
            "COPY enclave_records ...", None, Exception("server closed the connection")
        )

    monkeypatch.setattr(enclave, "write_records", faulty)
    return written


def assert_unavailable_then_retry(
    hub: Hub, monkeypatch: pytest.MonkeyPatch, data: dict[str, Any], role: str
) -> None:
    response = post(hub, as_json(data), role=role)
    assert response.status_code == 503, response.text[:300]
    body = response.json()
    assert body["error"] == "database_unavailable"
    assert "nothing of this batch was stored" in body["message"]
    assert "same batch id" in body["message"]
    assert int(response.headers["retry-after"]) > 0
    assert counts(hub.engine) == EMPTY
    [event] = batch_events(hub)
    assert (event.outcome, event.object_ids) == ("error", [data["batch_id"]])
    assert event.detail["reason"] == "database_unavailable"
    assert event.detail["status"] == 503

    monkeypatch.undo()
    retry = post(hub, as_json(data), role=role)
    assert retry.status_code == 201, retry.text[:300]
    assert retry.json()["accepted"] == len(data["records"])
    assert counts(hub.engine)["batches"] == 1
    assert [e.outcome for e in batch_events(hub)] == ["error", "ok"]


@pytest.mark.parametrize(("make", "role"), [(platform_batch, "platform"), (court_batch, "court")])
def test_a_database_failure_mid_batch_stores_nothing_and_the_retry_succeeds(
    hub: Hub,
    monkeypatch: pytest.MonkeyPatch,
    make: Callable[[str], dict[str, Any]],
    role: str,
) -> None:
    written = fail_part_way(monkeypatch)
    assert_unavailable_then_retry(hub, monkeypatch, make("b-fault"), role)
    assert written and written[0] > 0, "the fault must come after some rows were written"


def test_a_failure_at_the_last_step_stores_nothing(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The audit event is the route's last write before commit: failing there rolls back
    everything already written (the refusal's own event still goes through AuditLog)."""

    def audit_fails(session: Session, event: Any) -> Any:
        raise OperationalError("INSERT INTO audit_events ...", None, Exception("connection lost"))

    monkeypatch.setattr(batches_route, "audit", SimpleNamespace(append=audit_fails))
    assert_unavailable_then_retry(hub, monkeypatch, platform_batch("b-last"), "platform")


def _terminate(database_url: str, pid: int) -> None:
    """Kill backend ``pid`` from a second connection and wait until it is gone."""
    url = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as admin:
        killed = admin.execute("SELECT pg_terminate_backend(%s, 10000)", (pid,)).fetchone()
    assert killed == (True,)


@pytest.fixture
def pg_hub(tmp_path: Path, require_service: Callable[[str], None]) -> Iterator[tuple[Hub, str]]:
    """A hub on PostgreSQL only (pg_terminate_backend is PostgreSQL's), and its URL."""
    require_service("postgresql")
    with postgres_database() as url:
        built = make_hub(tmp_path, url)
        try:
            yield built, url
        finally:
            built.client.close()
            built.engine.dispose()


def test_postgresql_connection_killed_during_copy(
    pg_hub: tuple[Hub, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    hub, database_url = pg_hub
    real_copy = enclave._copy
    killed: list[int] = []

    def copy_then_kill(session: Session, rows: Iterable[Any]) -> int:
        pid = session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar_one()

        def streamed() -> Iterator[Any]:
            for number, row in enumerate(rows):
                if number == 100:  # half of the batch's 200 enclave records
                    _terminate(database_url, pid)
                    killed.append(number)
                yield row

        return real_copy(session, streamed())

    monkeypatch.setattr(enclave, "_copy", copy_then_kill)
    monkeypatch.setattr(enclave, "_LINES_PER_WRITE", 10)  # rows reach the server before the kill
    assert_unavailable_then_retry(hub, monkeypatch, platform_batch("b-killed"), "platform")
    assert killed == [100], "the connection must die with half the rows sent"


def test_the_hub_answers_again_after_its_connections_were_killed(
    pg_hub: tuple[Hub, str],
) -> None:
    """Killed connections are dropped from the pool: the next request does not inherit one."""
    hub, database_url = pg_hub
    # kill every idle connection the hub's pool holds, between requests
    assert post(hub, as_json(platform_batch("b-1"))).status_code == 201
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            mine = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
            pids = connection.exec_driver_sql(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND backend_type = 'client backend' AND pid <> %s",
                (mine,),
            ).scalars()
            for pid in list(pids):
                _terminate(database_url, pid)
    finally:
        engine.dispose()
    response = post(hub, as_json(platform_batch("b-2")))
    assert response.status_code == 201, response.text[:300]


def test_a_clash_with_a_concurrent_write_is_409_and_stores_nothing(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another batch writing the same record ids at the same moment surfaces as a unique
    constraint failure: the client is told to retry, and nothing of its batch is kept."""

    def clash(session: Session, member_id: str, batch_pk: int, items: Iterable[Any]) -> int:
        raise IntegrityError("INSERT INTO signals ...", None, Exception("unique violation"))

    monkeypatch.setattr(enclave, "write_records", clash)
    data = platform_batch("b-clash")
    response = post(hub, as_json(data))
    assert response.status_code == 409
    assert response.json()["error"] == "concurrent_write"
    assert "retry" in response.json()["message"]
    assert counts(hub.engine) == EMPTY
    [event] = batch_events(hub)
    assert (event.outcome, event.detail["reason"]) == ("rejected", "concurrent_write")
    monkeypatch.undo()
    assert post(hub, as_json(data)).status_code == 201
