"""`safehold hub transparency publish|budget`: a quarter is published once, prints its
figures with epsilon and accuracy, and is audited; errors name the input and the fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from safehold.cli.main import app
from safehold.store.database import make_engine
from safehold.store.models import AuditEventRow


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SAFEHOLD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SAFEHOLD_DATABASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    return tmp_path / "data"


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["hub", "transparency", *args])
    return result.exit_code, result.output


def test_publish_once_then_refuse_and_show_the_budget(data_dir: Path) -> None:
    code, out = _run("publish", "--quarter", "2025Q4", "--epsilon", "0.25")
    assert code == 0, out
    assert "registry checks" in out and "Published 2025Q4" in out
    assert "epsilon 1.5 spent (22.5 of 24 left)" in out
    release = json.loads((data_dir / "transparency" / "2025Q4.json").read_text())
    assert {f["epsilon"] for f in release["figures"]} == {0.25}
    code, out = _run("publish", "--quarter", "2025Q4")
    assert code != 0 and "already published" in out
    code, out = _run("budget")
    assert code == 0 and "2025Q4 members" in out and "spent 1.5 of 24" in out
    engine = make_engine(f"sqlite:///{data_dir / 'hub.db'}")
    with Session(engine) as session:
        events = session.scalars(
            select(AuditEventRow).where(AuditEventRow.action == "transparency.publish")
        ).all()
    engine.dispose()
    assert [(e.outcome, e.object_ids) for e in events] == [
        ("ok", ["2025Q4"]),
        ("rejected", ["2025Q4"]),
    ]


def test_bad_quarters_are_refused_naming_the_option(data_dir: Path) -> None:
    code, out = _run("publish", "--quarter", "2025-10")
    assert code != 0 and "--quarter" in out and "2026Q4" in out
    code, out = _run("publish", "--quarter", "2099Q1")
    assert code != 0 and "not begun" in out
    assert not (data_dir / "transparency" / "budget-ledger.json").exists()


def test_demo_quarters_run_from_the_first_alert_to_now() -> None:
    from datetime import UTC, datetime

    from safehold.cli.demo_oversight import demo_quarters
    from safehold.hub.transparency import Quarter

    now = datetime(2026, 12, 2, tzinfo=UTC)
    assert demo_quarters(datetime(2026, 2, 26, tzinfo=UTC), now) == [
        Quarter(2026, 1),
        Quarter(2026, 2),
        Quarter(2026, 3),
        Quarter(2026, 4),
    ]
    assert demo_quarters(datetime(2024, 5, 1, tzinfo=UTC), now)[0] == Quarter(2026, 1)
    assert demo_quarters(None, now) == [Quarter(2026, 4)]
    assert demo_quarters(datetime(2025, 11, 1, tzinfo=UTC), datetime(2026, 1, 5, tzinfo=UTC)) == [
        Quarter(2025, 4),
        Quarter(2026, 1),
    ]
