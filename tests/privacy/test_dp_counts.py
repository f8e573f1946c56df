from __future__ import annotations

import pytest

from safehold.privacy import BudgetExceededError, BudgetLedger, release_count, release_counts


def test_counts_stay_within_the_stated_accuracy_at_the_stated_rate() -> None:
    values = ["x"] * 500
    ledger = BudgetLedger(total_epsilon=1e6)
    releases = [release_count(values, 0.5, ledger, f"r{i}", alpha=0.05) for i in range(2000)]
    accuracy = releases[0].accuracy
    outside = sum(abs(r.value - 500) > accuracy for r in releases) / len(releases)
    # Stated: at most 5% outside. 2000 draws: 5% + 3 standard errors is about 6.5%.
    assert outside <= 0.065
    # And the noise is real: some releases differ from the truth.
    assert sum(r.value != 500 for r in releases) > 1000
    assert ledger.spent == pytest.approx(0.5 * 2000)


def test_histogram_costs_one_epsilon_and_states_accuracy() -> None:
    ledger = BudgetLedger(total_epsilon=1.0)
    values = ["a"] * 100 + ["b"] * 50 + ["unlisted"] * 5
    counts = release_counts(values, ["a", "b"], 1.0, ledger, "by_group")
    assert [c.label for c in counts] == ["by_group[a]", "by_group[b]"]
    assert ledger.spent == pytest.approx(1.0)
    assert all(abs(c.value - t) <= 20 for c, t in zip(counts, [100, 50], strict=True))
    assert counts[0].accuracy > 0


def test_ledger_refuses_overspending_and_records_nothing() -> None:
    ledger = BudgetLedger(total_epsilon=1.0)
    release_count(["x"] * 10, 0.75, ledger, "first")
    with pytest.raises(BudgetExceededError, match="second"):
        release_count(["x"] * 10, 0.5, ledger, "second")
    assert [e.release for e in ledger.entries] == ["first"]
    assert ledger.remaining == pytest.approx(0.25)


def test_ledger_round_trips_through_a_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    ledger = BudgetLedger(total_epsilon=2.0)
    ledger.spend("table 1", 0.5)
    ledger.save(tmp_path / "ledger.json")
    again = BudgetLedger.load(tmp_path / "ledger.json")
    assert again.spent == pytest.approx(0.5)
    assert again.entries[0].release == "table 1"
