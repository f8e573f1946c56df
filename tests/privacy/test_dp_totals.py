"""DP counts from totals: stated accuracy holds at the stated rate, epsilon is charged."""

from __future__ import annotations

import pytest

from safehold.privacy import BudgetExceededError, BudgetLedger
from safehold.privacy.dp_totals import release_table, release_total


def test_totals_stay_within_the_stated_accuracy_at_the_stated_rate() -> None:
    ledger = BudgetLedger(total_epsilon=1e6)
    releases = [release_total(1_000_000, 0.5, ledger, f"r{i}") for i in range(2000)]
    accuracy = releases[0].accuracy
    outside = sum(abs(r.value - 1_000_000) > accuracy for r in releases) / len(releases)
    # Stated: at most 5% outside; 2000 draws: 5% + 3 standard errors is about 6.5%.
    assert outside <= 0.065
    # The bound is not loose either: at epsilon 0.5 a fair share lands beyond half of it.
    assert sum(abs(r.value - 1_000_000) > accuracy / 2 for r in releases) > 200
    assert ledger.spent == pytest.approx(0.5 * 2000)


def test_a_table_costs_one_epsilon_and_keeps_its_categories() -> None:
    ledger = BudgetLedger(total_epsilon=1.0)
    counts = release_table({"a": 100, "b": 40}, ["a", "b", "c"], 1.0, ledger, "t")
    assert [c.label for c in counts] == ["t[a]", "t[b]", "t[c]"]
    assert ledger.spent == pytest.approx(1.0)
    assert all(abs(c.value - t) <= 25 for c, t in zip(counts, [100, 40, 0], strict=True))


def test_a_table_refuses_unlisted_categories_and_bad_counts() -> None:
    ledger = BudgetLedger(total_epsilon=10.0)
    with pytest.raises(ValueError, match="secret"):
        release_table({"a": 1, "secret": 2}, ["a"], 1.0, ledger, "t")
    with pytest.raises(ValueError, match="whole number"):
        release_total(-1, 1.0, ledger, "neg")
    assert ledger.spent == 0


def test_overspending_is_refused_before_noise() -> None:
    ledger = BudgetLedger(total_epsilon=1.0)
    release_total(5, 0.75, ledger, "first")
    with pytest.raises(BudgetExceededError, match="second"):
        release_total(5, 0.5, ledger, "second")
    assert [e.release for e in ledger.entries] == ["first"]
