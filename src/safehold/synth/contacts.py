"""Contact events on each platform: everyday traffic with planted approaches hidden in it.

Contact screening is judged on whether it finds the approaches an offender makes on
children (many children at once, first contacts, night-time contact, contact that speeds
up) among ordinary traffic that has friend circles, family contact across ages and daily
rhythms, and among innocent look-alikes (a coach inviting a team, a relative calling late),
so that a rule meets false positives as it would in life. Ground truth is kept apart.

Everything is vectorised over integer account indices; only the small set of planted
approaches with too few distinct children drawn is redrawn one by one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt
import polars as pl

from safehold.exchange import AgeBand, Channel

AGE_BANDS: tuple[str, ...] = tuple(b.value for b in AgeBand)
CHILD_BANDS = 3  # the first three bands are under 18
CHANNELS: tuple[str, ...] = tuple(c.value for c in Channel)
PATTERNS: tuple[str, ...] = (
    "none",
    "fan_out",
    "first_contact",
    "night",
    "escalating",
    "benign_lookalike",
)
APPROACH_PATTERNS: tuple[str, ...] = PATTERNS[1:5]
EVENT_COLUMNS: tuple[str, ...] = (
    "event_id", "sender_account", "recipient_account", "occurred_at", "channel", "first_contact",
    "recipient_age_band", "sender_age_band",
)  # fmt: skip
EVENT_SCHEMA: dict[str, pl.DataType] = {
    "event_id": pl.Utf8(),
    "sender_account": pl.Utf8(),
    "recipient_account": pl.Utf8(),
    "occurred_at": pl.Datetime("us", "UTC"),
    "channel": pl.Utf8(),
    "first_contact": pl.Boolean(),
    "recipient_age_band": pl.Utf8(),
    "sender_age_band": pl.Utf8(),
}

TRUTH_EVENT_SCHEMA: dict[str, pl.DataType] = {
    "member_id": pl.Utf8(),
    "event_id": pl.Utf8(),
    "pattern": pl.Utf8(),
    "approach_id": pl.Utf8(),
}
APPROACH_SCHEMA: dict[str, pl.DataType] = {
    "approach_id": pl.Utf8(),
    "member_id": pl.Utf8(),
    "sender_account": pl.Utf8(),
    "sender_person_id": pl.Int64(),
    "recipient_accounts": pl.List(pl.Utf8),
    "patterns": pl.List(pl.Utf8),
    "start": pl.Datetime("us", "UTC"),
    "end": pl.Datetime("us", "UTC"),
}

HOUR = 3_600_000_000  # microseconds
DAY = 24 * HOUR
NIGHT_HOURS = 5  # 00:00 to 05:00 UTC

_DM, _FR, _COMMENT, _GROUP, _VOICE, _VIDEO = range(6)
_NONE, _FAN_OUT, _FIRST, _NIGHT, _ESCALATING, _LOOKALIKE = range(6)

# Hourly activity (UTC), by (sender is a child, weekend): quiet nights, school hours and evenings.
# fmt: off
_HOURLY = np.array([
    [0.6, 0.3, 0.2, 0.15, 0.15, 0.3, 0.8, 1.5, 2.2, 2.5, 2.6, 2.7, 3.0, 2.8, 2.6, 2.6, 2.8, 3.2, 3.6, 4.0, 4.2, 3.8, 2.8, 1.5],
    [1.0, 0.6, 0.35, 0.2, 0.15, 0.15, 0.3, 0.7, 1.4, 2.2, 2.8, 3.0, 3.1, 3.0, 2.9, 2.9, 3.0, 3.2, 3.5, 3.8, 3.9, 3.6, 2.8, 1.8],
    [0.3, 0.15, 0.1, 0.05, 0.05, 0.1, 0.5, 1.8, 1.2, 0.6, 0.6, 0.8, 1.2, 0.7, 0.7, 1.5, 3.5, 4.2, 4.5, 4.8, 4.8, 4.0, 2.4, 1.0],
    [0.7, 0.35, 0.2, 0.1, 0.05, 0.05, 0.1, 0.3, 0.9, 1.8, 2.8, 3.2, 3.4, 3.4, 3.3, 3.3, 3.4, 3.6, 3.9, 4.1, 4.0, 3.4, 2.2, 1.2],
])
# fmt: on
_WEEKDAY = np.array([1.0, 1.0, 1.0, 1.0, 1.1, 1.25, 1.15])  # Monday first
_CHANNEL_SHARES = np.array([0.5, 0.08, 0.2, 0.04, 0.1, 0.08])


@dataclass(frozen=True)
class Planting:
    """How much is planted in the ordinary traffic."""

    approach_share: float = 0.5  # offender accounts that run approaches on children
    second_approach: float = 0.2  # approaching accounts that run a second one
    pattern_shares: tuple[float, float, float, float] = (0.45, 0.5, 0.45, 0.4)  # APPROACH_PATTERNS
    coaches_per_approacher: float = 0.5  # benign adults inviting many children by day
    relatives_per_approacher: float = 1.0  # benign adults calling a child once at night
    unknown_band_share: float = 0.1  # accounts whose age band the platform does not know
    session_length: float = 3.0  # mean events in an ordinary session between two accounts
    circle_size: int = 5  # accounts in a friend circle
    circle_share: float = 0.75  # ordinary contacts made within the circle


@dataclass(frozen=True)
class ContactEvents:
    events: dict[str, pl.DataFrame]  # member_id -> EVENT_COLUMNS, sorted by occurred_at
    truth_events: pl.DataFrame  # member_id, event_id, pattern, approach_id
    truth_approaches: pl.DataFrame  # approach_id, member_id, sender_account, sender_person_id,
    # recipient_accounts, patterns, start, end


@dataclass
class _Chunk:
    """Events under construction, as account indices and microseconds since ``start``."""

    sender: npt.NDArray[np.int32]
    recipient: npt.NDArray[np.int32]
    time: npt.NDArray[np.int64]
    channel: npt.NDArray[np.int8]
    pattern: npt.NDArray[np.int8]
    approach: npt.NDArray[np.int32]

    @staticmethod
    def of(
        sender: npt.NDArray[np.integer],
        recipient: npt.NDArray[np.integer],
        time: npt.NDArray[np.integer],
        channel: npt.NDArray[np.integer],
        pattern: int,
        approach: npt.NDArray[np.integer] | None = None,
    ) -> _Chunk:
        n = sender.size
        return _Chunk(
            sender.astype(np.int32),
            recipient.astype(np.int32),
            time.astype(np.int64),
            channel.astype(np.int8),
            np.full(n, pattern, dtype=np.int8),
            np.full(n, -1, dtype=np.int32) if approach is None else approach.astype(np.int32),
        )

    @staticmethod
    def concat(chunks: list[_Chunk]) -> _Chunk:
        return _Chunk(
            *(
                np.concatenate([getattr(c, f) for c in chunks])
                for f in ("sender", "recipient", "time", "channel", "pattern", "approach")
            )
        )


@dataclass(frozen=True)
class _World:
    """Accounts as arrays, with each platform's accounts grouped by true age band."""

    member_ids: list[str]
    plat: npt.NDArray[np.int32]
    band: npt.NDArray[np.int8]  # true age band code
    adult: npt.NDArray[np.bool_]
    offender: npt.NDArray[np.bool_]
    known_band: npt.NDArray[np.int8]  # declared band code, -1 when the platform does not know it
    order: npt.NDArray[np.int32]  # accounts sorted by (platform, band, random)
    rank: npt.NDArray[np.int64]  # position of each account in ``order``
    block_start: npt.NDArray[np.int64]  # per platform*bands + band, into ``order``
    child_order: npt.NDArray[np.int32]  # child accounts sorted by (platform, random)
    child_start: npt.NDArray[np.int64]  # per platform, into ``child_order``

    def block_size(self, key: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        return self.block_start[key + 1] - self.block_start[key]

    def children_on(self, plat: npt.NDArray[np.int32]) -> npt.NDArray[np.int64]:
        return self.child_start[plat + 1] - self.child_start[plat]


def _rows_of(people: pl.DataFrame, person_id: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    ids = people["person_id"].to_numpy()
    if np.array_equal(ids, np.arange(ids.size)):
        return person_id
    sorter = np.argsort(ids, kind="stable")
    return sorter[np.searchsorted(ids, person_id, sorter=sorter)]


def _band_codes(values: pl.Series) -> npt.NDArray[np.int8]:
    """Age band codes in AGE_BANDS order; -1 for null or anything else."""
    codes = values.cast(pl.Utf8).cast(pl.Enum(list(AGE_BANDS)), strict=False).to_physical()
    return codes.cast(pl.Int8).fill_null(-1).to_numpy()


def _world(
    people: pl.DataFrame, accounts: pl.DataFrame, rng: np.random.Generator, planting: Planting
) -> _World:
    member_ids = sorted(accounts["member_id"].unique().to_list())
    plat = accounts["member_id"].cast(pl.Enum(member_ids)).to_physical().cast(pl.Int32).to_numpy()
    row = _rows_of(people, accounts["person_id"].to_numpy())
    band = _band_codes(people["age_band"])[row]
    if (band < 0).any():
        raise ValueError("people.age_band holds a value that is not an age band")
    n = plat.size
    declared = _band_codes(accounts["age_band"])
    known_band = np.where(rng.random(n) < planting.unknown_band_share, -1, declared).astype(np.int8)
    nb = len(AGE_BANDS)
    key = plat.astype(np.int64) * nb + band
    order = np.argsort((key << 40) | rng.integers(0, 1 << 40, size=n), kind="stable").astype(
        np.int32
    )
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    block_start = np.searchsorted(key[order], np.arange(len(member_ids) * nb + 1)).astype(np.int64)
    child = band < CHILD_BANDS
    child_idx = np.flatnonzero(child)
    shuffle = (plat[child_idx].astype(np.int64) << 40) | rng.integers(
        0, 1 << 40, size=child_idx.size
    )
    child_order = child_idx[np.argsort(shuffle, kind="stable")].astype(np.int32)
    child_start = np.searchsorted(plat[child_order], np.arange(len(member_ids) + 1)).astype(
        np.int64
    )
    return _World(
        member_ids=member_ids,
        plat=plat,
        band=band,
        adult=~child,
        offender=people["is_offender"].to_numpy()[row] & ~child,
        known_band=known_band,
        order=order,
        rank=rank,
        block_start=block_start,
        child_order=child_order,
        child_start=child_start,
    )


def _band_mixing() -> npt.NDArray[np.float64]:
    """Row: sender's band; column: recipient's band. Contact is mostly within or next to one's
    own band; children reach parent-age adults and adults reach children (family, school)."""
    nb = len(AGE_BANDS)
    b = np.arange(nb)
    child = b < CHILD_BANDS
    same_side = child[:, None] == child[None, :]
    mix = np.where(same_side, np.exp(-1.2 * np.abs(b[:, None] - b[None, :])), 0.0)
    parent_age = (b >= 4) & (b <= 7)
    mix += np.where(child[:, None] & parent_age[None, :], 0.035, 0.0)
    mix += np.where(parent_age[:, None] & child[None, :], 0.02, 0.0)
    mix += np.where((b[:, None] == 8) & child[None, :], 0.015, 0.0)  # grandparents
    cdf: npt.NDArray[np.float64] = np.cumsum(mix / mix.sum(axis=1, keepdims=True), axis=1)
    return cdf


def _times(
    rng: np.random.Generator, n: int, child: npt.NDArray[np.bool_], start: datetime, days: int
) -> npt.NDArray[np.int64]:
    """Microseconds since ``start``, with weekly and daily cycles."""
    weekday = (start.weekday() + np.arange(days)) % 7
    day_weight = _WEEKDAY[weekday]
    day = rng.choice(days, size=n, p=day_weight / day_weight.sum())
    weekend = weekday[day] >= 5
    # ``start`` may fall mid-day; hours are counted from midnight UTC of start's date.
    offset = (start.hour * 3600 + start.minute * 60 + start.second) * 1_000_000 + start.microsecond
    group = child.astype(np.int64) * 2 + weekend
    cdf = np.cumsum(_HOURLY / _HOURLY.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(n)
    hour = np.zeros(n, dtype=np.int64)
    for g in range(4):
        mask = group == g
        hour[mask] = np.minimum(np.searchsorted(cdf[g], u[mask], side="right"), 23)
    within = (rng.random(n) * HOUR).astype(np.int64)
    time = day * DAY + hour * HOUR + within - offset
    return np.where(time < 0, time + DAY, time) % (days * DAY)


def _ordinary(
    world: _World,
    rng: np.random.Generator,
    start: datetime,
    days: int,
    per_account: float,
    planting: Planting,
) -> _Chunk:
    """Sessions between pairs of accounts: one opens, the two take turns for a few events."""
    n_acc = world.plat.size
    activity = rng.lognormal(0.0, 0.9, size=n_acc) * np.where(world.adult, 1.0, 1.3)
    activity *= per_account / planting.session_length / activity.mean()
    opener = np.repeat(np.arange(n_acc, dtype=np.int32), rng.poisson(activity))
    n = opener.size
    own_band = world.band[opener].astype(np.int64)
    cdf = _band_mixing()
    u = rng.random(n)
    target_band = np.zeros(n, dtype=np.int64)
    for k in range(len(AGE_BANDS) - 1):
        target_band += u > cdf[own_band, k]
    plat = world.plat[opener].astype(np.int64)
    nb = len(AGE_BANDS)
    own_key = plat * nb + own_band
    key = plat * nb + target_band
    size = world.block_size(key)
    own_pos = world.rank[opener] - world.block_start[own_key]
    # Friend circles: the accounts just after one's own place in the (shuffled) target block,
    # so the same pairs recur; otherwise a stranger anywhere in the block.
    base = own_pos * size // np.maximum(world.block_size(own_key), 1)
    circle = base + 1 + rng.integers(0, planting.circle_size, size=n)
    stranger = (rng.random(n) * size).astype(np.int64)
    pos = np.where(rng.random(n) < planting.circle_share, circle, stranger) % np.maximum(size, 1)
    other = world.order[world.block_start[key] + pos]
    keep = (size > 0) & (other != opener)
    opener, other = opener[keep], other[keep]
    opened = _times(rng, opener.size, ~world.adult[opener], start, days)
    channel = rng.choice(len(CHANNELS), size=opener.size, p=_CHANNEL_SHARES)
    # Turns within a session, minutes apart, alternating sender and recipient.
    length = rng.geometric(1 / planting.session_length, size=opener.size)
    session = np.repeat(np.arange(opener.size), length)
    turn = _group_ranks(length)
    gap = (rng.exponential(4 * 60 * 1_000_000, size=session.size)).astype(np.int64) + 1
    gap[turn == 0] = 0
    running = np.cumsum(gap)
    elapsed = running - np.repeat(running[np.cumsum(length) - length], length)
    odd = turn % 2 == 1
    a, b = opener[session], other[session]
    return _Chunk.of(
        np.where(odd, b, a),
        np.where(odd, a, b),
        np.minimum(opened[session] + elapsed, days * DAY - 1),
        channel[session],
        _NONE,
    )


def _group_ranks(counts: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """0, 1, ... within each run of a repeated index (``np.repeat(idx, counts)``)."""
    total = int(counts.sum())
    return np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)


def _distinct_children(
    world: _World,
    rng: np.random.Generator,
    plat: npt.NDArray[np.int32],
    wanted: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int32]]:
    """For item i, ``wanted[i]`` distinct child accounts on platform ``plat[i]`` (fewer only
    when the platform has fewer children). Returns (item index, child account)."""
    available = world.children_on(plat)
    wanted = np.minimum(wanted, available)
    draws = np.where(wanted > 0, wanted * 2 + 3, 0)
    item = np.repeat(np.arange(plat.size), draws)
    pos = (rng.random(item.size) * available[item]).astype(np.int64)
    child = world.child_order[world.child_start[plat[item]] + pos].astype(np.int64)
    # First occurrence of each (item, child), in draw order; then the first ``wanted``.
    _, first = np.unique(item * world.plat.size + child, return_index=True)
    first.sort()
    item, child = item[first], child[first]
    counts = np.bincount(item, minlength=plat.size)
    keep = _group_ranks(counts) < wanted[item]
    item, child = item[keep], child[keep]
    short = np.flatnonzero(np.bincount(item, minlength=plat.size) < wanted)
    if short.size:
        redrawn = [
            world.child_order[
                world.child_start[plat[i]]
                + rng.choice(int(available[i]), int(wanted[i]), replace=False)
            ]
            for i in short
        ]
        drop = np.isin(item, short)
        item = np.concatenate([item[~drop], np.repeat(short, wanted[short])])
        child = np.concatenate([child[~drop], *redrawn])
        order = np.argsort(item, kind="stable")
        item, child = item[order], child[order]
    return item, child.astype(np.int32)


def _pick_channel(
    rng: np.random.Generator, n: int, shares: dict[int, float]
) -> npt.NDArray[np.int64]:
    codes = np.array(list(shares))
    p = np.array(list(shares.values()))
    return codes[rng.choice(codes.size, size=n, p=p / p.sum())]


def _night_times(
    rng: np.random.Generator, n: int, start: datetime, days: int
) -> npt.NDArray[np.int64]:
    """Times between 00:00 and 05:00 UTC on days of the period."""
    midnight = -(
        (start.hour * 3600 + start.minute * 60 + start.second) * 1_000_000 + start.microsecond
    )
    first_day = 0 if midnight == 0 else 1
    day = rng.integers(first_day, days, size=n)
    return midnight + day * DAY + (rng.random(n) * NIGHT_HOURS * HOUR).astype(np.int64)


def _approaches(
    world: _World, rng: np.random.Generator, start: datetime, days: int, planting: Planting
) -> tuple[_Chunk, pl.DataFrame]:
    """Offender accounts approaching children on their own platform, in a mix of patterns."""
    span = days * DAY
    candidates = np.flatnonzero(world.offender & (world.children_on(world.plat) > 0))
    runs = candidates[rng.random(candidates.size) < planting.approach_share]
    twice = runs[rng.random(runs.size) < planting.second_approach]
    sender = np.sort(np.concatenate([runs, twice])).astype(np.int32)
    n = sender.size
    plat = world.plat[sender]
    has = rng.random((n, len(APPROACH_PATTERNS))) < np.array(planting.pattern_shares)
    has[np.arange(n), rng.integers(0, len(APPROACH_PATTERNS), size=n)] |= ~has.any(axis=1)
    few_children = world.children_on(plat) < 5
    moved = has[:, 0] & few_children
    has[moved, 0], has[moved, 1] = False, True
    chunks: list[_Chunk] = []

    # (a) fan-out: 5 to 30 distinct children within hours to two days.
    ap = np.flatnonzero(has[:, 0])
    item, child = _distinct_children(world, rng, plat[ap], rng.integers(5, 31, size=ap.size))
    window = np.minimum(rng.uniform(2 * HOUR, 2 * DAY, size=ap.size), span - 1).astype(np.int64)
    opens = (rng.random(ap.size) * (span - window)).astype(np.int64)
    time = opens[item] + (rng.random(item.size) * window[item]).astype(np.int64)
    chunks.append(
        _Chunk.of(
            sender[ap][item],
            child,
            time,
            _pick_channel(rng, item.size, {_DM: 0.5, _FR: 0.4, _COMMENT: 0.1}),
            _FAN_OUT,
            ap[item],
        )
    )

    # (b) first contacts with a few children, spread over the period.
    ap = np.flatnonzero(has[:, 1])
    item, child = _distinct_children(world, rng, plat[ap], rng.integers(2, 7, size=ap.size))
    time = (rng.random(item.size) * span).astype(np.int64)
    chunks.append(
        _Chunk.of(
            sender[ap][item],
            child,
            time,
            _pick_channel(rng, item.size, {_FR: 0.6, _DM: 0.4}),
            _FIRST,
            ap[item],
        )
    )

    # (c) night-time contact (00:00-05:00 UTC) with one to three children, repeatedly.
    ap = np.flatnonzero(has[:, 2])
    item, child = _distinct_children(world, rng, plat[ap], rng.integers(1, 4, size=ap.size))
    repeat = rng.integers(2, 6, size=item.size)
    item, child = np.repeat(item, repeat), np.repeat(child, repeat)
    time = _night_times(rng, item.size, start, days)
    chunks.append(
        _Chunk.of(
            sender[ap][item],
            child,
            time,
            _pick_channel(rng, item.size, {_DM: 0.6, _VOICE: 0.2, _VIDEO: 0.2}),
            _NIGHT,
            ap[item],
        )
    )

    # (d) escalating contact with one child: each interval a fixed fraction of the last.
    ap = np.flatnonzero(has[:, 3])
    item, child = _distinct_children(world, rng, plat[ap], np.ones(ap.size, dtype=np.int64))
    count = rng.integers(6, 15, size=item.size)
    first_gap = rng.uniform(1.5, 4.0, size=item.size) * DAY
    ratio = rng.uniform(0.55, 0.8, size=item.size)
    total = first_gap * (1 - ratio ** (count - 1)) / (1 - ratio)
    first_gap *= np.minimum(1.0, 0.9 * span / total)
    total = np.minimum(total, 0.9 * span)
    begins = rng.random(item.size) * (span - total - 1)
    step = _group_ranks(count)
    e_item = np.repeat(item, count)
    e_ratio = np.repeat(ratio, count)
    gap_sum = np.repeat(first_gap, count) * (1 - e_ratio**step) / (1 - e_ratio)
    escalating = (np.repeat(begins, count) + gap_sum).astype(np.int64)
    chunks.append(
        _Chunk.of(
            sender[ap][e_item],
            np.repeat(child, count),
            escalating,
            _pick_channel(rng, e_item.size, {_DM: 0.7, _VOICE: 0.15, _VIDEO: 0.15}),
            _ESCALATING,
            ap[e_item],
        )
    )
    planted = _Chunk.concat(chunks)
    plan = pl.DataFrame({"approach": np.arange(n, dtype=np.int32), "sender": sender})
    return planted, plan


def _lookalikes(
    world: _World,
    rng: np.random.Generator,
    start: datetime,
    days: int,
    approachers: int,
    planting: Planting,
) -> _Chunk:
    """Innocent adults whose contact with children resembles an approach."""
    span = days * DAY
    parent_age = (
        ~world.offender
        & (world.band >= 4)
        & (world.band <= 7)
        & (world.children_on(world.plat) >= 5)
    )
    pool = np.flatnonzero(parent_age)
    n_coach = min(round(planting.coaches_per_approacher * approachers), pool.size)
    coach = np.sort(rng.choice(pool, size=n_coach, replace=False)).astype(np.int32)
    # A coach or teacher invites a group of children by day, on one to three weekdays.
    item, child = _distinct_children(
        world, rng, world.plat[coach], rng.integers(8, 31, size=n_coach)
    )
    sessions = rng.integers(1, 4, size=n_coach)
    weekdays = np.flatnonzero((start.weekday() + np.arange(days)) % 7 < 5)
    if weekdays.size == 0:
        weekdays = np.arange(days)
    session_day = weekdays[rng.integers(0, weekdays.size, size=(n_coach, 3))]
    session_hour = rng.integers(8, 17, size=(n_coach, 3))
    e_item = np.repeat(item, sessions[item])
    e_child = np.repeat(child, sessions[item])
    s = _group_ranks(sessions[item])
    midnight = -(
        (start.hour * 3600 + start.minute * 60 + start.second) * 1_000_000 + start.microsecond
    )
    time = (
        midnight
        + session_day[e_item, s] * DAY
        + session_hour[e_item, s] * HOUR
        + (rng.random(e_item.size) * HOUR).astype(np.int64)
    )
    time = np.clip(time, 0, span - 1)
    coaches = _Chunk.of(
        coach[e_item],
        e_child,
        time,
        _pick_channel(rng, e_item.size, {_GROUP: 0.8, _COMMENT: 0.2}),
        _LOOKALIKE,
    )

    # A relative calls a child once late at night, and otherwise by day.
    pool = np.flatnonzero(~world.offender & (world.band >= 4) & (world.children_on(world.plat) > 0))
    n_rel = min(round(planting.relatives_per_approacher * approachers), pool.size)
    relative = np.sort(rng.choice(pool, size=n_rel, replace=False)).astype(np.int32)
    _, kin = _distinct_children(world, rng, world.plat[relative], np.ones(n_rel, dtype=np.int64))
    by_day = rng.integers(0, 4, size=n_rel)
    d_item = np.repeat(np.arange(n_rel), by_day)
    day_time = _times(rng, d_item.size, np.zeros(d_item.size, dtype=bool), start, days)
    day_time = np.where(
        _hour_of(day_time, start) < NIGHT_HOURS, (day_time + 12 * HOUR) % span, day_time
    )
    relatives = _Chunk.of(
        np.concatenate([relative, relative[d_item]]),
        np.concatenate([kin, kin[d_item]]),
        np.concatenate([_night_times(rng, n_rel, start, days), day_time]),
        _pick_channel(rng, n_rel + d_item.size, {_VOICE: 0.5, _DM: 0.3, _VIDEO: 0.2}),
        _LOOKALIKE,
    )
    return _Chunk.concat([coaches, relatives])


def _hour_of(time: npt.NDArray[np.int64], start: datetime) -> npt.NDArray[np.int64]:
    offset = (start.hour * 3600 + start.minute * 60 + start.second) * 1_000_000 + start.microsecond
    result: npt.NDArray[np.int64] = ((time + offset) % DAY) // HOUR
    return result


def _empty(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


def _epoch_us(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def _codes_to_text(
    codes: npt.NDArray[np.integer], labels: tuple[str, ...] | list[str]
) -> pl.Series:
    """Labels by index; a negative index gives null."""
    if not labels:
        return pl.Series(values=[None] * codes.size, dtype=pl.Utf8)
    index = pl.Series(np.maximum(codes, 0).astype(np.uint32))
    text = pl.lit(pl.Series(list(labels), dtype=pl.Utf8)).gather(index)
    return pl.select(pl.when(pl.Series(codes >= 0)).then(text)).to_series()


def generate_contact_events(
    people: pl.DataFrame,
    accounts: pl.DataFrame,
    *,
    rng: np.random.Generator,
    start: datetime,
    days: int,
    events_per_account: float = 2.0,
    planting: Planting | None = None,
) -> ContactEvents:
    """Contact events for ``days`` days from ``start`` on every platform in ``accounts``:
    about ``events_per_account`` ordinary events per account plus the planted approaches
    and look-alikes. Deterministic for a given ``rng`` state."""
    if days < 1:
        raise ValueError("days must be at least 1")
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError("start must be timezone-aware (UTC)")
    if accounts.height == 0:
        return ContactEvents({}, _empty(TRUTH_EVENT_SCHEMA), _empty(APPROACH_SCHEMA))
    planting = planting or Planting()
    start = start.astimezone(UTC)
    world = _world(people, accounts, rng, planting)
    ordinary = _ordinary(world, rng, start, days, events_per_account, planting)
    planted, plan = _approaches(world, rng, start, days, planting)
    lookalike = _lookalikes(world, rng, start, days, plan.height, planting)
    ev = _Chunk.concat([ordinary, planted, lookalike])

    # Per platform, in time order (ties keep generation order, so the result is deterministic).
    plat = world.plat[ev.sender]
    order = np.argsort((plat.astype(np.int64) << 46) | ev.time, kind="stable")  # time < 2**45 us
    for name in ("sender", "recipient", "time", "channel", "pattern", "approach"):
        setattr(ev, name, getattr(ev, name)[order])
    plat = plat[order]
    del order
    # A contact is a first contact when no earlier event has the same (sender, recipient).
    first = pl.Series(
        ev.sender.astype(np.int64) * world.plat.size + ev.recipient
    ).is_first_distinct()

    n_members = len(world.member_ids)
    start_us = _epoch_us(start)
    bounds = np.searchsorted(plat, np.arange(n_members + 1))
    seq = np.arange(plat.size, dtype=np.int64) - bounds[plat]
    member = pl.Series("member_id", world.member_ids, dtype=pl.Utf8).gather(plat)
    account_ids = accounts["account_id"].cast(pl.Utf8).rechunk()  # gathers from one chunk are fast
    event_id = pl.select(
        pl.concat_str(member, pl.lit(":e"), pl.Series(seq).cast(pl.Utf8).str.zfill(9))
    ).to_series()
    frame = pl.DataFrame(
        {
            "event_id": event_id,
            "sender_account": account_ids.gather(ev.sender),
            "recipient_account": account_ids.gather(ev.recipient),
            "occurred_at": pl.Series(ev.time + start_us).cast(pl.Datetime("us", "UTC")),
            "channel": _codes_to_text(ev.channel, CHANNELS),
            "first_contact": first,
            "recipient_age_band": _codes_to_text(world.known_band[ev.recipient], AGE_BANDS),
            "sender_age_band": _codes_to_text(world.known_band[ev.sender], AGE_BANDS),
        },
        schema=EVENT_SCHEMA,
    )
    events = {
        mid: frame.slice(int(bounds[i]), int(bounds[i + 1] - bounds[i]))
        for i, mid in enumerate(world.member_ids)
    }

    approach_ids = [f"approach-{i:06d}" for i in range(plan.height)]
    truth_events = pl.DataFrame(
        {
            "member_id": member,
            "event_id": event_id,
            "pattern": _codes_to_text(ev.pattern, PATTERNS),
            "approach_id": _codes_to_text(ev.approach, approach_ids),
        },
        schema=TRUTH_EVENT_SCHEMA,
    )
    truth_approaches = _approach_truth(world, accounts, ev, plan, approach_ids, start_us)
    return ContactEvents(
        events=events, truth_events=truth_events, truth_approaches=truth_approaches
    )


def _approach_truth(
    world: _World,
    accounts: pl.DataFrame,
    ev: _Chunk,
    plan: pl.DataFrame,
    approach_ids: list[str],
    start_us: int,
) -> pl.DataFrame:
    account_ids = accounts["account_id"].cast(pl.Utf8).rechunk()  # gathers from one chunk are fast
    mask = ev.approach >= 0
    planted = pl.DataFrame(
        {
            "approach": ev.approach[mask],
            "recipient": account_ids.gather(ev.recipient[mask]),
            "pattern": ev.pattern[mask],
            "time": ev.time[mask] + start_us,
        }
    )  # in time order within each platform, hence within each approach
    per = planted.group_by("approach", maintain_order=True).agg(
        pl.col("recipient").unique(maintain_order=True).alias("recipient_accounts"),
        pl.col("pattern").unique().sort().alias("patterns"),
        pl.col("time").min().alias("start"),
        pl.col("time").max().alias("end"),
    )
    plan = plan.join(per, on="approach", how="left", maintain_order="left").sort("approach")
    sender = plan["sender"].to_numpy()
    names = list(PATTERNS)
    return pl.DataFrame(
        {
            "approach_id": pl.Series(approach_ids, dtype=pl.Utf8),
            "member_id": pl.Series(world.member_ids, dtype=pl.Utf8).gather(world.plat[sender]),
            "sender_account": account_ids.gather(sender),
            "sender_person_id": accounts["person_id"].cast(pl.Int64).gather(sender),
            "recipient_accounts": plan["recipient_accounts"],
            "patterns": plan["patterns"].list.eval(
                pl.element().replace_strict(list(range(len(names))), names, return_dtype=pl.Utf8)
            ),
            "start": plan["start"].cast(pl.Datetime("us", "UTC")),
            "end": plan["end"].cast(pl.Datetime("us", "UTC")),
        },
        schema=APPROACH_SCHEMA,
    )
