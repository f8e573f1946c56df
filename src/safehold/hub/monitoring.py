"""Monitoring the alerts from the decisions reviewers made on them: alert precision per week,
per rule and per model version (with Wilson intervals), time to decision and the backlog of
open alerts by age; and whether precision has fallen below the pre-registered figure of the
model in use (hub.models_in_use).

An alert's outcome is the latest of its decisions in force (store.decisions: status
``final`` or ``confirmed``; a decision pending a second reviewer, or rejected by one, is
not an outcome) whose kind says what the reviewer found: ``dismiss`` is a false positive;
``warn``, ``restrict``, ``suspend``, ``escalate`` and ``support`` confirm a concern. Other
kinds leave the outcome as it was. The time to decision runs from the alert to its first
decision in force (for a four-eyes decision, the confirmation). The figures
are pure functions of the rows given, so that tests can state exactly what they should be."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

FALSE_POSITIVE_KINDS = frozenset({"dismiss"})
CONFIRMED_KINDS = frozenset({"warn", "restrict", "suspend", "escalate", "support"})
NO_MODEL = "no model"
"""The model version of an alert that no red-flag model contributed to."""
UNVERSIONED = "model, version not recorded"
"""An alert whose payload has a model band but does not say which model version gave it."""

Z95 = 1.959963984540054

AGE_BUCKETS: tuple[tuple[str, timedelta], ...] = (
    ("under 1 day", timedelta(days=1)),
    ("1 to 3 days", timedelta(days=3)),
    ("3 to 7 days", timedelta(days=7)),
    ("7 to 30 days", timedelta(days=30)),
)
OLDEST_BUCKET = "over 30 days"


@dataclass(frozen=True)
class AlertFact:
    """What monitoring needs of one alert."""

    alert_id: str
    member_id: str
    created_at: datetime
    status: str
    rules: tuple[str, ...]
    model_version: str


IN_FORCE = frozenset({"final", "confirmed"})
BACKLOG_STATUSES = frozenset({"open", "pending"})
"""Alert statuses still waiting for a decision in force (store.alerts.STATUSES)."""


@dataclass(frozen=True)
class DecisionFact:
    alert_id: str
    kind: str
    created_at: datetime
    status: str = "final"
    confirmed_at: datetime | None = None

    @property
    def in_force_at(self) -> datetime:
        return self.confirmed_at or self.created_at


@dataclass(frozen=True)
class Proportion:
    """``hits`` of ``total`` with its 95% Wilson score interval."""

    hits: int
    total: int

    @property
    def value(self) -> float | None:
        return self.hits / self.total if self.total else None

    @property
    def interval(self) -> tuple[float, float] | None:
        return wilson(self.hits, self.total)


def wilson(hits: int, total: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion (None when nothing was observed). Unlike
    the normal approximation it stays inside [0, 1] and is honest about small counts."""
    if total == 0:
        return None
    if not 0 <= hits <= total:
        raise ValueError(f"hits must be between 0 and total ({hits} of {total})")
    p = hits / total
    z2 = z * z
    centre = (p + z2 / (2 * total)) / (1 + z2 / total)
    half = z * math.sqrt(p * (1 - p) / total + z2 / (4 * total * total)) / (1 + z2 / total)
    return max(0.0, centre - half), min(1.0, centre + half)


def alert_fact(
    alert_id: str, member_id: str, created_at: datetime, status: str, payload: Mapping[str, Any]
) -> AlertFact:
    """An alert row's facts. The rules are the payload's ``rules`` (the klaxon's rule ids);
    the model version is the payload's ``model_version`` or ``model.version`` (where a
    released model's band contributed), ``UNVERSIONED`` for a model band without one, else
    ``NO_MODEL``."""
    rules = payload.get("rules") or ()
    model = payload.get("model")
    version = payload.get("model_version") or (
        model.get("version") if isinstance(model, dict) else None
    )
    if not version and isinstance(model, dict) and model.get("band"):
        version = UNVERSIONED
    return AlertFact(
        alert_id=alert_id,
        member_id=member_id,
        created_at=created_at,
        status=status,
        rules=tuple(str(r) for r in rules),
        model_version=str(version) if version else NO_MODEL,
    )


@dataclass(frozen=True)
class Outcome:
    confirmed: bool
    decided_at: datetime
    """When the alert was first decided (confirmed or dismissed)."""


def outcomes(decisions: Iterable[DecisionFact]) -> dict[str, Outcome]:
    """Alert id -> its outcome: the latest confirming or dismissing decision says which,
    the first says when it was decided."""
    by_alert: dict[str, list[DecisionFact]] = defaultdict(list)
    for d in decisions:
        if d.status in IN_FORCE and (d.kind in FALSE_POSITIVE_KINDS or d.kind in CONFIRMED_KINDS):
            by_alert[d.alert_id].append(d)
    found: dict[str, Outcome] = {}
    for alert_id, made in by_alert.items():
        made.sort(key=lambda d: d.in_force_at)
        found[alert_id] = Outcome(
            confirmed=made[-1].kind in CONFIRMED_KINDS, decided_at=made[0].in_force_at
        )
    return found


def week_of(moment: datetime) -> str:
    """The ISO week, as ``2026-W49``."""
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def quantile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile by linear interpolation between order statistics (numpy's
    default), None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class Backlog:
    open_alerts: int
    by_age: dict[str, int]
    oldest: timedelta | None


@dataclass(frozen=True)
class ModelCheck:
    """The pre-registered minimum PPV of a model in use against observed precision."""

    version: str
    title: str
    minimum_ppv: float
    precision: Proportion
    attributed: bool
    """True when the precision is of alerts naming this version; False when no decided
    alert names it and the precision is that of all decided alerts."""

    @property
    def below(self) -> bool:
        value = self.precision.value
        return value is not None and value < self.minimum_ppv

    @property
    def clearly_below(self) -> bool:
        """Even the interval's upper end is under the minimum: not a matter of chance."""
        interval = self.precision.interval
        return interval is not None and interval[1] < self.minimum_ppv


@dataclass(frozen=True)
class Monitoring:
    alerts: int
    decided: int
    overall: Proportion
    by_week: list[tuple[str, Proportion]]
    by_rule: list[tuple[str, Proportion]]
    by_model: list[tuple[str, Proportion]]
    median_hours_to_decision: float | None
    p90_hours_to_decision: float | None
    backlog: Backlog
    model_checks: list[ModelCheck] = field(default_factory=list)

    @property
    def warnings(self) -> list[ModelCheck]:
        return [c for c in self.model_checks if c.below]


def _proportions(counts: Mapping[str, list[int]]) -> list[tuple[str, Proportion]]:
    return [(key, Proportion(hits, total)) for key, (hits, total) in sorted(counts.items())]


def backlog(alerts: Iterable[AlertFact], decided: set[str], now: datetime) -> Backlog:
    """Alerts waiting for a decision (open, or pending a second reviewer) by age."""
    buckets = {name: 0 for name, _ in AGE_BUCKETS} | {OLDEST_BUCKET: 0}
    oldest: timedelta | None = None
    count = 0
    for alert in alerts:
        if alert.alert_id in decided or alert.status not in BACKLOG_STATUSES:
            continue
        count += 1
        age = max(timedelta(0), now - alert.created_at)
        oldest = age if oldest is None or age > oldest else oldest
        for name, limit in AGE_BUCKETS:
            if age < limit:
                buckets[name] += 1
                break
        else:
            buckets[OLDEST_BUCKET] += 1
    return Backlog(open_alerts=count, by_age=buckets, oldest=oldest)


def monitor(
    alerts: Sequence[AlertFact],
    decisions: Iterable[DecisionFact],
    now: datetime,
    models: Sequence[tuple[str, str, float]] = (),
) -> Monitoring:
    """The monitoring figures for ``alerts`` given their ``decisions``. ``models`` are the
    models in use as (version, title, pre-registered minimum PPV)."""
    found = outcomes(decisions)
    weeks: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    rules: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    versions: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    hits = total = 0
    hours: list[float] = []
    for alert in alerts:
        outcome = found.get(alert.alert_id)
        if outcome is None:
            continue
        hit = int(outcome.confirmed)
        hits += hit
        total += 1
        hours.append(max(0.0, (outcome.decided_at - alert.created_at).total_seconds() / 3600))
        for key, table in ((week_of(alert.created_at), weeks), (alert.model_version, versions)):
            table[key][0] += hit
            table[key][1] += 1
        for rule in set(alert.rules):
            rules[rule][0] += hit
            rules[rule][1] += 1
    overall = Proportion(hits, total)
    checks = []
    for version, title, minimum in models:
        if version in versions:
            observed, attributed = Proportion(*versions[version]), True
        else:
            observed, attributed = overall, False
        checks.append(ModelCheck(version, title, minimum, observed, attributed))
    return Monitoring(
        alerts=len(alerts),
        decided=total,
        overall=overall,
        by_week=_proportions(weeks),
        by_rule=_proportions(rules),
        by_model=_proportions(versions),
        median_hours_to_decision=quantile(hours, 0.5),
        p90_hours_to_decision=quantile(hours, 0.9),
        backlog=backlog(alerts, set(found), now),
        model_checks=checks,
    )
