"""Contact events: deterministic, well-formed, first contacts computed correctly, and the
planted approaches and look-alikes really have the shape the screening study relies on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from safehold.synth.contacts import (
    APPROACH_PATTERNS,
    APPROACH_SCHEMA,
    CHANNELS,
    EVENT_SCHEMA,
    TRUTH_EVENT_SCHEMA,
    ContactEvents,
    generate_contact_events,
)
from tests.synth.fixtures import small_population

START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
DAYS = 30


def make_people(n: int = 2_000, seed: int = 1, offender_rate: float = 0.04) -> pl.DataFrame:
    """A small population from the real generator, with plenty of offenders."""
    return small_population(
        n, seed=seed, child_share=0.3, offender_rate=offender_rate, known_share=0.5
    ).people


def make_accounts(people: pl.DataFrame, seed: int = 2) -> pl.DataFrame:
    """One or two accounts per person on two platforms; some under-13s claim to be older."""
    rng = np.random.default_rng(seed)
    n = people.height
    two = rng.random(n) < 0.4
    person = np.concatenate([np.arange(n), np.flatnonzero(two)])
    first_platform = rng.random(n) < 0.7
    platform = np.concatenate([np.where(first_platform, 0, 1), np.where(first_platform[two], 1, 0)])
    members = np.array(["plat-a", "plat-b"])[platform]
    band = people["age_band"].to_numpy()[person]
    lies = (band == "under_13") & (rng.random(person.size) < 0.5)
    declared = np.where(lies, np.where(rng.random(person.size) < 0.7, "13_15", "18_24"), band)
    frame = pl.DataFrame({"person_id": person, "member_id": members, "age_band": declared}).sort(
        "member_id", "person_id"
    )
    return frame.with_columns(
        account_id=pl.concat_str(
            pl.col("member_id"),
            pl.lit(":a"),
            pl.int_range(pl.len()).over("member_id").cast(pl.Utf8).str.zfill(6),
        ),
        username=pl.concat_str(pl.lit("user"), pl.int_range(pl.len()).cast(pl.Utf8)),
        email=pl.lit(None, dtype=pl.Utf8),
        phone=pl.lit(None, dtype=pl.Utf8),
    ).select("account_id", "person_id", "member_id", "username", "email", "phone", "age_band")


@pytest.fixture(scope="module")
def people() -> pl.DataFrame:
    return make_people()


@pytest.fixture(scope="module")
def accounts(people: pl.DataFrame) -> pl.DataFrame:
    return make_accounts(people)


def _generate(people: pl.DataFrame, accounts: pl.DataFrame, seed: int = 7) -> ContactEvents:
    return generate_contact_events(
        people, accounts, rng=np.random.default_rng(seed), start=START, days=DAYS
    )


@pytest.fixture(scope="module")
def contacts(people: pl.DataFrame, accounts: pl.DataFrame) -> ContactEvents:
    return _generate(people, accounts)


@pytest.fixture(scope="module")
def joined(contacts: ContactEvents, accounts: pl.DataFrame, people: pl.DataFrame) -> pl.DataFrame:
    """All events with their truth, and the true person and age of both sides."""
    events = pl.concat(
        [frame.with_columns(pl.lit(mid).alias("member")) for mid, frame in contacts.events.items()]
    )
    who = accounts.select("account_id", "person_id").join(
        people.select("person_id", "is_child", "is_offender", "age_band"), on="person_id"
    )
    return (
        events.join(contacts.truth_events, on="event_id", how="left")
        .join(
            who.rename(lambda c: f"sender_{c}"),
            left_on="sender_account",
            right_on="sender_account_id",
        )
        .join(
            who.rename(lambda c: f"recipient_{c}"),
            left_on="recipient_account",
            right_on="recipient_account_id",
        )
    )


def test_same_seed_same_frames_and_another_seed_differs(
    people: pl.DataFrame, accounts: pl.DataFrame, contacts: ContactEvents
) -> None:
    again = _generate(people, accounts)
    assert contacts.events.keys() == again.events.keys()
    for mid in contacts.events:
        assert contacts.events[mid].equals(again.events[mid])
    assert contacts.truth_events.equals(again.truth_events)
    assert contacts.truth_approaches.equals(again.truth_approaches)
    other = _generate(people, accounts, seed=8)
    assert not contacts.events["plat-a"].equals(other.events["plat-a"])


def test_schema_and_order(contacts: ContactEvents, accounts: pl.DataFrame) -> None:
    assert set(contacts.events) == {"plat-a", "plat-b"}
    for mid, frame in contacts.events.items():
        assert dict(frame.schema) == EVENT_SCHEMA
        assert frame.height > 0
        assert frame["occurred_at"].is_sorted()
        assert frame["event_id"].str.starts_with(f"{mid}:e").all()
        assert frame["sender_account"].str.starts_with(f"{mid}:").all()
        assert frame["recipient_account"].str.starts_with(f"{mid}:").all()
        assert (frame["sender_account"] != frame["recipient_account"]).all()
        assert frame["occurred_at"].min() >= START  # type: ignore[operator]
        assert frame["occurred_at"].max() < START + timedelta(days=DAYS)  # type: ignore[operator]
        assert set(frame["channel"].unique()) <= set(CHANNELS)
        assert not set(frame.columns) & {"person_id", "pattern", "approach_id"}
    assert dict(contacts.truth_events.schema) == TRUTH_EVENT_SCHEMA
    assert dict(contacts.truth_approaches.schema) == APPROACH_SCHEMA
    total = sum(frame.height for frame in contacts.events.values())
    assert contacts.truth_events.height == total
    assert contacts.truth_events["event_id"].n_unique() == total


def test_first_contact_is_recomputed_exactly(contacts: ContactEvents) -> None:
    for frame in contacts.events.values():
        seen: set[tuple[str, str]] = set()
        expected = []
        for sender, recipient in zip(
            frame["sender_account"].to_list(), frame["recipient_account"].to_list(), strict=True
        ):
            expected.append((sender, recipient) not in seen)
            seen.add((sender, recipient))
        assert frame["first_contact"].to_list() == expected
        # Friend circles and sessions make pairs recur, so not everything is a first contact.
        assert 0.2 < frame["first_contact"].mean() < 0.85  # type: ignore[operator]


def test_age_bands_are_the_declared_ones_or_unknown(
    contacts: ContactEvents, accounts: pl.DataFrame
) -> None:
    declared = accounts.select("account_id", pl.col("age_band").alias("declared"))
    frame = contacts.events["plat-a"].join(
        declared, left_on="recipient_account", right_on="account_id"
    )
    known = frame.filter(pl.col("recipient_age_band").is_not_null())
    assert (known["recipient_age_band"] == known["declared"]).all()
    assert 0.03 < frame["recipient_age_band"].is_null().mean() < 0.25  # type: ignore[operator]
    # Knowledge is per account: an account's band is either always known or never.
    per_account = frame.group_by("recipient_account").agg(
        pl.col("recipient_age_band").is_null().n_unique()
    )
    assert (per_account["recipient_age_band"] == 1).all()


def test_ordinary_traffic_has_age_mixing_daily_rhythm_and_volume(
    joined: pl.DataFrame, accounts: pl.DataFrame
) -> None:
    ordinary = joined.filter(pl.col("pattern") == "none")
    assert abs(ordinary.height / accounts.height - 2.0) < 0.3
    adults = ordinary.filter(~pl.col("sender_is_child"))
    children = ordinary.filter(pl.col("sender_is_child"))
    adult_to_child = adults["recipient_is_child"].mean()
    child_to_child = children["recipient_is_child"].mean()
    assert adult_to_child is not None and 0.005 < adult_to_child < 0.15  # type: ignore[operator]
    assert child_to_child is not None and child_to_child > 0.75  # type: ignore[operator]
    hours = ordinary["occurred_at"].dt.hour()
    assert (hours < 5).mean() < 0.1  # type: ignore[operator]
    assert ((hours >= 17) & (hours < 22)).mean() > 0.3  # type: ignore[operator]
    weekday = ordinary["occurred_at"].dt.weekday()  # 1 = Monday
    per_weekend_day = (weekday >= 6).sum() / 8
    per_weekday = (weekday <= 5).sum() / 22
    assert per_weekend_day > per_weekday


def test_planted_events_come_from_offenders_to_children(joined: pl.DataFrame) -> None:
    planted = joined.filter(pl.col("pattern").is_in(list(APPROACH_PATTERNS)))
    assert planted.height > 100
    assert planted["sender_is_offender"].all()
    assert planted["recipient_is_child"].all()
    assert planted["approach_id"].is_not_null().all()
    assert joined.filter(pl.col("pattern") == "none")["approach_id"].is_null().all()
    assert set(planted["pattern"].unique()) == set(APPROACH_PATTERNS)


def test_fan_out_reaches_many_children_in_a_short_window(joined: pl.DataFrame) -> None:
    fan = joined.filter(pl.col("pattern") == "fan_out")
    per = fan.group_by("approach_id").agg(
        pl.col("recipient_account").n_unique().alias("children"),
        (pl.col("occurred_at").max() - pl.col("occurred_at").min()).alias("window"),
        pl.col("sender_account").n_unique().alias("senders"),
    )
    assert per.height >= 5
    assert (per["children"] >= 5).all()
    assert (per["children"] <= 30).all()
    assert (per["window"] <= timedelta(days=2)).all()
    assert (per["senders"] == 1).all()


def test_night_pattern_is_at_night(joined: pl.DataFrame) -> None:
    night = joined.filter(pl.col("pattern") == "night")
    assert night.height > 20
    assert (night["occurred_at"].dt.hour() < 5).all()


def test_escalating_intervals_shrink(joined: pl.DataFrame) -> None:
    escalating = joined.filter(pl.col("pattern") == "escalating").sort("approach_id", "occurred_at")
    groups = escalating.partition_by("approach_id")
    assert len(groups) >= 5
    for group in groups:
        assert group["recipient_account"].n_unique() == 1
        gaps = np.diff(group["occurred_at"].dt.epoch("us").to_numpy())
        assert gaps.size >= 5
        assert (np.diff(gaps) < 0).all(), gaps


def test_planted_first_contacts_are_first_contacts(joined: pl.DataFrame) -> None:
    first = joined.filter(pl.col("pattern") == "first_contact")
    assert first.height > 20
    assert first["first_contact"].mean() > 0.9  # type: ignore[operator]


def test_approach_truth_matches_the_events(
    contacts: ContactEvents, joined: pl.DataFrame, people: pl.DataFrame
) -> None:
    approaches = contacts.truth_approaches
    assert approaches.height > 10
    assert approaches["approach_id"].n_unique() == approaches.height
    offenders = set(people.filter(pl.col("is_offender"))["person_id"].to_list())
    assert set(approaches["sender_person_id"].to_list()) <= offenders
    planted = joined.filter(pl.col("approach_id").is_not_null())
    per = planted.group_by("approach_id").agg(
        pl.col("recipient_account").unique().sort().alias("recipients"),
        pl.col("pattern").unique().sort().alias("kinds"),
        pl.col("occurred_at").min().alias("first"),
        pl.col("occurred_at").max().alias("last"),
        pl.col("sender_account").first().alias("sender"),
    )
    check = approaches.join(per, on="approach_id", how="inner")
    assert check.height == approaches.height
    for row in check.iter_rows(named=True):
        assert sorted(row["recipient_accounts"]) == row["recipients"]
        assert sorted(row["patterns"]) == row["kinds"]
        assert row["start"] == row["first"] and row["end"] == row["last"]
        assert row["sender_account"] == row["sender"]
        assert row["member_id"] == row["sender"].split(":")[0]
    mixed = approaches.filter(pl.col("patterns").list.len() > 1)
    assert mixed.height > 0


def test_benign_lookalikes_are_there_to_be_mistaken(joined: pl.DataFrame) -> None:
    benign = joined.filter(pl.col("pattern") == "benign_lookalike")
    assert benign.height > 50
    assert not benign["sender_is_offender"].any()
    assert benign["recipient_is_child"].all()
    assert benign["approach_id"].is_null().all()
    # Coaches: many children by day through group invites.
    invites = benign.filter(pl.col("channel") == "group_invite")
    per_coach = invites.group_by("sender_account").agg(pl.col("recipient_account").n_unique())
    assert (per_coach["recipient_account"] >= 8).any()
    assert (invites["occurred_at"].dt.hour().is_between(8, 17)).all()
    # Relatives: a call at night, once per relative.
    night = benign.filter(pl.col("occurred_at").dt.hour() < 5)
    assert night.height > 5
    assert night.group_by("sender_account").len()["len"].max() == 1


def test_requires_an_aware_start(people: pl.DataFrame, accounts: pl.DataFrame) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        generate_contact_events(
            people, accounts, rng=np.random.default_rng(1), start=datetime(2026, 1, 1), days=5
        )


def test_events_per_account_scales_the_volume(people: pl.DataFrame, accounts: pl.DataFrame) -> None:
    more = generate_contact_events(
        people,
        accounts,
        rng=np.random.default_rng(3),
        start=START,
        days=DAYS,
        events_per_account=6.0,
    )
    ordinary = more.truth_events.filter(pl.col("pattern") == "none").height
    assert abs(ordinary / accounts.height - 6.0) < 0.8
