"""A hub whose PostgreSQL database disappears: clear 503s, nothing lost from the audit trail
(the events wait in the spool), health says so, and service resumes when it is back."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import psycopg
from sqlalchemy import select

from safehold.store.models import AuditEventRow
from tests.databases import PG_ADMIN_URL, postgres_database
from tests.hub.conftest import make_hub


def _connections(database: str, allow: bool) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS {str(allow).lower()}')
        if not allow:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (database,),
            )


def test_requests_get_503_and_audit_events_are_spooled_then_drained(
    tmp_path: Path, require_service: Callable[[str], None]
) -> None:
    require_service("postgresql")
    with postgres_database() as url:
        database = url.rsplit("/", 1)[1]
        hub = make_hub(tmp_path, url)
        headers = hub.headers("platform")
        assert hub.client.get("/v1/me", headers=headers).status_code == 200

        _connections(database, allow=False)
        try:
            down = hub.client.get("/v1/me", headers=headers)
            assert down.status_code == 503
            assert down.json()["error"] == "database_unavailable"
            assert down.headers["retry-after"] == "30"
            assert hub.client.get("/v1/health").status_code == 503
            spool = tmp_path / "audit-spool.jsonl"
            spooled = [json.loads(line) for line in spool.read_text().splitlines()]
            assert spooled and spooled[-1]["detail"]["error"] == "database_unavailable"
        finally:
            _connections(database, allow=True)

        assert hub.client.get("/v1/me", headers=headers).status_code == 200
        verified = hub.client.get("/v1/audit/verify", headers=hub.headers("auditor")).json()
        assert verified["ok"]
        assert not spool.exists(), "the spooled events were appended once the database was back"
        with hub.session() as session:
            errors = session.scalars(
                select(AuditEventRow).where(AuditEventRow.outcome == "error")
            ).all()
        assert [e.detail["error"] for e in errors] == ["database_unavailable"] * len(spooled)
        hub.client.close()
        hub.engine.dispose()
