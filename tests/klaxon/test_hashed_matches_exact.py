"""The engine's fast way (accounts as 64-bit hashes, compiled walks) against its exact way
(accounts as text), on random small batches: every age band or none, every channel,
first contacts, linked conversations, flagged and marked accounts, times on a coarse grid
so that pairs tie, events in time order or not. The two ways must give the same alerts,
value for value; the exact way is what the fast way falls back to when a hash could
mislead, so a shortcut that changes an alert fails here."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safehold.exchange import Channel
from safehold.klaxon import engine
from safehold.klaxon.engine import screen
from safehold.klaxon.events import AGE_BANDS
from safehold.klaxon.rules import parse_rules
from tests.klaxon.builders import T0, event, flags, prepared

SENDERS = [f"s{i}" for i in range(5)]
CHILDREN = [f"k{i}" for i in range(6)]
BANDS = st.sampled_from([None, *AGE_BANDS])
# the packaged rules' kinds, thresholds scaled to batches this small so that each fires
RULES = parse_rules(
    """version: 1
window: 2d
alert_at: 50
rules:
  - {id: flagged, kind: flagged_sender_contacts_minor, severity: 60, model_bands: [high]}
  - {id: fan, kind: fan_out, severity: 50, min_children: 3, within: 1d,
     channels: [direct_message, friend_request, comment]}
  - {id: night, kind: night_time, severity: 35, start_hour: 0, end_hour: 10, min_events: 2,
     within: 2d, channels: [direct_message, voice_call, video_call]}
  - {id: speeding, kind: escalating_frequency, severity: 50, min_gaps: 2, max_ratio: 0.9,
     min_first_gap: 2h, within: 3d}
  - {id: first, kind: first_contact, severity: 15}
  - {id: gap, kind: age_gap, severity: 10, min_band_gap: 3}
  - {id: vulnerable, kind: vulnerable_recipient, severity: 15}
  - {id: talk, kind: conversation_risk, severity: 50, threshold: 0.5}
""",
    source="test rules",
)


@st.composite
def batches(draw: st.DrawFn) -> tuple[pl.DataFrame, dict[str, object]]:
    rows = []
    step = draw(st.sampled_from([1, 6]))  # hours; a coarse grid makes pairs tie often
    for _ in range(draw(st.integers(1, 80))):
        rows.append(
            event(
                draw(st.sampled_from(SENDERS)),
                draw(st.sampled_from(CHILDREN)),
                T0 + timedelta(hours=step * draw(st.integers(0, 72 // step))),
                channel=draw(st.sampled_from([c.value for c in Channel])),
                first_contact=draw(st.booleans()),
                recipient_band=draw(BANDS),
                sender_band=draw(st.sampled_from([None, "18_24", "35_44", "65_plus", "13_15"])),
                conversation_id=draw(st.sampled_from([None, "c1", "c2"])),
            )
        )
    marks = {
        "registry": tuple(draw(st.sets(st.sampled_from(SENDERS), max_size=2))),
        "model": {s: draw(st.sampled_from(["low", "high"])) for s in draw(st.sets(st.sampled_from(SENDERS), max_size=2))},
        "minors": {k: draw(st.sampled_from(["under_13", "16_17", "25_34"])) for k in draw(st.sets(st.sampled_from(CHILDREN), max_size=4))},
        "vulnerable": tuple(draw(st.sets(st.sampled_from(CHILDREN), max_size=2))),
        "conversation_risk": {"c1": draw(st.floats(0, 1)), "c2": 0.99},
    }  # fmt: skip
    # event ids in another order than the rows, the rows in time order or not: ties must
    # still go in event-id order
    events = prepared(rows).sample(fraction=1.0, shuffle=True, seed=draw(st.integers(0, 99)))
    if draw(st.booleans()):
        events = events.sort("at", maintain_order=True)
    return events, marks


@settings(max_examples=150)
@given(batches())
def test_the_fast_way_gives_the_exact_ways_alerts(
    batch: tuple[pl.DataFrame, dict[str, object]],
) -> None:
    events, marks = batch
    rules = RULES
    with tempfile.TemporaryDirectory() as folder:
        flag_set = flags(Path(folder), **marks)  # type: ignore[arg-type]
        fast = screen(events, flag_set, rules)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(engine, "_hashed_features", lambda *args, **kwargs: None)
            exact = screen(events, flag_set, rules)
    assert fast.equals(exact)
    assert fast["alert_id"].is_unique().all()
    assert fast.filter(pl.col("reasons").list.len() == 0).height == 0
