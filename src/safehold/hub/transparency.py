"""Transparency releases: differentially private statistics per quarter, computed once and
kept, so that the public page serves stored figures and a page view never spends privacy
budget or shows fresh noise.

A release is made by the operator (``safehold hub transparency publish --quarter 2026Q4``):
the true counts of the quarter (store.statistics) get OpenDP noise (privacy.dp_totals),
each figure group's epsilon is charged to the coalition's transparency ledger first, and
the release is written as JSON under ``<data dir>/transparency/``. A quarter has at most
one complete release, made once it has ended; while it runs, at most one "to date" release.
Publishing again is refused, so noise is never drawn twice for the same figures.

Privacy units (each adds at most one to one figure): a member (members by size band), one
account checked in one registry check (checks), one match (matches), one alert (alerts),
one decision (decisions by kind, support offers). That is event-level privacy for the
activity figures; the epsilon of every figure is printed beside it."""

from __future__ import annotations

import fcntl
import json
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from safehold.privacy import BudgetLedger
from safehold.privacy.dp_counts import DpCount
from safehold.privacy.dp_totals import release_table, release_total
from safehold.store.statistics import NO_BAND, PeriodCounts, period_counts

FORMAT = "safehold-transparency"
FORMAT_VERSION = 1
DEFAULT_EPSILON = 0.5
"""Epsilon per figure group (one table or one total)."""
DEFAULT_BUDGET = 24.0
"""The ledger's whole budget when it is first made: 16 quarterly releases at the default."""
ALPHA = 0.05
SIZE_BANDS = ("small", "medium", "large", NO_BAND)
DECISION_KINDS = ("dismiss", "warn", "restrict", "suspend", "escalate", "support")
OTHER_KIND = "other"

_QUARTER = re.compile(r"^(\d{4})[ -]?Q([1-4])$", re.IGNORECASE)


class TransparencyError(ValueError):
    """A release that cannot be made; the message says why and what to do."""


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Quarter:
        match = _QUARTER.match(text.strip())
        if not match:
            raise TransparencyError(
                f"quarter {text!r} is not a quarter; write it as YEARQn, e.g. 2026Q4"
            )
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, moment: datetime) -> Quarter:
        return cls(moment.year, (moment.month - 1) // 3 + 1)

    @property
    def start(self) -> datetime:
        return datetime(self.year, 3 * self.number - 2, 1, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        if self.number == 4:
            return datetime(self.year + 1, 1, 1, tzinfo=UTC)
        return datetime(self.year, 3 * self.number + 1, 1, tzinfo=UTC)

    def __str__(self) -> str:
        return f"{self.year}Q{self.number}"


@dataclass(frozen=True)
class Figure:
    group: str
    label: str
    value: int
    epsilon: float
    accuracy: float
    unit: str
    shared: bool
    """True when the epsilon is spent once for the whole table the figure is part of."""

    def to_json(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "label": self.label,
            "value": self.value,
            "epsilon": self.epsilon,
            "accuracy": round(self.accuracy, 3),
            "unit": self.unit,
            "shared": self.shared,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Figure:
        return cls(
            group=str(data["group"]),
            label=str(data["label"]),
            value=int(data["value"]),
            epsilon=float(data["epsilon"]),
            accuracy=float(data["accuracy"]),
            unit=str(data["unit"]),
            shared=bool(data["shared"]),
        )


@dataclass(frozen=True)
class Release:
    quarter: Quarter
    complete: bool
    period_end: datetime
    published_at: datetime
    confidence: float
    figures: list[Figure]

    @property
    def epsilon(self) -> float:
        """What the release spent: each group's epsilon once."""
        return round(sum({f.group: f.epsilon for f in self.figures}.values()), 12)

    @property
    def name(self) -> str:
        return str(self.quarter) if self.complete else f"{self.quarter}-to-date"

    def groups(self) -> list[tuple[str, list[Figure]]]:
        found: dict[str, list[Figure]] = {}
        for figure in self.figures:
            found.setdefault(figure.group, []).append(figure)
        return list(found.items())

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "quarter": str(self.quarter),
            "complete": self.complete,
            "period": {"start": self.quarter.start.isoformat(), "end": self.period_end.isoformat()},
            "published_at": self.published_at.isoformat(),
            "confidence": self.confidence,
            "epsilon": self.epsilon,
            "figures": [f.to_json() for f in self.figures],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Release:
        if data.get("format") != FORMAT or data.get("version") != FORMAT_VERSION:
            raise TransparencyError("not a Safehold transparency release of this version")
        return cls(
            quarter=Quarter.parse(str(data["quarter"])),
            complete=bool(data["complete"]),
            period_end=datetime.fromisoformat(data["period"]["end"]),
            published_at=datetime.fromisoformat(data["published_at"]),
            confidence=float(data["confidence"]),
            figures=[Figure.from_json(f) for f in data["figures"]],
        )


def _figures(group: str, unit: str, counts: list[DpCount], labels: list[str]) -> list[Figure]:
    shared = len(counts) > 1
    return [
        Figure(
            group=group,
            label=label,
            # Post-processing: a count is never negative, and clamping at zero only brings a
            # noisy value nearer the truth, so the stated bound still holds.
            value=max(0, c.value),
            epsilon=c.epsilon,
            accuracy=c.accuracy,
            unit=unit,
            shared=shared,
        )
        for c, label in zip(counts, labels, strict=True)
    ]


def noisy_figures(
    counts: PeriodCounts, quarter: Quarter, epsilon: float, ledger: BudgetLedger
) -> list[Figure]:
    """The release's figures: each group charged to ``ledger`` before its noise is drawn."""
    tag = str(quarter)
    kinds = {k: 0 for k in (*DECISION_KINDS, OTHER_KIND)}
    for kind, n in counts.decisions_by_kind.items():
        kinds[kind if kind in DECISION_KINDS else OTHER_KIND] += n
    bands = {b: 0 for b in SIZE_BANDS}
    for band, n in counts.members_by_band.items():
        bands[band if band in bands else NO_BAND] += n
    kind_list = [*DECISION_KINDS, OTHER_KIND]
    figures: list[Figure] = []
    figures += _figures(
        "Members by size band",
        "one member",
        release_table(bands, list(SIZE_BANDS), epsilon, ledger, f"{tag} members", ALPHA),
        [f"members, {b}" if b == NO_BAND else f"{b} platforms" for b in SIZE_BANDS],
    )
    for group, unit, total in (
        ("Registry checks", "one account checked once", counts.registry_checks),
        ("Registry matches", "one account matched once", counts.registry_matches),
        ("Alerts raised", "one alert", counts.alerts),
    ):
        figures += _figures(
            group,
            unit,
            [release_total(total, epsilon, ledger, f"{tag} {group.lower()}", ALPHA)],
            [group.lower()],
        )
    figures += _figures(
        "Decisions by kind",
        "one decision",
        release_table(kinds, kind_list, epsilon, ledger, f"{tag} decisions", ALPHA),
        [f"decisions: {k}" for k in kind_list],
    )
    figures += _figures(
        "Support offers to children",
        "one offer",
        [release_total(counts.support_offers, epsilon, ledger, f"{tag} support offers", ALPHA)],
        ["support offers made"],
    )
    return figures


GROUPS = 6
"""Figure groups in a release: its epsilon is GROUPS times the per-group epsilon."""


# --- on disk ------------------------------------------------------------------------------


def folder_of(data_dir: Path) -> Path:
    return data_dir / "transparency"


def _release_path(folder: Path, quarter: Quarter, complete: bool) -> Path:
    return folder / f"{quarter}{'' if complete else '-to-date'}.json"


def ledger_path(folder: Path) -> Path:
    return folder / "budget-ledger.json"


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """One publisher at a time (several hub hosts share the data directory's lock file)."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".publish.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _write_new(path: Path, text: str) -> None:
    """Write ``path`` whole, refusing if it exists (a release is never overwritten)."""
    fd, staging = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
        os.link(staging, path)  # fails if path exists: first writer wins, nothing replaced
    finally:
        Path(staging).unlink(missing_ok=True)


def load_ledger(folder: Path, budget: float = DEFAULT_BUDGET) -> BudgetLedger:
    path = ledger_path(folder)
    if not path.exists():
        return BudgetLedger(total_epsilon=budget)
    try:
        return BudgetLedger.load(path)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise TransparencyError(
            f"{path} cannot be read ({exc}); restore it from a backup: without it the "
            "budget already spent is unknown"
        ) from None


def _save_ledger(folder: Path, ledger: BudgetLedger) -> None:
    path = ledger_path(folder)
    fd, staging = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
    os.close(fd)
    try:
        ledger.save(Path(staging))
        os.replace(staging, path)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise


def publish(
    session: Session,
    data_dir: Path,
    quarter: Quarter,
    *,
    now: datetime | None = None,
    epsilon: float = DEFAULT_EPSILON,
    budget: float = DEFAULT_BUDGET,
    to_date: bool = False,
) -> Release:
    """Make and store ``quarter``'s release. A quarter still running is refused unless
    ``to_date`` (then the figures run to ``now``). Budget is spent (the ledger saved) before
    the release is written, so a failure can only over-count what was spent."""
    now = now or datetime.now(UTC)
    if quarter.start > now:
        raise TransparencyError(f"quarter {quarter} has not begun; nothing to publish")
    complete = quarter.end <= now
    if not complete and not to_date:
        raise TransparencyError(
            f"quarter {quarter} runs until {quarter.end.date().isoformat()}; publish it "
            "after it ends, or publish the figures so far with --to-date"
        )
    if complete and to_date:
        raise TransparencyError(
            f"quarter {quarter} has ended; publish it whole (without --to-date)"
        )
    folder = folder_of(data_dir)
    with _locked(folder):
        path = _release_path(folder, quarter, complete)
        if path.exists():
            raise TransparencyError(
                f"{quarter} was already published ({path}); a release is made once, so that "
                "its noise is never drawn again"
            )
        ledger = load_ledger(folder, budget)
        needed = GROUPS * epsilon
        if needed > ledger.remaining + 1e-12:
            raise TransparencyError(
                f"this release needs epsilon {needed:g} ({GROUPS} groups at {epsilon:g}) but "
                f"the transparency budget has {ledger.remaining:g} of {ledger.total_epsilon:g} "
                "left; publish with a smaller --epsilon"
            )
        end = quarter.end if complete else now
        counts = period_counts(session, quarter.start, end)
        figures = noisy_figures(counts, quarter, epsilon, ledger)
        _save_ledger(folder, ledger)
        release = Release(
            quarter=quarter,
            complete=complete,
            period_end=end,
            published_at=now,
            confidence=1 - ALPHA,
            figures=figures,
        )
        _write_new(path, json.dumps(release.to_json(), indent=2) + "\n")
    return release


def releases(data_dir: Path) -> list[Release]:
    """The stored releases, newest quarter first (a quarter's complete release before its
    to-date one). Unreadable files are skipped: the page never fails on one bad file."""
    folder = folder_of(data_dir)
    if not folder.is_dir():
        return []
    found = []
    for path in folder.glob("*Q*.json"):
        try:
            found.append(Release.from_json(json.loads(path.read_text())))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return sorted(found, key=lambda r: (r.quarter, r.complete), reverse=True)
