"""The screening engine: contact events in, alerts out, in a handful of Polars passes and
compiled ones.

Why this shape: every rule concerns contact from an adult (or an account of unknown age) to
a child, so the first pass keeps only those events (one hash look-up per event against the
children the member knows, plus the age band the event carries). The windowed rules run on
that small remainder, grouped once so that each (sender, child) pair's events are together
and in time order. An alert is one (sender, child, window): each rule counts once in it,
adds its severity, and gives its reason; the alert is raised when the severities reach
``alert_at``. There is no per-event Python on this path. Polars does the column work (the
filter, the accounts' hashes, the one-event rules), as lazy plans run as written on the
in-memory engine, where fewer, fused steps pay less fixed overhead per batch. ``kernels``
does what Polars can only say as hash tables built per batch or as hash groupings: the
flags' look-ups (by an index made once per flags load), the grouping by pair (a counting
sort), the rules that read a pair's or a sender's earlier events, and the cutting of the
grouped rows into (pair, window) runs; ``alert_ids`` makes the runs' ids."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import polars as pl

from safehold.klaxon import alert_ids, kernels
from safehold.klaxon.alert_ids import ids_in_order
from safehold.klaxon.durations import micros
from safehold.klaxon.events import AGE_BANDS, TIME, band_index, is_minor
from safehold.klaxon.flags import ACCOUNT_SEED, CHECK_SEED, FlagSet
from safehold.klaxon.kernels import Flags, Ints
from safehold.klaxon.rules import (
    AgeGapRule,
    ConversationRiskRule,
    EscalatingRule,
    FanOutRule,
    FirstContactRule,
    FlaggedSenderRule,
    NightTimeRule,
    RuleSet,
    VulnerableRecipientRule,
    _Rule,
    reason_of,
)

ALERT_SCHEMA: dict[str, pl.DataType] = {
    "alert_id": pl.Utf8(),
    "member_id": pl.Utf8(),
    "sender": pl.Utf8(),
    "recipient": pl.Utf8(),
    "window_start": TIME,
    "window_end": TIME,
    "severity": pl.Int64(),
    "rules": pl.List(pl.Utf8()),
    "reasons": pl.List(pl.Utf8()),
    "rule_severities": pl.List(pl.Int64()),
    "first_event_id": pl.Utf8(),
    "first_event_at": TIME,
    "last_event_at": TIME,
    "events": pl.Int64(),
}
_ADULT_FROM = AGE_BANDS.index("18_24")


def warm() -> None:
    """Compile every compiled pass the engine and ``prepare_events`` use now (or load them
    from the cache), so that a worker's first message does not wait the seconds that takes."""
    kernels.warm()
    alert_ids.warm()


def empty_alerts() -> pl.DataFrame:
    return pl.DataFrame(schema=ALERT_SCHEMA)


def candidate_events(events: pl.DataFrame, flags: FlagSet) -> pl.DataFrame:
    """Events from an adult or unknown-age sender to a recipient who is a child by the
    event's age band or by the member's markers.

    The marker look-up goes by a 64-bit hash of the account (hashing is cheaper per row
    than a look-up of text). A recipient who is not a child but whose hash equals a
    child's would pass too; ``screen_candidates`` notices it (its marker join checks a
    second hash) and drops it, so a collision can never make an adult a child."""
    child_band = is_minor("recipient_band_index")
    adult_sender = ~is_minor("sender_band_index")
    recipient_hash = pl.col("recipient").hash(seed=ACCOUNT_SEED)
    if events.height < _INDEXED_BELOW * flags.child_hashes.len():
        found = events.select(recipient_hash).to_series().to_numpy()
        marked = kernels.rows_of(flags.child_index, found, missing=-1) >= 0
        by_marker: pl.Expr = pl.lit(pl.Series(marked))
    else:
        by_marker = recipient_hash.is_in(flags.child_hashes.implode())
    # the mask made first and filtered by: Polars 2.1 took a fifth longer to filter by the
    # expression itself, and a fixed 1 ms more on a stream's small batches
    return events.filter(events.select(adult_sender & (child_band | by_marker)).to_series())


# Polars' is_in builds its set of the children on every call (about 13 ns a child) and
# then looks up an event in 8.5 ns; the index made once per load looks one up in 14 ns:
# below about twice as many events as children, the index is cheaper (a stream's batches)
_INDEXED_BELOW = 2


def _exact_candidates(candidates: pl.DataFrame, flags: FlagSet) -> pl.DataFrame:
    """``candidates`` without those that passed by a hash collision alone."""
    by_marker = pl.col("recipient").is_in(flags.child_accounts.implode())
    return candidates.filter(is_minor("recipient_band_index") | by_marker)


def horizon_us(rules: RuleSet) -> int:
    """How far back a stream must keep candidate events for its windows to be whole."""
    spans = [micros(rules.window)]
    for rule in rules.active:
        if isinstance(rule, FanOutRule | NightTimeRule | EscalatingRule):
            spans.append(micros(rule.within))
    return max(spans)


def _on_channels(rule: _Rule) -> pl.Expr:
    if rule.channels is None:
        return pl.lit(True)
    return pl.col("channel").is_in([c.value for c in rule.channels])


def _uses_history(rule: _Rule) -> bool:
    """Rules that read the pair's or the sender's other events (the rest read one event)."""
    if isinstance(rule, NightTimeRule):
        return rule.min_events > 1
    return isinstance(rule, FanOutRule | EscalatingRule)


def _event_hit(rule: _Rule) -> pl.Expr:
    """Does this rule fire on the event alone (a rule that reads no other event)."""
    on = _on_channels(rule)
    if isinstance(rule, FlaggedSenderRule):
        flagged = pl.lit(False)
        if "registry" in rule.sources:
            flagged = flagged | pl.col("registry").fill_null(False)
        if "model" in rule.sources:
            flagged = flagged | pl.col("model_band").is_in(list(rule.model_bands)).fill_null(False)
        return on & flagged
    if isinstance(rule, FirstContactRule):
        return on & pl.col("first_contact")
    if isinstance(rule, NightTimeRule):
        return _night_flag(rule)
    if isinstance(rule, AgeGapRule):
        sender, child = pl.col("sender_band_index"), pl.col("_child_band")
        return (
            on & (sender >= _ADULT_FROM) & ((sender - child) >= rule.min_band_gap).fill_null(False)
        )
    if isinstance(rule, ConversationRiskRule):
        return on & (pl.col("_conversation_risk") >= rule.threshold).fill_null(False)
    if isinstance(rule, VulnerableRecipientRule):
        return on & pl.col("vulnerable").fill_null(False)
    raise TypeError(f"no engine for rule kind {type(rule).__name__}")


def _history_input(rule: _Rule) -> pl.Expr | None:
    """The events a history rule counts (None: all of them), taken before the sort so that
    the sort carries one boolean rather than the channel text."""
    if isinstance(rule, NightTimeRule):
        return _night_flag(rule)
    if rule.channels is None:
        return None
    return _on_channels(rule)


def _history_inputs(rules: RuleSet) -> dict[str, pl.Expr]:
    """The input column of each history rule that counts only some events, by name."""
    return {
        f"_in:{rule.id}": expr
        for rule in rules.active
        if _uses_history(rule) and (expr := _history_input(rule)) is not None
    }


def _history_hits(rule: _Rule, features: pl.DataFrame, pair: Ints, t: Ints) -> Flags:
    """Does this history rule fire on each row of the pair-sorted features: a compiled walk
    down the rows (``kernels``), given the rule's input column where it has one."""
    among = f"_in:{rule.id}"
    if _history_input(rule) is not None:
        on = features[among].fill_null(False).to_numpy()
    else:
        on = np.ones(features.height, dtype=np.bool_)
    if isinstance(rule, FanOutRule):
        senders, checks = features["_s"].to_numpy(), features["_s_check"].to_numpy()
        within, least = micros(rule.within), rule.min_children
        return kernels.fan_out(pair, senders, checks, t, on, within, least)
    if isinstance(rule, NightTimeRule):
        return kernels.repeated(pair, t, on, rule.min_events - 1, micros(rule.within))
    if isinstance(rule, EscalatingRule):
        first_gap, within = micros(rule.min_first_gap), micros(rule.within)
        return kernels.escalating(pair, t, on, rule.min_gaps, rule.max_ratio, first_gap, within)
    raise TypeError(f"no history engine for rule kind {type(rule).__name__}")


def _hour() -> pl.Expr:
    """The hour of day of the event: prepared events are UTC, so this is arithmetic on the
    microseconds (floored, so right before 1970 too), cheaper than a calendar look-up."""
    return pl.col("_t") // 3_600_000_000 % 24


def _night_flag(rule: NightTimeRule) -> pl.Expr:
    return _on_channels(rule) & (_hour() >= rule.start_hour) & (_hour() < rule.end_hour)


_RuleKey = tuple[tuple[str, str, int], ...]  # (id, reason, severity) in bit order


def _bit_order(rules: RuleSet) -> list[_Rule]:
    """The rules in the order of their bits (and of their reasons in an alert)."""
    return sorted(rules.active, key=lambda r: (-r.severity, r.id))


@dataclass(frozen=True)
class _RulePlan:
    """What a rule set asks of every batch, as Polars expressions made once per rule set:
    making them costs Python time on every call, which a micro-batch of a stream feels."""

    key: _RuleKey  # (id, reason, severity) of each bit's rule, in bit order
    event_bits: pl.Expr  # the one-event rules, bit ``i`` for rule ``i`` of the key
    history_inputs: tuple[pl.Expr, ...]  # named ``_in:<rule id>``, carried by the sort
    history: tuple[tuple[int, _Rule], ...]  # the history rules, with their bits
    severities: Ints  # of each bit, for a run's severity
    window: int  # microseconds


@functools.lru_cache(maxsize=8)
def _plan(rules: RuleSet) -> _RulePlan:
    ordered = _bit_order(rules)
    event_bits = [
        _event_hit(rule).cast(pl.Int64) * (1 << i)
        for i, rule in enumerate(ordered)
        if not _uses_history(rule)
    ]
    return _RulePlan(
        key=tuple((r.id, reason_of(r), r.severity) for r in ordered),
        event_bits=pl.sum_horizontal(event_bits) if event_bits else pl.lit(0, pl.Int64),
        history_inputs=tuple(expr.alias(name) for name, expr in _history_inputs(rules).items()),
        history=tuple((i, r) for i, r in enumerate(ordered) if _uses_history(r)),
        severities=np.array([r.severity for r in ordered], dtype=np.int64),
        window=micros(rules.window),
    )


def _event_columns(frame: pl.LazyFrame, plan: _RulePlan) -> pl.LazyFrame:
    """What the sort must carry: the one-event rules folded into bits (bit ``i`` is rule
    ``i`` of ``_bit_order``), and the input of each history rule."""
    frame = frame.with_columns(
        # the markers' band first: a member's own records outrank the event's age band
        pl.coalesce("_marker_index", pl.col("recipient_band_index").cast(pl.Int16)).alias(
            "_child_band"
        ),
    )
    return frame.with_columns(plan.event_bits.alias("_bits"), *plan.history_inputs)


def _narrow(frame: pl.LazyFrame, plan: _RulePlan, *extra: str) -> pl.LazyFrame:
    inputs = [e.meta.output_name() for e in plan.history_inputs]
    return frame.select("_row", "_t", "_s", "_s_check", "_bits", *inputs, *extra)


def _with_risk(frame: pl.LazyFrame, candidates: pl.DataFrame, flags: FlagSet) -> pl.LazyFrame:
    risk = flags.conversation_risk
    if risk is not None and candidates["conversation_id"].null_count() < candidates.height:
        return frame.join(
            risk.lazy().rename({"risk": "_conversation_risk"}),
            on="conversation_id",
            how="left",
            maintain_order="left",
        )
    return frame.with_columns(pl.lit(None, dtype=pl.Float64).alias("_conversation_risk"))


def _row_numbers(candidates: pl.DataFrame) -> pl.LazyFrame:
    return candidates.lazy().with_columns(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("_row"),
        pl.col("at").cast(pl.Int64).alias("_t"),
    )


def _hashed_features(
    candidates: pl.DataFrame, flags: FlagSet, rules: RuleSet
) -> tuple[pl.DataFrame, pl.DataFrame] | None:
    """The candidates' rule inputs grouped by pair in time order, pairs numbered
    (``_pair``), with accounts as 64-bit hashes: look-ups, grouping and walks on integers,
    no text moved; and the candidates they number (``_row``). None when a hash could
    mislead (a flag table or two pairs sharing a hash, or a candidate that is no child):
    then the exact way.

    Two events of a pair at the same microsecond go in event-id order. Timestamps of whole
    seconds make such ties common, so they do not send a batch the exact way: the grouped
    rows are sorted by pair, time and each event id's rank, which moves rows only within a
    pair (so its number stays)."""
    senders, recipients = flags.senders_keyed, flags.recipients_keyed
    if senders is None or recipients is None:
        return None
    hashes = candidates.select(
        pl.col("sender").hash(seed=ACCOUNT_SEED).alias("_s"),
        pl.col("recipient").hash(seed=ACCOUNT_SEED).alias("_r"),
        pl.col("sender").hash(seed=CHECK_SEED).alias("_s_check"),
        pl.col("recipient").hash(seed=CHECK_SEED).alias("_r_check"),
    )
    joined = candidates.hstack(
        [
            *hashes.get_columns(),
            *senders.look_up(hashes["_s"]).get_columns(),
            *recipients.look_up(hashes["_r"]).get_columns(),
        ]
    )
    frame = _row_numbers(joined)
    joined_right = (
        (pl.col("_flag_check").is_null() | (pl.col("_flag_check") == pl.col("_s_check")))
        & (pl.col("_marker_check").is_null() | (pl.col("_marker_check") == pl.col("_r_check")))
        # a candidate let through by the hash look-up alone (``candidate_events``)
        & (is_minor("recipient_band_index") | pl.col("_child").fill_null(False))
    )
    plan = _plan(rules)
    frame = _event_columns(_with_risk(frame, candidates, flags), plan).with_columns(
        joined_right.all().alias("_joined_right"),
    )
    narrow = _narrow(frame, plan, "_r", "_r_check", "_joined_right")
    if not candidates["at"].is_sorted():  # the pairs' rows are grouped in time order
        narrow = narrow.sort("_t", maintain_order=True)
    found = _collect(narrow)
    order, pair, collided, tied = kernels.group_pairs(
        *(found[c].to_numpy() for c in ("_s", "_r", "_s_check", "_r_check", "_t"))
    )
    if found.height and (collided or not found.item(0, "_joined_right")):
        return None
    found = found[order].hstack([pl.Series("_pair", pair)])
    if tied:
        ranks = candidates["event_id"].rank("ordinal").gather(found["_row"]).alias("_id_rank")
        found = found.hstack([ranks]).sort("_pair", "_t", "_id_rank")
    # hstack, not with_columns, and the recipients' hashes kept (nothing reads them): both
    # would go by a plan, which costs a small batch as much as the work
    return found, candidates


def _exact_features(candidates: pl.DataFrame, flags: FlagSet, rules: RuleSet) -> pl.DataFrame:
    """``_hashed_features`` with the accounts' text as the keys: slower, never misled."""
    frame = (
        _row_numbers(candidates)
        .join(flags.recipients.lazy(), on="recipient", how="left")
        .join(flags.senders.lazy(), on="sender", how="left")
        .with_columns(band_index("marker_band").alias("_marker_index"))
    )
    frame = _event_columns(_with_risk(frame, candidates, flags), _plan(rules))
    new_pair = _changed("sender") | _changed("recipient")
    return _collect(
        frame.sort("sender", "recipient", "_t", "event_id")
        .with_columns(
            new_pair.cum_sum().alias("_pair"),
            _changed("sender").cum_sum().cast(pl.UInt64).alias("_s"),
            pl.lit(0, dtype=pl.UInt64).alias("_s_check"),
        )
        .pipe(_narrow, _plan(rules), "_pair")
    )


def _features(
    candidates: pl.DataFrame, flags: FlagSet, rules: RuleSet
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The features and the candidates they number (``_row``): the exact way first drops
    any candidate that a hash collision let through."""
    hashed = _hashed_features(candidates, flags, rules)
    if hashed is not None:
        return hashed
    exact = _exact_candidates(candidates, flags)
    return _exact_features(exact, flags, rules), exact


def _collect(plan: pl.LazyFrame) -> pl.DataFrame:
    """Run a plan on the in-memory engine: a batch is small and already in memory, and on
    Polars 2 the default engine choice ran these plans two to three times slower. Without
    the query rewrites too: these plans are written in the order they should run, and
    rewriting them cost 0.3 to 0.5 ms a batch for no faster run."""
    return plan.collect(engine="in-memory", optimizations=_AS_WRITTEN)


_AS_WRITTEN = pl.QueryOptFlags.none()


def _changed(column: str) -> pl.Expr:
    return (pl.col(column) != pl.col(column).shift(1)).fill_null(True)


_TABLE_RULES = 10  # a table of every combination has at most 1,024 rows


def _combinations(rules: _RuleKey, masks: Iterable[int]) -> pl.DataFrame:
    """The rules, reasons and severities of each combination of rules that fired (bit
    ``i`` of a mask is ``rules[i]``), to be joined to the alerts by mask."""
    values = list(masks)
    picked = [[rules[i] for i in range(len(rules)) if value >> i & 1] for value in values]
    return pl.DataFrame(
        {
            "_mask": values,
            "rules": [[r[0] for r in p] for p in picked],
            "reasons": [[r[1] for r in p] for p in picked],
            "rule_severities": [[r[2] for r in p] for p in picked],
        },
        schema={
            "_mask": pl.Int64,
            "rules": pl.List(pl.Utf8),
            "reasons": pl.List(pl.Utf8),
            "rule_severities": pl.List(pl.Int64),
        },
    )


@functools.lru_cache(maxsize=8)
def _every_combination(rules: _RuleKey) -> pl.DataFrame:
    """Made once per rule set: building list columns from Python costs more than a whole
    batch's joins, so it is not done per batch."""
    return _combinations(rules, range(1 << len(rules)))


def _alerts(
    features: pl.DataFrame, candidates: pl.DataFrame, member_id: str, rules: RuleSet
) -> pl.DataFrame:
    """One row per (sender, child, window) whose rule severities reach ``alert_at``.

    Why this shape: the features are sorted by pair then time, so each (pair, window) is
    one run of rows, found in one walk (``kernels.alerting_runs``). The rules that fired on
    a row are one integer (a bit per rule), so a run needs one bitwise or rather than one
    ``any`` per rule, and its severity follows from the bits. Only the runs that alert go
    on to look up their accounts' text, their reasons (a row of the table of every
    combination of rules, by bits) and their ids, and they go out in id order."""
    plan = _plan(rules)
    window, key = plan.window, plan.key
    pair = features["_pair"].cast(pl.Int64).to_numpy()
    t = features["_t"].to_numpy()
    bits = features["_bits"].to_numpy().copy()
    for bit, rule in plan.history:
        bits |= _history_hits(rule, features, pair, t).astype(np.int64) << bit
    runs = kernels.alerting_runs(pair, t, bits, window, plan.severities, rules.alert_at)
    first = runs["_first"]
    if first.shape[0] == 0:
        return empty_alerts()
    starts, masks = runs["_w"], runs["_mask"]
    text = candidates.select("sender", "recipient", "event_id")[features["_row"].to_numpy()[first]]
    # alerts go out in id order
    ids, order = ids_in_order(member_id, text["sender"], text["recipient"], starts)
    if len(key) <= _TABLE_RULES:
        table = _every_combination(key)
    else:  # too many rules for a table of every combination: only those that fired
        table = _combinations(key, sorted(set(masks.tolist())))
    reasons = table.drop("_mask")[np.searchsorted(table["_mask"].to_numpy(), masks[order])]
    text = text[order]
    return pl.DataFrame(
        [
            ids.gather(order),
            pl.Series("member_id", [member_id], dtype=pl.Utf8).new_from_index(0, len(order)),
            text["sender"],
            text["recipient"],
            _times("window_start", starts[order]),
            _times("window_end", starts[order] + window),
            pl.Series("severity", runs["severity"][order]),
            *reasons,
            text["event_id"].alias("first_event_id"),
            _times("first_event_at", t[first[order]]),
            _times("last_event_at", runs["_last_t"][order]),
            pl.Series("events", runs["events"][order]),
        ]
    )


def _times(name: str, micros: Ints) -> pl.Series:
    return pl.Series(name, micros, dtype=pl.Int64).cast(TIME)


def screen_candidates(candidates: pl.DataFrame, flags: FlagSet, rules: RuleSet) -> pl.DataFrame:
    """The alerts of candidate events (``candidate_events``), held together as one batch."""
    if candidates.height == 0 or not rules.active:
        return empty_alerts()
    # in one piece: the engine gathers from the candidates by row number, which is slow
    # across pieces (a Parquet file's row groups, a stream's held events and a micro-batch)
    features, candidates = _features(candidates.rechunk(), flags, rules)
    if features.height == 0:
        return empty_alerts()
    return _alerts(features, candidates, flags.member_id, rules)


def screen(events: pl.DataFrame, flags: FlagSet, rules: RuleSet) -> pl.DataFrame:
    """Batch screening of prepared events (``events.prepare_events``)."""
    return screen_candidates(candidate_events(events, flags), flags, rules)


def merge_alerts(existing: pl.DataFrame, new: pl.DataFrame) -> pl.DataFrame:
    """Alerts with the same id become one: the union of their rules (each once), the
    earliest first event, the latest last event, the most events seen. Merging is
    idempotent and order-free, so a replay or a re-sent batch changes nothing."""
    both = pl.concat([existing.cast(ALERT_SCHEMA), new.cast(ALERT_SCHEMA)])  # type: ignore[arg-type]
    if both.height == 0:
        return empty_alerts()
    rules = (
        both.select("alert_id", "rules", "reasons", "rule_severities")
        .explode("rules", "reasons", "rule_severities")
        .unique(["alert_id", "rules"], keep="first")
        .sort("alert_id", -pl.col("rule_severities"), "rules")
        .group_by("alert_id", maintain_order=True)
        .agg(
            "rules", "reasons", "rule_severities", pl.col("rule_severities").sum().alias("severity")
        )
    )
    first = (
        both.sort("first_event_at", "first_event_id")
        .group_by("alert_id")
        .agg(
            pl.col("member_id", "sender", "recipient", "window_start", "window_end").first(),
            pl.col("first_event_id").first(),
            pl.col("first_event_at").min(),
            pl.col("last_event_at").max(),
            pl.col("events").max(),
        )
    )
    merged = first.join(rules, on="alert_id")
    return merged.select(list(ALERT_SCHEMA)).cast(ALERT_SCHEMA).sort("alert_id")  # type: ignore[arg-type]


def changed_alerts(before: pl.DataFrame, after: pl.DataFrame) -> pl.DataFrame:
    """The rows of ``after`` that are new or differ from ``before``, with ``is_new``."""
    old = before.select("alert_id", pl.struct(pl.all().exclude("alert_id")).alias("_old"))
    compared = after.with_columns(pl.struct(pl.all().exclude("alert_id")).alias("_new")).join(
        old, on="alert_id", how="left"
    )
    return compared.filter(
        pl.col("_old").is_null() | pl.col("_old").ne_missing(pl.col("_new"))
    ).select(*ALERT_SCHEMA, pl.col("_old").is_null().alias("is_new"))
