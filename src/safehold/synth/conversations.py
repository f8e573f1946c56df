"""Seeded synthetic conversations with per-message grooming-stage ground truth.

Why: the conversation-risk model needs labelled training and evaluation data, and real
conversations with children cannot be used for that. This module produces ordinary
conversations, grooming-pattern conversations that move through the stages named in
published grooming research (rapport, risk assessment, exclusivity and secrecy, gifts,
moving platform, meeting), and benign hard negatives that share their vocabulary.
Phrasing families can be restricted so evaluation can use wording never seen in
training. The text is clean: patterns only, never explicit content.

Timestamps are UTC; the synthetic world treats UTC hours as the participants' local
hours. A conversation starts inside ``[start, start + period_days)`` and may run past it.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Generic, TypeVar

import numpy as np
import polars as pl

from safehold.exchange.base import AgeBand
from safehold.exchange.conversations import Conversation, Message, Participant
from safehold.synth.phrasing import (
    GROOMING_STAGES,
    HARD_NEGATIVE_KINDS,
    ORDINARY_KINDS,
    PHRASING_FAMILIES,
    SLOT_FILLERS,
    SLOT_POOL,
    STAGE_RANK,
    STAGES,
    Unit,
    child_replies,
    closings,
    greetings,
    kind_bank,
    small_talk,
    stage_lines,
    stylise,
)

__all__ = [
    "GROOMING_STAGES",
    "HARD_NEGATIVE_KINDS",
    "KINDS",
    "ORDINARY_KINDS",
    "PHRASING_FAMILIES",
    "STAGES",
    "STAGE_RANK",
    "ConversationSpec",
    "GeneratedConversations",
    "generate_conversations",
    "to_exchange",
]

KINDS: tuple[str, ...] = ("grooming", *ORDINARY_KINDS, *HARD_NEGATIVE_KINDS)
"""Every conversation kind the generator produces."""

MESSAGE_SCHEMA: dict[str, pl.DataType] = {
    "conversation_id": pl.String(),
    "message_id": pl.String(),
    "sender_id": pl.String(),
    "sent_at": pl.Datetime("us", "UTC"),
    "text": pl.String(),
    "stage": pl.String(),
}
CONVERSATION_SCHEMA: dict[str, pl.DataType] = {
    "conversation_id": pl.String(),
    "channel": pl.String(),
    "label": pl.String(),
    "kind": pl.String(),
    "phrasing_family": pl.String(),
    "phrasing_families": pl.List(pl.String()),
    "participant_ids": pl.List(pl.String()),
    "participant_age_bands": pl.List(pl.String()),
    "first_grooming_message": pl.Int64(),
    "n_messages": pl.Int64(),
}

_T = TypeVar("_T")
_H = TypeVar("_H", bound=Hashable)
_US = 1_000_000
_HOUR_US = 3600 * _US
_DAY_US = 24 * _HOUR_US
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


# --- seeded draws -----------------------------------------------------------------------


class _Weighted(Generic[_T]):
    """A fixed discrete distribution, sampled by bisecting cumulative weights."""

    __slots__ = ("_cum", "_total", "values")

    def __init__(self, pairs: Sequence[tuple[_T, float]]) -> None:
        self.values = tuple(v for v, _ in pairs)
        cum: list[float] = []
        running = 0.0
        for _, w in pairs:
            running += w
            cum.append(running)
        self._cum = cum
        self._total = running

    def pick(self, u: float) -> _T:
        i = bisect.bisect_right(self._cum, u * self._total)
        return self.values[min(i, len(self.values) - 1)]


class _Draw:
    """Buffered uniforms and normals from one numpy Generator (fast scalar draws)."""

    __slots__ = ("_gen", "_n", "_ni", "_u", "_ui")

    def __init__(self, gen: np.random.Generator) -> None:
        self._gen = gen
        self._u: list[float] = gen.random(256).tolist()
        self._ui = 0
        self._n: list[float] = gen.standard_normal(32).tolist()
        self._ni = 0

    def u(self) -> float:
        if self._ui == len(self._u):
            self._u = self._gen.random(256).tolist()
            self._ui = 0
        value = self._u[self._ui]
        self._ui += 1
        return value

    def normal(self) -> float:
        if self._ni == len(self._n):
            self._n = self._gen.standard_normal(32).tolist()
            self._ni = 0
        value = self._n[self._ni]
        self._ni += 1
        return value

    def chance(self, p: float) -> bool:
        return self.u() < p

    def index(self, n: int) -> int:
        return min(int(self.u() * n), n - 1)

    def pick(self, seq: Sequence[_T]) -> _T:
        return seq[self.index(len(seq))]

    def sample(self, seq: Sequence[_T], k: int) -> list[_T]:
        """k distinct items (by position), in random order."""
        pool = list(seq)
        k = min(k, len(pool))
        for i in range(k):
            j = i + self.index(len(pool) - i)
            pool[i], pool[j] = pool[j], pool[i]
        return pool[:k]

    def weighted(self, dist: _Weighted[_T]) -> _T:
        return dist.pick(self.u())


# --- participants -------------------------------------------------------------------------

_BANDS = tuple(b.value for b in AgeBand)
_MINORS = frozenset({"under_13", "13_15", "16_17"})


def _w(*pairs: tuple[str, float]) -> _Weighted[str]:
    return _Weighted(pairs)


_GROOMER = _w(("18_24", 0.12), ("25_34", 0.3), ("35_44", 0.3), ("45_54", 0.2), ("55_64", 0.08))
_TARGET = _w(("under_13", 0.3), ("13_15", 0.5), ("16_17", 0.2))
_CHILD = _w(("under_13", 0.45), ("13_15", 0.4), ("16_17", 0.15))
_PARENT = _w(("25_34", 0.25), ("35_44", 0.45), ("45_54", 0.3))
_OLDER_PARENT = _w(("45_54", 0.4), ("55_64", 0.4), ("65_plus", 0.2))
_ADULT_CHILD = _w(("18_24", 0.4), ("25_34", 0.4), ("35_44", 0.2))
_FRIENDS = _w(
    ("under_13", 0.15), ("13_15", 0.3), ("16_17", 0.2), ("18_24", 0.15), ("25_34", 0.1),
    ("35_44", 0.05), ("45_54", 0.03), ("55_64", 0.02),
)  # fmt: skip
_GROUP_FRIENDS = _w(("under_13", 0.2), ("13_15", 0.4), ("16_17", 0.25), ("18_24", 0.15))
_TEACHER = _w(("25_34", 0.35), ("35_44", 0.3), ("45_54", 0.25), ("55_64", 0.1))
_GAMER = _w(("under_13", 0.2), ("13_15", 0.3), ("16_17", 0.2), ("18_24", 0.2), ("25_34", 0.1))
_CUSTOMER = _w(
    ("16_17", 0.05), ("18_24", 0.2), ("25_34", 0.25), ("35_44", 0.2), ("45_54", 0.15),
    ("55_64", 0.1), ("65_plus", 0.05),
)  # fmt: skip
_AGENT = _w(("18_24", 0.4), ("25_34", 0.4), ("35_44", 0.2))
_RELATIVE = _w(("35_44", 0.2), ("45_54", 0.2), ("55_64", 0.3), ("65_plus", 0.3))
_COACH = _w(("18_24", 0.2), ("25_34", 0.35), ("35_44", 0.3), ("45_54", 0.15))
_SIBLING = _w(("under_13", 0.2), ("13_15", 0.3), ("16_17", 0.2), ("18_24", 0.15), ("25_34", 0.15))
_NEIGHBOUR_OFFSET = _Weighted(((0, 0.6), (-1, 0.2), (1, 0.2)))

_FAMILY_WEIGHTS: dict[str, dict[str, float]] = {
    "child": {
        "formal": 0.4, "casual": 1.0, "textspeak": 1.2, "emoji_light": 1.0,
        "typo_prone": 0.8, "terse": 0.6,
    },
    "adult": {
        "formal": 1.0, "casual": 1.2, "textspeak": 0.4, "emoji_light": 0.8,
        "typo_prone": 0.6, "terse": 0.5,
    },
    "pro": {
        "formal": 2.0, "casual": 1.0, "textspeak": 0.2, "emoji_light": 0.6,
        "typo_prone": 0.3, "terse": 0.4,
    },
}  # fmt: skip


def _person(band: str) -> tuple[str, str]:
    return band, "child" if band in _MINORS else "adult"


def _neighbour(band: str, r: _Draw, lowest: str, highest: str) -> str:
    lo, hi = _BANDS.index(lowest), _BANDS.index(highest)
    i = _BANDS.index(band) + r.weighted(_NEIGHBOUR_OFFSET)
    return _BANDS[max(lo, min(hi, i))]


def _participants(kind: str, r: _Draw) -> list[tuple[str, str]]:
    """(age band, persona) per participant; the first one starts the conversation."""
    if kind == "grooming":
        return [(r.weighted(_GROOMER), "adult"), (r.weighted(_TARGET), "child")]
    if kind == "friends":
        band = r.weighted(_FRIENDS)
        return [_person(band), _person(band)]
    if kind == "family":
        if r.chance(0.7):
            return [(r.weighted(_PARENT), "adult"), _person(r.weighted(_CHILD))]
        return [(r.weighted(_OLDER_PARENT), "adult"), (r.weighted(_ADULT_CHILD), "adult")]
    if kind == "school":
        return [(r.weighted(_TEACHER), "pro"), _person(r.pick(("under_13", "13_15", "16_17")))]
    if kind == "gaming":
        band = r.weighted(_GAMER)
        return [_person(band), _person(_neighbour(band, r, "under_13", "25_34"))]
    if kind == "shopping":
        return [_person(r.weighted(_CUSTOMER)), (r.weighted(_AGENT), "pro")]
    if kind in ("hard_negative_told_other_parent", "hard_negative_safety_check_in"):
        return [(r.weighted(_PARENT), "adult"), _person(r.weighted(_CHILD))]
    if kind == "hard_negative_family_presents":
        return [(r.weighted(_RELATIVE), "adult"), _person(r.weighted(_CHILD))]
    if kind == "hard_negative_teacher_meeting":
        band = r.pick(("under_13", "13_15", "16_17"))
        return [(r.weighted(_TEACHER), "pro")] + [_person(band)] * (3 + r.index(6))
    if kind == "hard_negative_group_app_move":
        band = r.weighted(_GROUP_FRIENDS)
        return [_person(band)] * (3 + r.index(4))
    if kind == "hard_negative_coach_pickup":
        people = [
            (r.weighted(_COACH), "pro"),
            _person(r.weighted(_CHILD)),
            (r.weighted(_PARENT), "adult"),
        ]
        if r.chance(0.5):  # the other parent, in copy
            people.append((r.weighted(_PARENT), "adult"))
        return people
    if kind == "hard_negative_surprise_party":
        band = r.weighted(_SIBLING)
        return [_person(band), _person(_neighbour(band, r, "under_13", "35_44"))]
    raise ValueError(f"unknown conversation kind {kind!r}")


_CHANNELS: dict[str, str] = {
    "friends": "direct_message",
    "family": "direct_message",
    "school": "school_platform",
    "gaming": "in_game_chat",
    "shopping": "customer_support",
    "hard_negative_told_other_parent": "direct_message",
    "hard_negative_teacher_meeting": "school_platform",
    "hard_negative_group_app_move": "group_chat",
    "hard_negative_family_presents": "direct_message",
    "hard_negative_coach_pickup": "group_chat",
    "hard_negative_surprise_party": "direct_message",
    "hard_negative_safety_check_in": "direct_message",
}


@dataclass(frozen=True)
class ConversationSpec:
    """The plan of one conversation, drawn before its messages are written."""

    conversation_id: str
    kind: str
    label: str
    channel: str
    participant_ids: tuple[str, ...]
    age_bands: tuple[str, ...]
    families: tuple[str, ...]
    """Phrasing family per participant (the first one's is the conversation's family)."""
    night_heavy: bool
    escalating: bool


def _plan(
    conversation_id: str, kind: str, r: _Draw, persona_families: dict[str, _Weighted[str]]
) -> ConversationSpec:
    people = _participants(kind, r)
    first = r.weighted(persona_families[people[0][1]])
    families = [first]
    for _, persona in people[1:]:
        families.append(first if r.chance(0.35) else r.weighted(persona_families[persona]))
    grooming = kind == "grooming"
    if grooming:
        channel = "direct_message" if r.chance(0.7) else "in_game_chat"
    else:
        channel = _CHANNELS[kind]
    return ConversationSpec(
        conversation_id=conversation_id,
        kind=kind,
        label="grooming" if grooming else "benign",
        channel=channel,
        participant_ids=tuple(f"p{i + 1}" for i in range(len(people))),
        age_bands=tuple(band for band, _ in people),
        families=tuple(families),
        night_heavy=(grooming and r.chance(0.8)) or (kind == "gaming" and r.chance(0.5)),
        escalating=grooming and r.chance(0.75),
    )


# --- writing messages ---------------------------------------------------------------------


class _Slots(dict[str, str]):
    """Slot values drawn on first use and kept for the whole conversation."""

    def __init__(self, r: _Draw) -> None:
        super().__init__()
        self._r = r
        self._used: dict[str, set[str]] = {}

    def __missing__(self, key: str) -> str:
        options = SLOT_FILLERS[key]
        pool = SLOT_POOL.get(key)
        value = self._r.pick(options)
        if pool is not None:
            used = self._used.setdefault(pool, set())
            if value in used:
                free = [o for o in options if o not in used]
                value = self._r.pick(free) if free else value
            used.add(value)
        self[key] = value
        return value


class _Writer:
    """Accumulates (speaker index, text, stage, starts a new session) for one conversation."""

    def __init__(self, spec: ConversationSpec, r: _Draw) -> None:
        self.spec = spec
        self.r = r
        self.slots = _Slots(r)
        self.out: list[tuple[int, str, str, bool]] = []
        self._new_session = False
        self._used: set[Hashable] = set()

    def fresh(self, options: Sequence[_H]) -> _H:
        """A random option not used yet in this conversation (any one once all are)."""
        unused = [o for o in options if o not in self._used]
        choice = self.r.pick(unused or options)
        self._used.add(choice)
        return choice

    def new_session(self) -> None:
        if self.out:
            self._new_session = True

    def say(self, speaker: int, template: str, stage: str = "none") -> None:
        text = stylise(self.spec.families[speaker], template.format_map(self.slots), self.r)
        self.out.append((speaker, text, stage, self._new_session))
        self._new_session = False

    def unit(self, unit: Unit, roles: dict[str, int]) -> None:
        members = [i for i in range(len(self.spec.participant_ids)) if i != roles["A"]]
        last = -1
        for line in unit:
            if line.role == "M":
                choices = [m for m in members if m != last] or members
                speaker = self.r.pick(choices)
                last = speaker
            else:
                speaker = roles[line.role]
            self.say(speaker, line.template)


_STAGE_INCLUDE = {
    "rapport": 0.93,
    "risk_assessment": 0.75,
    "exclusivity_secrecy": 0.75,
    "gifts": 0.5,
    "platform_move": 0.6,
    "meeting": 0.55,
}
_RAPPORT_REPEATS = _Weighted(((1, 0.2), (2, 0.35), (3, 0.3), (4, 0.15)))
_STAGE_REPEATS = _Weighted(((1, 0.65), (2, 0.3), (3, 0.05)))


def _stage_plan(r: _Draw) -> list[str]:
    """Stages in research order, some skipped, some repeated; at least three distinct."""
    chosen = [s for s in GROOMING_STAGES if r.chance(_STAGE_INCLUDE[s])]
    while len(chosen) < 3:
        chosen.append(r.pick([s for s in GROOMING_STAGES if s not in chosen]))
    chosen.sort(key=lambda s: STAGE_RANK[s])
    plan: list[str] = []
    for stage in chosen:
        repeats = _RAPPORT_REPEATS if stage == "rapport" else _STAGE_REPEATS
        plan.extend([stage] * r.weighted(repeats))
    return plan


def _write_grooming(w: _Writer) -> None:
    r, families = w.r, w.spec.families
    adult, child = 0, 1
    pair = {"A": adult, "B": child}
    if r.chance(0.7):
        w.unit(w.fresh(greetings(families[adult])), pair)
    previous = ""
    for stage in _stage_plan(r):
        if r.chance(0.3 if stage == previous else 0.5):
            w.new_session()
            if r.chance(0.5):
                w.unit(w.fresh(greetings(families[adult])), pair)
        if r.chance(0.35):
            starter = r.pick((adult, child))
            w.unit(w.fresh(small_talk(families[starter])), {"A": starter, "B": 1 - starter})
        for _ in range(1 + int(r.chance(0.35)) + int(r.chance(0.1))):
            line = w.fresh(stage_lines(families[adult], stage))
            w.say(adult, line.template, stage)
            if r.chance(0.75):
                w.say(child, w.fresh(child_replies(families[child], stage, line.tag)))
        previous = stage
    if r.chance(0.4):
        w.unit(w.fresh(closings(families[adult])), pair)


_OPEN_P = {"friends": 0.7, "family": 0.4, "school": 0.3, "gaming": 0.4}
_SWAPPABLE = frozenset({"friends", "gaming"})
_BREAK_P = {"friends": 0.25, "family": 0.25, "gaming": 0.25, "school": 0.2, "shopping": 0.0}


def _write_benign(w: _Writer) -> None:
    r, spec = w.r, w.spec
    bank = kind_bank(spec.kind, spec.families[0])
    roles = {"A": 0, "B": 1, "C": 2 if len(spec.participant_ids) > 2 else 1}
    if bank.openers and r.chance(_OPEN_P.get(spec.kind, 0.5)):
        w.unit(r.pick(bank.openers), roles)
    pool: list[Unit] = list(bank.bodies)
    if spec.kind in _SWAPPABLE:
        pool.extend(small_talk(spec.families[0]))
    n_units = 1 + r.index(min(4, len(pool)))
    units = r.sample(pool, n_units)
    if spec.kind in HARD_NEGATIVE_KINDS:  # their units tell a story in bank order
        units.sort(key=pool.index)
    for i, unit in enumerate(units):
        if i and r.chance(_BREAK_P.get(spec.kind, 0.25)):
            w.new_session()
        if spec.kind in _SWAPPABLE and r.chance(0.4):
            w.unit(unit, {"A": 1, "B": 0})
        else:
            w.unit(unit, roles)
    if bank.closers and r.chance(0.8 if spec.kind == "shopping" else 0.45):
        w.unit(r.pick(bank.closers), roles)


# --- timing ---------------------------------------------------------------------------

_DAY_HOURS = _Weighted(tuple(enumerate((
    0.3, 0.15, 0.1, 0.05, 0.05, 0.1, 0.4, 1.2, 2.0, 2.5, 2.8, 3.0,
    3.2, 3.0, 3.0, 3.2, 3.5, 3.6, 3.6, 3.4, 3.0, 2.2, 1.2, 0.6,
))))  # fmt: skip
_NIGHT_HOURS = _Weighted(tuple(enumerate((
    2.4, 1.8, 1.1, 0.6, 0.3, 0.15, 0.2, 0.4, 0.6, 0.7, 0.8, 0.9,
    1.0, 1.1, 1.3, 2.0, 2.6, 2.8, 2.8, 3.0, 3.4, 3.8, 3.8, 3.2,
))))  # fmt: skip
_EVENING_HOURS = _Weighted(tuple(enumerate((
    0.8, 0.4, 0.2, 0.1, 0.05, 0.05, 0.2, 0.6, 0.8, 1.0, 1.2, 1.4,
    1.6, 1.6, 1.8, 2.4, 3.0, 3.4, 3.6, 3.8, 3.8, 3.4, 2.4, 1.4,
))))  # fmt: skip


def _timestamps(
    spec: ConversationSpec,
    sessions: Sequence[bool],
    r: _Draw,
    day0_us: int,
    start_us: int,
    period_days: int,
) -> list[int]:
    """Microsecond UTC times: sessions on (mostly) different days, quick replies inside."""
    grooming = spec.kind == "grooming"
    if grooming:
        hours = _NIGHT_HOURS if spec.night_heavy else _DAY_HOURS
    elif spec.night_heavy:
        hours = _EVENING_HOURS
    else:
        hours = _DAY_HOURS
    decay = (0.5 + 0.3 * r.u()) if spec.escalating else 1.0
    gap_days = (0.8 + 4.0 * r.u()) if grooming else (0.3 + 2.0 * r.u())
    reply_s = 90.0 if spec.kind == "shopping" else 25.0 + 40.0 * r.u()

    def session_start(day: int) -> int:
        return day0_us + day * _DAY_US + r.weighted(hours) * _HOUR_US + int(r.u() * _HOUR_US)

    t = max(start_us, session_start(r.index(period_days)))
    times = [t]
    k = 0
    for new_session in sessions[1:]:
        if new_session:
            k += 1
            gap = gap_days * decay**k * math.exp(0.5 * r.normal())
            day = int((t - day0_us) / _DAY_US + gap)
            candidate = session_start(day)
            if candidate <= t + 600 * _US:
                candidate = t + int(3600 * math.exp(0.8 * r.normal()) * _US) + 600 * _US
            t = candidate
        else:
            pace = decay**k if spec.escalating else 1.0
            seconds = min(max(reply_s * pace * math.exp(0.9 * r.normal()), 2.0), 7200.0)
            t += int(seconds * _US)
        times.append(t)
    return times


# --- public API -----------------------------------------------------------------------


@dataclass(frozen=True)
class GeneratedConversations:
    """Messages (with the ground-truth ``stage`` column) and one row per conversation."""

    messages: pl.DataFrame
    conversations: pl.DataFrame
    specs: tuple[ConversationSpec, ...]

    def to_exchange(self) -> Iterator[Conversation]:
        """Each conversation as a validated exchange record (ground truth left out)."""
        return to_exchange(self)


def to_exchange(generated: GeneratedConversations) -> Iterator[Conversation]:
    """Each conversation of ``generated`` as a validated exchange ``Conversation``."""
    by_conversation: dict[str, list[Message]] = {}
    rows = generated.messages.select(
        "conversation_id", "message_id", "sender_id", "sent_at", "text"
    ).iter_rows()
    for conversation_id, message_id, sender_id, sent_at, text in rows:
        by_conversation.setdefault(conversation_id, []).append(
            Message(message_id=message_id, sender_id=sender_id, sent_at=sent_at, text=text)
        )
    for row in generated.conversations.select(
        "conversation_id", "channel", "participant_ids", "participant_age_bands"
    ).iter_rows():
        conversation_id, channel, ids, bands = row
        yield Conversation(
            conversation_id=conversation_id,
            channel=channel,
            participants=[
                Participant(participant_id=pid, age_band=AgeBand(band))
                for pid, band in zip(ids, bands, strict=True)
            ],
            messages=by_conversation.get(conversation_id, []),
        )


def _check_arguments(
    n: int,
    seed: int,
    grooming_share: float,
    hard_negative_share: float,
    start: datetime,
    period_days: int,
    families: Sequence[str] | None,
) -> tuple[str, ...]:
    if n < 0:
        raise ValueError(f"n must be zero or more, got {n}")
    if seed < 0:
        raise ValueError(f"seed must be zero or more, got {seed}")
    for name, share in (("grooming_share", grooming_share),
                        ("hard_negative_share", hard_negative_share)):  # fmt: skip
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"{name} must be between 0 and 1, got {share}")
    if grooming_share + hard_negative_share > 1.0:
        raise ValueError(
            "grooming_share + hard_negative_share must not exceed 1, got "
            f"{grooming_share} + {hard_negative_share}"
        )
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError("start must be timezone-aware, e.g. datetime(2026, 1, 1, tzinfo=UTC)")
    if period_days < 1:
        raise ValueError(f"period_days must be at least 1, got {period_days}")
    if families is None:
        return PHRASING_FAMILIES
    if isinstance(families, str):
        raise ValueError("families must be a sequence of family names, not one string")
    unknown = sorted(set(families) - set(PHRASING_FAMILIES))
    if unknown:
        raise ValueError(f"unknown phrasing families {unknown}; choose from {PHRASING_FAMILIES}")
    if not families:
        raise ValueError(f"families must name at least one of {PHRASING_FAMILIES}")
    return tuple(f for f in PHRASING_FAMILIES if f in set(families))


def _kind_schedule(
    n: int, grooming_share: float, hard_negative_share: float, master: np.random.Generator
) -> list[str]:
    """Exact shares of each kind, in a seeded random order."""
    n_grooming = min(n, round(n * grooming_share))
    n_hard = min(n - n_grooming, round(n * hard_negative_share))
    n_ordinary = n - n_grooming - n_hard
    kinds = ["grooming"] * n_grooming
    kinds += [HARD_NEGATIVE_KINDS[i % len(HARD_NEGATIVE_KINDS)] for i in range(n_hard)]
    kinds += [ORDINARY_KINDS[i % len(ORDINARY_KINDS)] for i in range(n_ordinary)]
    order = master.permutation(n)
    return [kinds[int(i)] for i in order]


def generate_conversations(
    n: int,
    *,
    seed: int,
    grooming_share: float = 0.3,
    hard_negative_share: float = 0.2,
    start: datetime = datetime(2026, 1, 1, tzinfo=UTC),
    period_days: int = 90,
    families: Sequence[str] | None = None,
) -> GeneratedConversations:
    """Generate ``n`` conversations; the same arguments always give the same output.

    ``grooming_share`` and ``hard_negative_share`` are exact (rounded) shares; the rest
    are ordinary conversations spread evenly over the ordinary kinds. ``families``
    restricts every participant's phrasing to those families (for held-out evaluation).
    """
    allowed = _check_arguments(
        n, seed, grooming_share, hard_negative_share, start, period_days, families
    )
    persona_families = {
        persona: _Weighted(tuple((f, weights[f]) for f in allowed))
        for persona, weights in _FAMILY_WEIGHTS.items()
    }
    start_utc = start.astimezone(UTC)
    start_us = (start_utc - _EPOCH) // _MICROSECOND
    day0 = start_utc.replace(hour=0, minute=0, second=0, microsecond=0)
    day0_us = (day0 - _EPOCH) // _MICROSECOND

    root = np.random.SeedSequence(seed)
    master_seq, content_seq = root.spawn(2)
    kinds = _kind_schedule(
        n, grooming_share, hard_negative_share, np.random.default_rng(master_seq)
    )
    content_seqs = content_seq.spawn(n)

    m_conv: list[str] = []
    m_id: list[str] = []
    m_sender: list[str] = []
    m_time: list[int] = []
    m_text: list[str] = []
    m_stage: list[str] = []
    c_rows: dict[str, list[object]] = {name: [] for name in CONVERSATION_SCHEMA}
    specs: list[ConversationSpec] = []

    for index, kind in enumerate(kinds):
        r = _Draw(np.random.Generator(np.random.PCG64(content_seqs[index])))
        spec = _plan(f"syn-{seed}-{index:06d}", kind, r, persona_families)
        writer = _Writer(spec, r)
        if kind == "grooming":
            _write_grooming(writer)
        else:
            _write_benign(writer)
        out = writer.out
        times = _timestamps(spec, [m[3] for m in out], r, day0_us, start_us, period_days)
        first = next((i for i, m in enumerate(out) if m[2] != "none"), -1)
        for position, ((speaker, text, stage, _), at) in enumerate(zip(out, times, strict=True)):
            m_conv.append(spec.conversation_id)
            m_id.append(f"m{position:04d}")
            m_sender.append(spec.participant_ids[speaker])
            m_time.append(at)
            m_text.append(text)
            m_stage.append(stage)
        c_rows["conversation_id"].append(spec.conversation_id)
        c_rows["channel"].append(spec.channel)
        c_rows["label"].append(spec.label)
        c_rows["kind"].append(spec.kind)
        c_rows["phrasing_family"].append(spec.families[0])
        c_rows["phrasing_families"].append(list(spec.families))
        c_rows["participant_ids"].append(list(spec.participant_ids))
        c_rows["participant_age_bands"].append(list(spec.age_bands))
        c_rows["first_grooming_message"].append(first)
        c_rows["n_messages"].append(len(out))
        specs.append(spec)

    messages = pl.DataFrame(
        {
            "conversation_id": m_conv,
            "message_id": m_id,
            "sender_id": m_sender,
            "sent_at": pl.Series(m_time, dtype=pl.Int64).cast(pl.Datetime("us", "UTC")),
            "text": m_text,
            "stage": m_stage,
        },
        schema=MESSAGE_SCHEMA,
    )
    conversations = pl.DataFrame(c_rows, schema=CONVERSATION_SCHEMA)
    return GeneratedConversations(
        messages=messages, conversations=conversations, specs=tuple(specs)
    )
