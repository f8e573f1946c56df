"""The in-process stream gives the batch's alerts, and a replayed micro-batch adds none."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from safehold.cli.klaxon_world import write_truth_flags
from safehold.klaxon.engine import screen
from safehold.klaxon.events import EventInputError, prepare_events
from safehold.klaxon.flags import FlagStore
from safehold.klaxon.rules import load_rules
from safehold.klaxon.stream import StreamScreen
from safehold.synth.config import make_config
from safehold.synth.world import generate_world
from tests.klaxon.builders import CLOCK, T0, event, flags, frame

MEMBER = "plat-medium-1"


@pytest.fixture(scope="module")
def member_world(tmp_path_factory: pytest.TempPathFactory) -> tuple[pl.DataFrame, Path]:
    base = tmp_path_factory.mktemp("stream")
    world = base / "world"
    generate_world(make_config(people=6000, seed=5, conversations=10), world)
    folder = base / "flags"
    write_truth_flags(world, MEMBER, folder)
    events = pl.read_parquet(world / "members" / MEMBER / "contact_events.parquet")
    return events, folder


@pytest.mark.parametrize("batch_size", [257, 3000])
def test_micro_batches_give_the_batch_alerts(
    member_world: tuple[pl.DataFrame, Path], batch_size: int
) -> None:
    events, folder = member_world
    store = FlagStore(folder)
    rules = load_rules()
    batch = screen(
        prepare_events(events, source="all", member_id=MEMBER, clock=CLOCK), store.current, rules
    )
    assert batch.height > 20
    stream = StreamScreen(store, rules, clock=lambda: CLOCK)
    emitted = 0
    for offset in range(0, events.height, batch_size):
        emitted += int(stream.feed(events.slice(offset, batch_size))["is_new"].sum())
    assert stream.alerts.equals(batch)
    assert emitted == batch.height
    assert stream.stats.late_events == 0
    assert stream.stats.candidates_held < events.height  # old windows were let go
    # A replay of a recent micro-batch changes nothing.
    assert stream.feed(events.tail(batch_size)).height == 0
    assert stream.alerts.equals(batch)


def test_a_bad_micro_batch_changes_nothing_and_flags_reload(tmp_path: Path) -> None:
    flags(tmp_path, registry=("reg",))
    stream = StreamScreen(FlagStore(tmp_path), load_rules(), clock=lambda: CLOCK)
    assert stream.feed(frame([event("other", "kid", T0)])).height == 0
    with pytest.raises(EventInputError, match="micro-batch 2: row 0"):
        stream.feed(frame([event("same", "same", T0)]))
    flags(tmp_path, registry=("reg", "other"))  # "other" is now flagged
    changed = stream.feed(frame([event("other", "kid2", T0)], first_id=2))
    assert stream.stats.flag_reloads == 1
    # The held window is screened again with the new flags: both of its children alert.
    assert sorted(changed["recipient"].to_list()) == ["kid", "kid2"]
    assert changed["is_new"].all()
    (tmp_path / "recipient_markers.parquet").write_bytes(b"broken")
    stream.feed(frame([event("reg", "kid3", T0)], first_id=3))  # screens on with the flags in force
    assert stream.stats.flag_reload_errors == 1
    assert stream.alerts["sender"].to_list().count("reg") == 1
    # The same event id again is a replay: nothing new.
    assert stream.feed(frame([event("reg", "kid3", T0)], first_id=3)).height == 0


def test_lanes_that_lag_each_other_still_give_the_batch_alerts(
    member_world: tuple[pl.DataFrame, Path],
) -> None:
    from safehold.klaxon.nats_stream import partition_of

    events, folder = member_world
    store = FlagStore(folder)
    rules = load_rules()
    batch = screen(
        prepare_events(events, source="all", member_id=MEMBER, clock=CLOCK), store.current, rules
    )
    lanes = events.with_columns(partition_of(events["sender_account"], 3).alias("_p"))
    stream = StreamScreen(store, rules, clock=lambda: CLOCK)
    span = events.height // 2  # each lane runs half the period ahead of the next one's start
    for offset in range(0, events.height, span):
        piece = lanes.slice(offset, span)
        for (lane,), part in piece.group_by("_p", maintain_order=True):
            for start in range(0, part.height, 300):  # each lane in small, ordered batches
                stream.feed(part.slice(start, 300).drop("_p"), lane=f"p{lane}")
    assert stream.alerts.equals(batch)


def test_batches_screened_together_leave_out_only_the_bad_one(tmp_path: Path) -> None:
    flags(tmp_path, registry=("reg",))
    stream = StreamScreen(FlagStore(tmp_path), load_rules(), clock=lambda: CLOCK)
    good = [frame([event("reg", f"kid{i}", T0)], first_id=i) for i in range(3)]
    bad = frame([event("same", "same", T0)], first_id=9)
    changed, refused = stream.feed_many(
        [(good[0], "m1", "p0"), (bad, "m2", "p0"), (good[1], "m3", "p1"), (good[2], "m4", "p1")]
    )
    assert list(refused) == [1] and "m2: row 0" in str(refused[1])
    assert sorted(changed["recipient"].to_list()) == ["kid0", "kid1", "kid2"]
    together, none_refused = stream.feed_many(
        [(frame([event("reg", "kid5", T0)], first_id=5), "m5", "p0"), (good[0], "m6", "p1")]
    )
    assert not none_refused and together["recipient"].to_list() == ["kid5"]  # kid0: a replay
