"""The privacy-budget ledger: every differentially private release spends epsilon from one
study's budget, and a release that would overspend is refused before any noise is drawn."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


class BudgetExceededError(RuntimeError):
    """A release would spend more epsilon than the budget has left."""


@dataclass(frozen=True)
class LedgerEntry:
    release: str
    epsilon: float
    at: str


@dataclass
class BudgetLedger:
    total_epsilon: float
    entries: list[LedgerEntry] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.total_epsilon > 0:
            raise ValueError(f"total_epsilon must be positive (got {self.total_epsilon})")

    @property
    def spent(self) -> float:
        return sum(e.epsilon for e in self.entries)

    @property
    def remaining(self) -> float:
        return self.total_epsilon - self.spent

    def spend(self, release: str, epsilon: float) -> LedgerEntry:
        """Record a release; refuses (and records nothing) if it would overspend."""
        if not epsilon > 0:
            raise ValueError(f"epsilon must be positive (got {epsilon}) for release {release!r}")
        if epsilon > self.remaining + 1e-12:
            raise BudgetExceededError(
                f"release {release!r} needs epsilon {epsilon:g} but only {self.remaining:g} of "
                f"{self.total_epsilon:g} is left; release less or start a new study budget"
            )
        entry = LedgerEntry(release=release, epsilon=epsilon, at=datetime.now(UTC).isoformat())
        self.entries.append(entry)
        return entry

    def to_json(self) -> dict[str, Any]:
        return {
            "total_epsilon": self.total_epsilon,
            "spent": round(self.spent, 12),
            "remaining": round(self.remaining, 12),
            "entries": [asdict(e) for e in self.entries],
        }

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> BudgetLedger:
        data = json.loads(path.read_text())
        return cls(
            total_epsilon=float(data["total_epsilon"]),
            entries=[LedgerEntry(**e) for e in data["entries"]],
        )
