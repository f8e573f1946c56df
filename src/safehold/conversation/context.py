"""Conversation-level context after each message, from per-message stage probabilities.

Why: one message rarely decides anything; what matters is how many stages an adult has
moved through, how fast, at what hour, and whether the bands say adult to child. Every
feature here depends only on the messages read so far and is kept in a small running
state (``ContextState``) so the incremental scorer never re-reads a conversation; the
batch path computes the very same numbers for all prefixes at once with segmented
cumulative numpy operations.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from safehold.conversation.types import STAGES

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]
Ints = npt.NDArray[np.int64]

N_STAGES = len(STAGES)
STAGE_SEEN = 0.5
"""A stage counts as seen once an eligible message gives it at least this probability."""

CONTEXT_NAMES: tuple[str, ...] = (
    *(f"max_{s}" for s in STAGES),
    "distinct_stages",
    "max_grooming",
    "log_flagged",
    "flagged_fraction",
    "night_fraction",
    "log_night_flagged",
    "any_adult",
    "any_minor",
    "adult_and_minor",
    "all_bands_known",
    "group",
    "log_messages",
    "stages_per_log_hour",
    "stage_rank_span",
    "distinct_x_adult_minor",
    "max_grooming_x_one_to_one",
    "lexicon_stages",
)
N_CONTEXT = len(CONTEXT_NAMES)


@dataclass(frozen=True)
class MessageFacts:
    """What the context needs to know about one message besides its text."""

    eligible: bool
    """Sender is not a known minor (the adult-to-child direction, or unknown)."""
    adult: bool
    minor: bool
    known: bool
    night: bool
    new_sender: bool
    hours: float
    """Hours since the conversation's first message."""


def _rank_span(seen: Bools) -> Floats:
    """(highest - lowest) stage index seen, over 5, per row (0 when fewer than two)."""
    any_seen = seen.any(axis=1)
    lowest = np.argmax(seen, axis=1)
    highest = N_STAGES - 1 - np.argmax(seen[:, ::-1], axis=1)
    return np.where(any_seen, (highest - lowest) / (N_STAGES - 1), 0.0)


def _assemble(
    stage_max: Floats,
    pg_max: Floats,
    flagged: Floats,
    position: Floats,
    night: Floats,
    night_flagged: Floats,
    any_adult: Floats,
    any_minor: Floats,
    all_known: Floats,
    senders: Floats,
    hours: Floats,
    lexicon_max: Floats,
) -> Floats:
    seen = stage_max >= STAGE_SEEN
    distinct = seen.sum(axis=1).astype(np.float64)
    adult_minor = any_adult * any_minor
    group = (senders >= 3).astype(np.float64)
    out = np.empty((stage_max.shape[0], N_CONTEXT), dtype=np.float64)
    out[:, :N_STAGES] = stage_max
    k = N_STAGES
    columns = (
        distinct,
        pg_max,
        np.log1p(flagged),
        flagged / position,
        night / position,
        np.log1p(night_flagged),
        any_adult,
        any_minor,
        adult_minor,
        all_known,
        group,
        np.log1p(position),
        distinct / (1.0 + np.log1p(hours)),
        _rank_span(seen),
        distinct * adult_minor,
        pg_max * (1.0 - group),
        lexicon_max.sum(axis=1),
    )
    for j, column in enumerate(columns):
        out[:, k + j] = column
    return out


def _segment_starts(group: Ints) -> Ints:
    """Index of each row's group start (rows sorted by group)."""
    n = group.shape[0]
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]]) if n else np.zeros(0, np.int64)
    counts = np.diff(np.r_[starts, n])
    return np.repeat(starts, counts)


def _cummax(values: Floats, group: Ints) -> Floats:
    """Running maximum within each group, for values in [0, 1]."""
    shift = 2.0 * group.astype(np.float64)
    if values.ndim == 2:
        shift = shift[:, None]
    return np.maximum.accumulate(values + shift, axis=0) - shift


def _cumsum(values: Floats, start: Ints) -> Floats:
    total = np.cumsum(values, axis=0)
    return total - total[start] + values[start]


def batch_context(
    group: Ints,
    probs: Floats,
    lexicon: Floats,
    eligible: Bools,
    adult: Bools,
    minor: Bools,
    known: Bools,
    night: Bools,
    new_sender: Bools,
    hours: Floats,
    flag_threshold: float,
) -> tuple[Floats, Bools]:
    """Context rows for every prefix of every conversation, and each message's flag.

    Rows must be sorted by ``group`` (a conversation index), then by time. ``probs`` has
    one column for 'none' then one per stage."""
    start = _segment_starts(group)
    position = (np.arange(group.shape[0]) - start + 1).astype(np.float64)
    e = eligible.astype(np.float64)
    stage_probs = probs[:, 1:] * e[:, None]
    pg = (1.0 - probs[:, 0]) * e
    flag = eligible & (pg >= flag_threshold)
    f = flag.astype(np.float64)
    features = _assemble(
        stage_max=_cummax(stage_probs, group),
        pg_max=_cummax(pg, group),
        flagged=_cumsum(f, start),
        position=position,
        night=_cumsum(night.astype(np.float64), start),
        night_flagged=_cumsum(f * night, start),
        any_adult=_cummax(adult.astype(np.float64), group),
        any_minor=_cummax(minor.astype(np.float64), group),
        all_known=1.0 - _cummax(1.0 - known.astype(np.float64), group),
        senders=_cumsum(new_sender.astype(np.float64), start),
        hours=hours,
        lexicon_max=_cummax(lexicon * e[:, None], group),
    )
    return features, flag


@dataclass
class ContextState:
    """The running sums and maxima behind ``batch_context``, for one conversation."""

    flag_threshold: float
    stage_max: Floats = field(default_factory=lambda: np.zeros(N_STAGES))
    lexicon_max: Floats = field(default_factory=lambda: np.zeros(N_STAGES))
    pg_max: float = 0.0
    flagged: float = 0.0
    position: float = 0.0
    night: float = 0.0
    night_flagged: float = 0.0
    any_adult: float = 0.0
    any_minor: float = 0.0
    all_known: float = 1.0
    senders: float = 0.0

    def update(self, probs: Floats, lexicon: Floats, facts: MessageFacts) -> tuple[Floats, bool]:
        """The context row after one more message, and whether that message is flagged."""
        e = 1.0 if facts.eligible else 0.0
        pg = (1.0 - float(probs[0])) * e
        flag = facts.eligible and pg >= self.flag_threshold
        self.stage_max = np.maximum(self.stage_max, probs[1:] * e)
        self.lexicon_max = np.maximum(self.lexicon_max, lexicon * e)
        self.pg_max = max(self.pg_max, pg)
        self.flagged += float(flag)
        self.position += 1.0
        self.night += float(facts.night)
        self.night_flagged += float(flag and facts.night)
        self.any_adult = max(self.any_adult, float(facts.adult))
        self.any_minor = max(self.any_minor, float(facts.minor))
        self.all_known = min(self.all_known, float(facts.known))
        self.senders += float(facts.new_sender)

        def one(value: float) -> Floats:
            return np.array([value], dtype=np.float64)

        row = _assemble(
            stage_max=self.stage_max[None, :],
            pg_max=one(self.pg_max),
            flagged=one(self.flagged),
            position=one(self.position),
            night=one(self.night),
            night_flagged=one(self.night_flagged),
            any_adult=one(self.any_adult),
            any_minor=one(self.any_minor),
            all_known=one(self.all_known),
            senders=one(self.senders),
            hours=one(max(facts.hours, 0.0)),
            lexicon_max=self.lexicon_max[None, :],
        )
        return row[0], flag


def is_night(hour: int) -> bool:
    """22:00 to 05:59 in the sender's own clock (the time as given)."""
    return hour >= 22 or hour < 6
