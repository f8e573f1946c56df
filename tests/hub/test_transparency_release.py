"""Transparency releases: the true counts of a quarter (from real registry checks, alerts
and decisions), noise within the stated bound at the stated rate, one release per quarter,
budget charged once and never by reading. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from safehold.hub.transparency import (
    GROUPS,
    Quarter,
    TransparencyError,
    folder_of,
    ledger_path,
    load_ledger,
    noisy_figures,
    publish,
    releases,
)
from safehold.privacy import BudgetLedger
from safehold.store import audit
from safehold.store.audit import AuditEvent
from safehold.store.models import AlertRow, DecisionRow
from safehold.store.statistics import PeriodCounts, period_counts
from tests.hub.conftest import Hub
from tests.hub.test_registry_check import CHECK, body, entry, ident, pseudonym, put_entries

Q4 = Quarter(2026, 4)
IN_Q4 = datetime(2026, 11, 10, 12, tzinfo=UTC)
AFTER_Q4 = datetime(2027, 1, 5, tzinfo=UTC)


def test_quarters_parse_and_bound() -> None:
    q = Quarter.parse("2026q4")
    assert q == Q4 and str(q) == "2026Q4"
    assert q.start == datetime(2026, 10, 1, tzinfo=UTC)
    assert q.end == datetime(2027, 1, 1, tzinfo=UTC)
    assert Quarter.parse("2026 Q1").end == datetime(2026, 4, 1, tzinfo=UTC)
    assert Quarter.of(datetime(2026, 6, 30, 23, tzinfo=UTC)) == Quarter(2026, 2)
    with pytest.raises(TransparencyError, match="YEARQn"):
        Quarter.parse("2026-12")


def _activity(hub: Hub) -> None:
    """Two checks (5 accounts, 2 matches), 3 alerts in Q4 and 1 before, 5 decisions of
    which 3 are in force."""
    known, other = pseudonym(), pseudonym()
    put_entries(hub, "police-1", entry("e1", known), entry("e2", other))
    for accounts in (
        [("a", [ident(known)]), ("b", [ident(pseudonym())]), ("c", [ident(pseudonym())])],
        [("d", [ident(other)]), ("e", [ident(pseudonym())])],
    ):
        response = hub.client.post(CHECK, json=body(*accounts), headers=hub.headers("platform"))
        assert response.status_code == 200, response.text
    with hub.session() as session, session.begin():
        for n, at in enumerate(
            [IN_Q4, IN_Q4, IN_Q4, datetime(2026, 9, 30, tzinfo=UTC), IN_Q4 + timedelta(days=100)]
        ):
            session.add(
                AlertRow(
                    alert_id=f"al{n}",
                    member_id="plat-a",
                    severity=60,
                    status="open",
                    created_at=at,
                    payload={"rules": ["fan_out"]},
                )
            )
        session.flush()
        for n, (kind, status, payload) in enumerate(
            [
                ("dismiss", "final", {}),
                ("support", "final", {"template": "t"}),
                ("escalate", "pending", {}),  # not in force: not counted
                ("warn", "confirmed", {}),
                ("suspend", "rejected", {}),  # the second reviewer disagreed: not counted
            ]
        ):
            session.add(
                DecisionRow(
                    alert_id=f"al{n}",
                    member_id="plat-a",
                    kind=kind,
                    rationale="because of the reasons shown",
                    created_at=IN_Q4 + timedelta(hours=n),
                    payload=payload,
                    status=status,
                )
            )


def test_true_counts_come_from_the_audit_trail_alerts_and_decisions(hub: Hub) -> None:
    _activity(hub)
    with hub.session() as session, session.begin():
        for action, outcome in (
            ("registry.check_contacts", "ok"),  # police checking a device's contacts
            ("registry.check", "rejected"),  # refused: nothing was checked
        ):
            audit.append(
                session,
                AuditEvent(
                    actor="key:x",
                    role="police",
                    action=action,
                    outcome=outcome,
                    detail={"accounts": 4, "matches": 1},
                ),
            )
    now = datetime.now(UTC)
    start = now - timedelta(days=1)
    with hub.session() as session:
        recent = period_counts(session, start, now + timedelta(minutes=1))
        q4 = period_counts(session, Q4.start, Q4.end)
    assert (recent.registry_checks, recent.registry_matches) == (9, 3)
    assert q4.alerts == 3  # one in Q3, one in 2027
    assert q4.decisions_by_kind == {"dismiss": 1, "support": 1, "warn": 1}
    assert q4.support_offers == 1
    # The test hub's members: plat-a large, plat-b small, five non-platforms.
    assert recent.members_by_band == {"large": 1, "small": 1, "not a platform": 5}


COUNTS = PeriodCounts(
    members_by_band={"small": 40, "medium": 12, "large": 5, "not a platform": 30},
    registry_checks=250_000,
    registry_matches=120,
    alerts=900,
    decisions_by_kind={"dismiss": 300, "warn": 200, "support": 50, "confirm": 3},
    support_offers=50,
)


def _truth(label: str) -> int:
    table = {
        "small platforms": 40,
        "medium platforms": 12,
        "large platforms": 5,
        "members, not a platform": 30,
        "registry checks": 250_000,
        "registry matches": 120,
        "alerts raised": 900,
        "decisions: dismiss": 300,
        "decisions: warn": 200,
        "decisions: restrict": 0,
        "decisions: suspend": 0,
        "decisions: escalate": 0,
        "decisions: support": 50,
        "decisions: other": 3,
        "support offers made": 50,
    }
    return table[label]


def test_released_figures_stay_within_their_stated_bound_at_the_stated_rate() -> None:
    runs = 400
    ledger = BudgetLedger(total_epsilon=1e9)
    outside = total = 0
    for _ in range(runs):
        for figure in noisy_figures(COUNTS, Q4, 0.5, ledger):
            total += 1
            outside += abs(figure.value - _truth(figure.label)) > figure.accuracy
    # 15 figures x 400 runs; stated: at most 5% beyond the bound (zero-clamping only helps).
    assert outside / total <= 0.06
    assert ledger.spent == pytest.approx(runs * GROUPS * 0.5)


def test_publish_once_per_quarter_and_reading_spends_nothing(hub: Hub) -> None:
    _activity(hub)
    with hub.session() as session:
        release = publish(session, hub.settings.data_dir, Q4, now=AFTER_Q4, epsilon=0.25)
    assert release.complete and release.epsilon == pytest.approx(GROUPS * 0.25)
    assert {f.epsilon for f in release.figures} == {0.25}
    folder = folder_of(hub.settings.data_dir)
    ledger_before = ledger_path(folder).read_bytes()
    assert load_ledger(folder).spent == pytest.approx(GROUPS * 0.25)
    stored = json.loads((folder / "2026Q4.json").read_text())
    assert stored["quarter"] == "2026Q4" and len(stored["figures"]) == 15
    with hub.session() as session, pytest.raises(TransparencyError, match="already published"):
        publish(session, hub.settings.data_dir, Q4, now=AFTER_Q4)
    first = releases(hub.settings.data_dir)
    second = releases(hub.settings.data_dir)
    assert [f.value for f in first[0].figures] == [f.value for f in second[0].figures]
    assert [f.value for f in first[0].figures] == [f["value"] for f in stored["figures"]]
    assert ledger_path(folder).read_bytes() == ledger_before


def test_a_running_quarter_needs_to_date_and_budget_is_enforced(hub: Hub) -> None:
    data_dir = hub.settings.data_dir
    with hub.session() as session:
        with pytest.raises(TransparencyError, match="--to-date"):
            publish(session, data_dir, Q4, now=IN_Q4)
        with pytest.raises(TransparencyError, match="not begun"):
            publish(session, data_dir, Quarter(2027, 2), now=IN_Q4)
        partial = publish(session, data_dir, Q4, now=IN_Q4, to_date=True)
        assert not partial.complete and partial.period_end == IN_Q4
        with pytest.raises(TransparencyError, match="budget has"):
            publish(session, data_dir, Quarter(2026, 3), now=IN_Q4, epsilon=10.0)
    folder = folder_of(data_dir)
    assert sorted(p.name for p in folder.glob("*.json")) == [
        "2026Q4-to-date.json",
        "budget-ledger.json",
    ]
    assert load_ledger(folder).spent == pytest.approx(GROUPS * 0.5)
