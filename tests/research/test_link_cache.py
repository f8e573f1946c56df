"""The process's cache of linkages: an entry serves only the very data it was made from. It
was keyed by ``id`` of the data alone, and once a world's data was freed its id could come
back for another world's data, which then got the first world's links (seen as "no case
accounts" in one of twenty null worlds studied in one process)."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from safehold.research import world_data
from safehold.research.enclave_data import EnclaveData
from safehold.research.prereg import Outcome


def _data(origin: str) -> EnclaveData:
    labels = pl.DataFrame({"label_id": ["l1"], "cohort": [Outcome.CONVICTED_OFFENDER.value]})
    return EnclaveData(
        behaviour=pl.DataFrame(), accounts=pl.DataFrame(), labels=labels, truth=None, origin=origin
    )


def test_a_cached_linkage_is_used_only_for_its_own_data(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[str] = []

    def link(labels: pl.DataFrame, accounts: pl.DataFrame, settings: Any) -> str:
        made.append(settings.seed)
        return f"links {len(made)}"

    monkeypatch.setattr(world_data, "link_labels", link)
    monkeypatch.setattr(world_data, "_LINKS", {})
    first, second = _data("first world"), _data("second world")
    outcome = Outcome.CONVICTED_OFFENDER
    assert world_data.link_cohort(first, outcome, 0)[0] == "links 1"
    assert world_data.link_cohort(first, outcome, 0)[0] == "links 1"  # served from the cache
    # as if the second world's data had been given the first one's id
    world_data._LINKS[(id(second), outcome, 0)] = world_data._LINKS[(id(first), outcome, 0)]
    assert world_data.link_cohort(second, outcome, 0)[0] == "links 2"
    assert len(made) == 2
