"""The batch engine's alerts on a seeded synthetic world, pinned whole.

Why: the engine is tuned for speed, and every tuning must leave the alerts exactly as they
were (stored alerts and replays depend on the ids; members depend on the rules, reasons and
counts). The digests below were taken from the engine before its speed work; a change to the
engine that moves one value of one alert fails here. The world also gets model-scored
senders, conversation risk and events without age bands, so every rule and both ways of
knowing a child are exercised. If the synthetic generator itself changes on purpose, the
digests must be taken again (the failure message prints them), from an engine known good."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from safehold.cli.klaxon_world import platform_members, recipient_markers, registry_flags_from_truth
from safehold.klaxon import engine, kernels
from safehold.klaxon.engine import ALERT_SCHEMA, screen
from safehold.klaxon.events import ClockLimits, prepare_events
from safehold.klaxon.flags import (
    CONVERSATION_RISK_SCHEMA,
    SENDER_FLAG_SCHEMA,
    FlagSet,
    load_flags,
    write_flags,
)
from safehold.klaxon.rules import load_rules
from safehold.synth.config import make_config
from safehold.synth.world import generate_world

CLOCK = ClockLimits(now=datetime(2026, 12, 2, tzinfo=UTC))
# platform: (alerts, sha256 of the alerts as canonical JSON)
PINNED: dict[str, tuple[int, str]] = {
    "plat-large-1": (169, "317bc3121c0af8854adb4003e2a878d210ba883b9dfd0a7968ee5df08b8d3f28"),
    "plat-medium-1": (80, "c6e13ebafc21788bd336a8f724e1e7425109ee6d67ea4f8c059034f06d7cb597"),
    "plat-medium-2": (83, "c97c7ff6927203c112f014ebd25f92937b75147f1083eed3a1158da17022ffa8"),
    "plat-small-1": (10, "fc01594f5bc893a5eccfa7c4cf8cef599bff2294cbae9393fe6db39c36ad6392"),
    "plat-small-2": (63, "af69556df5b54f9e179672774b8e05b305bbac0a650412a14ffd0daef10325fd"),
    "plat-small-3": (75, "7751d3e083c0af9fe6ee6484c2aa124fc57133790e69c8359ebd4dbf2117df29"),
}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pinned") / "world"
    generate_world(make_config(people=3000, seed=29, conversations=10), out)
    return out


def _events(world: Path, member: str) -> pl.DataFrame:
    """The platform's events, with some age bands blanked and conversations attached (by
    row number, so the same rows every run)."""
    raw = pl.read_parquet(world / "members" / member / "contact_events.parquet")
    row = pl.int_range(pl.len())
    return raw.with_columns(
        pl.when(row % 7 == 3)
        .then(None)
        .otherwise("recipient_age_band")
        .alias("recipient_age_band"),
        pl.when(row % 11 == 5).then(None).otherwise("sender_age_band").alias("sender_age_band"),
        pl.when(row % 3 == 0).then(pl.format("c{}", row % 97)).alias("conversation_id"),
    )


def _flags(world: Path, member: str, folder: Path) -> FlagSet:
    """Truth flags, plus a model band on every fifth sender and risk on every conversation."""
    registry = registry_flags_from_truth(world, member)
    senders = (
        pl.read_parquet(world / "members" / member / "contact_events.parquet")
        .select(pl.col("sender_account").unique().sort().alias("account"))
        .with_row_index("_n")
        .filter(pl.col("_n") % 5 == 0)
    )
    model = senders.select(
        "account",
        pl.lit("model").alias("source"),
        (pl.col("_n") // 5 % 3)
        .replace_strict({0: "low", 1: "medium", 2: "high"}, return_dtype=pl.Utf8)
        .alias("band"),
        pl.lit(0.5).alias("score"),
        pl.lit(["model score"]).alias("reasons"),
    )
    risk = pl.DataFrame(
        {
            "conversation_id": [f"c{i}" for i in range(97)],
            "risk": [(i % 10) / 9 for i in range(97)],
            "stages": [[] for _ in range(97)],
        },
        schema=CONVERSATION_RISK_SCHEMA,
    )
    write_flags(
        folder,
        member_id=member,
        senders=pl.concat([registry.cast(SENDER_FLAG_SCHEMA), model.cast(SENDER_FLAG_SCHEMA)]),
        markers=recipient_markers(world, member),
        conversation_risk=risk,
    )
    return load_flags(folder)


def _digest(alerts: pl.DataFrame) -> str:
    """A digest of every value of every alert, in id order, independent of Polars' own
    hashing (which may change between versions)."""
    rows = alerts.sort("alert_id").to_dicts()
    return hashlib.sha256(json.dumps(rows, sort_keys=True, default=str).encode()).hexdigest()


def test_every_platforms_alerts_are_exactly_the_pinned_ones(world: Path, tmp_path: Path) -> None:
    rules = load_rules()
    found: dict[str, tuple[int, str]] = {}
    fired: set[str] = set()
    for member in platform_members(world):
        flags = _flags(world, member, tmp_path / member)
        events = prepare_events(
            _events(world, member), source=member, member_id=member, clock=CLOCK
        )
        alerts = screen(events, flags, rules)
        assert dict(alerts.schema) == ALERT_SCHEMA
        assert alerts["alert_id"].is_sorted()
        found[member] = (alerts.height, _digest(alerts))
        fired.update(alerts["rules"].explode().to_list())
    assert fired == {r.id for r in rules.active}  # every rule is pinned, not only some
    assert found == PINNED, f"alerts changed; now {json.dumps(found, indent=1)}"


def test_a_pair_key_collision_falls_back_to_the_exact_sort(
    world: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every pair given the same sort key (as if all of them collided): the engine must
    notice and give exactly the alerts it gives with distinct keys."""
    member = platform_members(world)[0]
    flags = _flags(world, member, tmp_path / member)
    events = prepare_events(_events(world, member), source=member, member_id=member, clock=CLOCK)
    rules = load_rules()
    expected = screen(events, flags, rules)
    group_pairs = kernels.group_pairs

    def one_key(sender: Any, recipient: Any, *checks_and_times: Any) -> Any:
        same = np.zeros_like(sender)  # every pair's first hashes alike: one key
        return group_pairs(same, same, *checks_and_times)

    monkeypatch.setattr(kernels, "group_pairs", one_key)
    assert engine._hashed_features(engine.candidate_events(events, flags), flags, rules) is None
    assert screen(events, flags, rules).equals(expected)


def test_a_marker_hash_collision_never_makes_an_adult_a_child(world: Path, tmp_path: Path) -> None:
    """Adults' accounts whose hashes are among the children's (forced here) pass the hash
    look-up of the candidate filter, but the engine notices and screens without them: the
    alerts are exactly those without the collision."""
    member = platform_members(world)[0]
    flags = _flags(world, member, tmp_path / member)
    events = prepare_events(_events(world, member), source=member, member_id=member, clock=CLOCK)
    rules = load_rules()
    before = engine.candidate_events(events, flags)
    expected = screen(events, flags, rules)
    outsiders = events.filter(
        ~pl.col("recipient").is_in(flags.child_accounts.implode())
        & pl.col("recipient_band_index").is_in([4, 5])  # 25_34, 35_44
    )["recipient"].unique()
    assert outsiders.len() > 0
    # the cached hashes of this load, widened as a collision would
    flags.__dict__["child_hashes"] = pl.concat([flags.child_hashes, outsiders.hash()])
    flags.__dict__.pop("child_index", None)  # made from them, once per load
    widened = engine.candidate_events(events, flags)
    assert widened.height > before.height
    assert engine._hashed_features(widened, flags, rules) is None
    assert screen(events, flags, rules).equals(expected)


def test_a_flag_hash_collision_falls_back_to_joins_on_the_accounts(
    world: Path, tmp_path: Path
) -> None:
    """A sender whose hash matches a flagged account's but whose second hash does not (as
    in a collision) must not be taken as flagged: the engine joins by text instead."""
    member = platform_members(world)[0]
    flags = _flags(world, member, tmp_path / member)
    events = prepare_events(_events(world, member), source=member, member_id=member, clock=CLOCK)
    rules = load_rules()
    expected = screen(events, flags, rules)
    keyed = flags.senders_by_hash
    assert keyed is not None
    flags.__dict__["senders_by_hash"] = keyed.with_columns(pl.col("_flag_check") + 1)
    flags.__dict__.pop("senders_keyed", None)  # made from it, once per load
    assert engine._hashed_features(engine.candidate_events(events, flags), flags, rules) is None
    assert screen(events, flags, rules).equals(expected)


def test_events_at_the_same_microsecond_keep_the_event_id_order(
    world: Path, tmp_path: Path
) -> None:
    """Two events of a pair at the same time go in event-id order (the alert's first event
    depends on it), whatever order they arrive in."""
    member = platform_members(world)[0]
    flags = _flags(world, member, tmp_path / member)
    events = prepare_events(_events(world, member), source=member, member_id=member, clock=CLOCK)
    rules = load_rules()
    alerts = screen(events, flags, rules)
    first = alerts.row(0, named=True)
    twin = events.filter(pl.col("event_id") == first["first_event_id"]).with_columns(
        pl.lit("0-twin").alias("event_id")  # sorts before every generated id
    )
    doubled = pl.concat([events, twin])
    assert (
        engine._hashed_features(engine.candidate_events(doubled, flags), flags, rules) is not None
    )
    again = screen(doubled, flags, rules).filter(pl.col("alert_id") == first["alert_id"])
    assert again["first_event_id"].to_list() == ["0-twin"]
    assert again["events"].to_list() == [first["events"] + 1]


@pytest.mark.parametrize("shuffled", [False, True])
def test_whole_second_timestamps_give_the_exact_ways_alerts(
    world: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shuffled: bool
) -> None:
    """Coarse timestamps (platforms often keep whole seconds; whole minutes here, so that
    this small world has ties) put events of a pair at the same time: the hash-keyed way
    must order them by event id as the exact way does, whether the events arrive in time
    order or not."""
    member = platform_members(world)[0]
    flags = _flags(world, member, tmp_path / member)
    events = prepare_events(_events(world, member), source=member, member_id=member, clock=CLOCK)
    events = events.with_columns(pl.col("at").dt.truncate("1m"))
    if shuffled:
        events = events.sample(fraction=1.0, shuffle=True, seed=7)
    rules = load_rules()
    candidates = engine.candidate_events(events, flags)
    tied = candidates.group_by("sender", "recipient", "at").len().filter(pl.col("len") > 1)
    assert tied.height > 0  # the case under test is there
    assert engine._hashed_features(candidates, flags, rules) is not None  # not the exact way
    found = screen(events, flags, rules)
    monkeypatch.setattr(engine, "_hashed_features", lambda *args, **kwargs: None)
    assert found.equals(screen(events, flags, rules))


@pytest.mark.parametrize("events_per_child", [0, 1_000_000])
def test_the_candidate_filter_finds_the_same_by_either_look_up(
    world: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, events_per_child: int
) -> None:
    """Small batches look the children up in the flags' index, large ones by Polars'
    is_in: the same candidates either way, in the same order."""
    member = platform_members(world)[0]
    flags = _flags(world, member, tmp_path / member)
    events = prepare_events(_events(world, member), source=member, member_id=member, clock=CLOCK)
    expected = engine.candidate_events(events, flags)
    monkeypatch.setattr(engine, "_INDEXED_BELOW", events_per_child)
    assert engine.candidate_events(events, flags).equals(expected)
    assert engine.candidate_events(events.head(500), flags).equals(
        expected.filter(pl.col("event_id").is_in(events.head(500)["event_id"].implode()))
    )
