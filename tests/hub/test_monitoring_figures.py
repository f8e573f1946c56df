"""Monitoring figures from known mixes of decisions: precision, Wilson intervals, time to
decision, backlog and the warning against the pre-registered minimum PPV."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from safehold.hub.monitoring import (
    NO_MODEL,
    OLDEST_BUCKET,
    AlertFact,
    DecisionFact,
    alert_fact,
    monitor,
    outcomes,
    quantile,
    week_of,
    wilson,
)

NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)
MONDAY = datetime(2026, 11, 23, 9, tzinfo=UTC)  # ISO week 2026-W48


def _alert(
    n: int,
    at: datetime,
    rules: tuple[str, ...] = ("fan_out",),
    version: str = NO_MODEL,
    status: str = "open",
) -> AlertFact:
    return AlertFact(f"a{n}", "plat-a", at, status, rules, version)


def test_wilson_matches_the_textbook_values() -> None:
    # Newcombe (1998), Table I: 81 of 263 -> 0.2553 to 0.3662; 15 of 148 -> 0.0624 to 0.1605.
    low, high = wilson(81, 263)  # type: ignore[misc]
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)
    low, high = wilson(15, 148)  # type: ignore[misc]
    assert (round(low, 4), round(high, 4)) == (0.0624, 0.1605)
    assert wilson(0, 0) is None
    low, high = wilson(0, 10)  # type: ignore[misc]
    assert low == 0 and 0.2 < high < 0.35
    low, high = wilson(10, 10)  # type: ignore[misc]
    assert high == pytest.approx(1) and 0.65 < low < 0.8
    with pytest.raises(ValueError, match="hits"):
        wilson(11, 10)


def test_precision_from_a_known_mix_by_week_rule_and_model() -> None:
    alerts = [
        # week 48: 3 alerts by fan_out, two confirmed, one dismissed
        _alert(1, MONDAY, ("fan_out",)),
        _alert(2, MONDAY, ("fan_out", "first_contact")),
        _alert(3, MONDAY, ("fan_out",)),
        # week 49: 4 alerts with the model: one confirmed, three dismissed
        *[
            _alert(n, MONDAY + timedelta(days=7), ("flagged_sender",), "abc123def456")
            for n in (4, 5, 6, 7)
        ],
        # undecided
        _alert(8, MONDAY),
    ]
    decisions = [
        DecisionFact("a1", "warn", MONDAY + timedelta(hours=1)),
        DecisionFact("a2", "escalate", MONDAY + timedelta(hours=3)),
        DecisionFact("a3", "dismiss", MONDAY + timedelta(hours=5)),
        DecisionFact("a4", "support", MONDAY + timedelta(days=7, hours=2)),
        DecisionFact("a5", "dismiss", MONDAY + timedelta(days=7, hours=4)),
        DecisionFact("a6", "dismiss", MONDAY + timedelta(days=7, hours=6)),
        DecisionFact("a7", "dismiss", MONDAY + timedelta(days=7, hours=8)),
        DecisionFact("a8", "claim", MONDAY),  # not an outcome
    ]
    result = monitor(alerts, decisions, NOW, models=[("abc123def456", "Offender study", 0.4)])
    assert result.decided == 7 and result.alerts == 8
    assert (result.overall.hits, result.overall.total) == (3, 7)
    weeks = {w: (p.hits, p.total) for w, p in result.by_week}
    assert weeks == {"2026-W48": (2, 3), "2026-W49": (1, 4)}
    rules = {r: (p.hits, p.total) for r, p in result.by_rule}
    assert rules == {"fan_out": (2, 3), "first_contact": (1, 1), "flagged_sender": (1, 4)}
    models = {m: (p.hits, p.total) for m, p in result.by_model}
    assert models == {NO_MODEL: (2, 3), "abc123def456": (1, 4)}
    # Hours to decision: 1, 3, 5, 2, 4, 6, 8 -> median 4, p90 6.8 (interpolated)
    assert result.median_hours_to_decision == pytest.approx(4.0)
    assert result.p90_hours_to_decision == pytest.approx(6.8)
    # The model's alerts: 1 of 4 = 25% < 40% pre-registered -> a warning.
    [check] = result.warnings
    assert check.attributed and check.precision.value == pytest.approx(0.25)
    assert not check.clearly_below  # 4 alerts: the interval still reaches 40%
    assert result.backlog.open_alerts == 1


def test_no_warning_when_precision_meets_the_minimum_and_clear_when_far_below() -> None:
    alerts = [_alert(n, MONDAY, version="v1") for n in range(40)]
    good = [DecisionFact(f"a{n}", "warn" if n < 30 else "dismiss", MONDAY) for n in range(40)]
    assert monitor(alerts, good, NOW, models=[("v1", "m", 0.5)]).warnings == []
    bad = [DecisionFact(f"a{n}", "warn" if n < 4 else "dismiss", MONDAY) for n in range(40)]
    [check] = monitor(alerts, bad, NOW, models=[("v1", "m", 0.5)]).warnings
    assert check.clearly_below


def test_a_model_no_alert_names_is_compared_with_all_alerts() -> None:
    alerts = [_alert(n, MONDAY) for n in range(4)]
    decisions = [DecisionFact(f"a{n}", "dismiss", MONDAY) for n in range(4)]
    [check] = monitor(alerts, decisions, NOW, models=[("v9", "m", 0.2)]).model_checks
    assert not check.attributed and check.below


def test_the_latest_outcome_counts_and_the_first_says_when() -> None:
    found = outcomes(
        [
            DecisionFact("a1", "dismiss", MONDAY + timedelta(hours=2)),
            DecisionFact("a1", "escalate", MONDAY + timedelta(hours=9)),  # a second look
            DecisionFact("a1", "confirm", MONDAY + timedelta(hours=12)),
        ]
    )
    assert found["a1"].confirmed
    assert found["a1"].decided_at == MONDAY + timedelta(hours=2)


def test_backlog_by_age() -> None:
    alerts = [
        _alert(1, NOW - timedelta(hours=2)),
        _alert(2, NOW - timedelta(days=2)),
        _alert(3, NOW - timedelta(days=5)),
        _alert(4, NOW - timedelta(days=10)),
        _alert(5, NOW - timedelta(days=40)),
        _alert(6, NOW - timedelta(days=41)),
        _alert(7, NOW - timedelta(days=50), status="dismissed"),
        _alert(8, NOW - timedelta(days=60)),
    ]
    decided = [DecisionFact("a8", "warn", NOW)]
    backlog = monitor(alerts, decided, NOW).backlog
    assert backlog.open_alerts == 6
    assert list(backlog.by_age.values()) == [1, 1, 1, 1, 2]
    assert backlog.by_age[OLDEST_BUCKET] == 2
    assert backlog.oldest == timedelta(days=41)


def test_alert_facts_from_payloads_and_helpers() -> None:
    fact = alert_fact("x", "m", MONDAY, "open", {"rules": ["fan_out"], "model_version": "v2"})
    assert fact.rules == ("fan_out",) and fact.model_version == "v2"
    assert alert_fact("x", "m", MONDAY, "open", {}).model_version == NO_MODEL
    assert week_of(datetime(2027, 1, 1, tzinfo=UTC)) == "2026-W53"
    assert quantile([], 0.5) is None
    assert quantile([5.0], 0.9) == 5.0


def test_only_decisions_in_force_are_outcomes() -> None:
    alerts = [_alert(1, MONDAY), _alert(2, MONDAY), _alert(3, MONDAY, status="pending")]
    decisions = [
        # four eyes: escalated at +1 h, confirmed at +10 h -> decided at +10 h
        DecisionFact(
            "a1", "escalate", MONDAY + timedelta(hours=1), "confirmed", MONDAY + timedelta(hours=10)
        ),
        # rejected by the second reviewer, then dismissed: a false positive
        DecisionFact("a2", "suspend", MONDAY + timedelta(hours=1), "rejected"),
        DecisionFact("a2", "dismiss", MONDAY + timedelta(hours=2)),
        # still waiting for the second reviewer: no outcome, and in the backlog
        DecisionFact("a3", "suspend", MONDAY + timedelta(hours=1), "pending"),
    ]
    result = monitor(alerts, decisions, NOW)
    assert (result.overall.hits, result.overall.total) == (1, 2)
    assert result.median_hours_to_decision == pytest.approx(6.0)  # 10 h and 2 h
    assert result.backlog.open_alerts == 1
