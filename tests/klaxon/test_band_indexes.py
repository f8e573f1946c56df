"""The age bands read off Arrow's string views (``kernels.view_codes``) against a plain
dictionary look-up of the text, on columns with nulls, other texts (long, short, near
misses, not ASCII), slices and several pieces; and what that changes at the edges: a wrong
band is refused with its row, and held events an earlier version kept still screen."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from safehold.klaxon import kernels
from safehold.klaxon.engine import screen
from safehold.klaxon.events import AGE_BANDS, EventInputError, _band_indexes, prepare_events
from safehold.klaxon.rules import load_rules
from safehold.klaxon.worker_store import WorkerStore
from tests.klaxon.builders import CLOCK, MEMBER, T0, event, flags, frame, prepared

NEAR_MISSES = ["13_1", "13_155", "under_1", "under_13 ", "UNDER_13", "65_plu", "65_plus!", ""]
TEXTS = st.one_of(
    st.none(),
    st.sampled_from(AGE_BANDS),
    st.sampled_from(NEAR_MISSES),
    st.text(max_size=20),
)


def expected(values: list[str | None]) -> tuple[list[int | None], int]:
    places = {band: i for i, band in enumerate(AGE_BANDS)}
    first_other = next((i for i, v in enumerate(values) if v is not None and v not in places), -1)
    return [None if v is None else places.get(v) for v in values], first_other


@given(
    pieces=st.lists(st.lists(TEXTS, max_size=30), min_size=1, max_size=4),
    skip=st.integers(0, 5),
)
def test_band_indexes_match_a_dictionary_look_up(pieces: list[list[str | None]], skip: int) -> None:
    column = pl.concat(
        [pl.Series("band", piece, dtype=pl.Utf8) for piece in pieces], rechunk=False
    ).slice(skip)  # a slice starts inside the views and the validity bitmap
    values = column.to_list()
    places, first_other = expected(values)
    found, other = _band_indexes(column)
    assert other == first_other
    if first_other < 0:
        assert found.dtype == pl.Int8
        assert found.to_list() == places


def test_every_band_has_its_own_slot_and_no_text_matches_an_empty_one() -> None:
    table = kernels.short_texts(AGE_BANDS)
    assert sorted(c for c in table.codes.tolist() if c >= 0) == list(range(len(AGE_BANDS)))
    # an empty slot's key (1, 0) under mask 0 can never equal a masked view
    assert all(int(k[0]) == 1 for k, c in zip(table.keys, table.codes, strict=True) if c < 0)


def test_a_text_longer_than_a_view_holds_cannot_be_tabled() -> None:
    with pytest.raises(ValueError, match="12 bytes"):
        kernels.short_texts(("a" * 13,))


def test_a_wrong_band_is_refused_with_its_row() -> None:
    rows = [event("a", "kid", T0), event("a", "kid2", T0, sender_band="35-44")]
    with pytest.raises(EventInputError, match=r"row 1 .*sender_age_band is '35-44'"):
        prepare_events(frame(rows), source="events.parquet", member_id=MEMBER, clock=CLOCK)


def test_events_without_bands_have_null_indexes() -> None:
    rows = frame([event("a", "kid", T0)]).drop("recipient_age_band", "sender_age_band")
    ready = prepare_events(rows, source="events", member_id=MEMBER, clock=CLOCK)
    assert ready["recipient_band_index"].null_count() == 1
    assert ready["sender_band_index"].dtype == pl.Int8


def test_held_events_kept_without_band_indexes_still_screen(tmp_path: Path) -> None:
    """A worker upgraded mid-stream finds held files written before the band indexes."""
    ready = prepared([event("reg", "kid", T0), event("reg", "kid", T0 + timedelta(minutes=1))])
    store = WorkerStore(tmp_path / "worker.sqlite")
    lane = pl.lit("lane").alias("_lane")
    earlier = (
        ready.head(1)
        .with_columns(  # as an earlier version kept them
            pl.lit("13_15").alias("recipient_band"), pl.lit("35_44").alias("sender_band")
        )
        .drop("recipient_band_index", "sender_band_index")
    )
    earlier.with_columns(lane).write_parquet(store.held_dir / "held-000000000001.parquet")
    ready.tail(1).with_columns(lane).write_parquet(store.held_dir / "held-000000000002.parquet")
    held = store.held()
    assert held is not None
    assert held["recipient_band_index"].to_list() == ready["recipient_band_index"].to_list()
    assert set(held.columns) == {*ready.columns, "_lane"}
    fs = flags(tmp_path / "flags", registry=("reg",))
    alerts = screen(held, fs, load_rules())
    assert alerts.height == 1
    assert alerts.equals(screen(ready, fs, load_rules()))


@pytest.mark.parametrize("bands", [True, False])
def test_the_indexes_lie_in_the_same_pieces_as_the_other_columns(bands: bool) -> None:
    """Columns in different pieces make Polars line them up again on every later pass
    (it once doubled the candidate filter's time)."""
    pieces = [frame([event("a", f"kid{i}", T0)] * 3, first_id=3 * i) for i in range(3)]
    given = pl.concat(pieces, rechunk=False)
    if not bands:
        given = given.drop("recipient_age_band", "sender_age_band")
    ready = prepare_events(given, source="events", member_id=MEMBER, clock=CLOCK)
    layouts = {column: ready[column].chunk_lengths() for column in ready.columns}
    assert layouts["event_id"] == [3, 3, 3]
    assert layouts["recipient_band_index"] == layouts["sender_band_index"] == [3, 3, 3]
