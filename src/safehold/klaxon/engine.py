"""The screening engine: contact events in, alerts out, in a handful of Polars passes.

Why this shape: every rule concerns contact from an adult (or an account of unknown age) to
a child, so the first pass keeps only those events (one hash look-up per event against the
children the member knows, plus the age band the event carries). The windowed rules run on
that small remainder, sorted once so that each (sender, child) pair's events are together
and in time order. An alert is one (sender, child, window): each rule counts once in it,
adds its severity, and gives its reason; the alert is raised when the severities reach
``alert_at``. There is no per-event Python on this path, and the steps after the candidate
filter run as lazy plans on the in-memory engine: on batches this size the cost of a step
is as much its fixed overhead as its rows, so fewer, fused steps are what makes it fast."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

from safehold.klaxon.durations import micros
from safehold.klaxon.events import AGE_BANDS, MINOR_BANDS, TIME
from safehold.klaxon.flags import ACCOUNT_SEED, CHECK_SEED, FlagSet
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

ALERT_ID_VERSION = "klaxon-alert/v1"
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


def empty_alerts() -> pl.DataFrame:
    return pl.DataFrame(schema=ALERT_SCHEMA)


def _is_minor_band(column: str) -> pl.Expr:
    """Plain compares: cheaper per row than a set look-up for three short strings."""
    return pl.any_horizontal(pl.col(column) == band for band in MINOR_BANDS).fill_null(False)


def candidate_events(events: pl.DataFrame, flags: FlagSet) -> pl.DataFrame:
    """Events from an adult or unknown-age sender to a recipient who is a child by the
    event's age band or by the member's markers.

    The marker look-up goes by a 64-bit hash of the account (hashing is cheaper per row
    than a look-up of text). A recipient who is not a child but whose hash equals a
    child's would pass too; ``screen_candidates`` notices it (its marker join checks a
    second hash) and drops it, so a collision can never make an adult a child."""
    child_band = _is_minor_band("recipient_band")
    adult_sender = ~_is_minor_band("sender_band")
    by_marker = pl.col("recipient").hash(seed=ACCOUNT_SEED).is_in(flags.child_hashes.implode())
    return events.filter(adult_sender & (child_band | by_marker))


def _exact_candidates(candidates: pl.DataFrame, flags: FlagSet) -> pl.DataFrame:
    """``candidates`` without those that passed by a hash collision alone."""
    by_marker = pl.col("recipient").is_in(flags.child_accounts.implode())
    return candidates.filter(_is_minor_band("recipient_band") | by_marker)


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


_BAND_ENUM = pl.Enum(AGE_BANDS)


def _band_index(column: str) -> pl.Expr:
    """The band's place in ``AGE_BANDS`` (an enum cast: no string compares per row)."""
    return pl.col(column).cast(_BAND_ENUM).to_physical().cast(pl.Int16)


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
        sender, child = _band_index("sender_band"), _band_index("_child_band")
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


def _history_hit(rule: _Rule) -> pl.Expr:
    """Does this history rule fire on the event (row) of the pair-sorted frame."""
    among = f"_in:{rule.id}" if _history_input(rule) is not None else None
    on = pl.lit(True) if among is None else pl.col(among)
    if isinstance(rule, FanOutRule):
        bucket = pl.col("_t") // micros(rule.within)
        children = pl.when(on).then(pl.col("_pair")).drop_nulls().n_unique()
        return on & (children.over("_s", "_s_check", bucket) >= rule.min_children)
    if isinstance(rule, NightTimeRule):
        assert among is not None  # a night rule always counts its night contacts only
        return _night_column(rule, among)
    if isinstance(rule, EscalatingRule):
        return _escalating_column(rule, among)
    raise TypeError(f"no history engine for rule kind {type(rule).__name__}")


def _hour() -> pl.Expr:
    """The hour of day of the event: prepared events are UTC, so this is arithmetic on the
    microseconds (floored, so right before 1970 too), cheaper than a calendar look-up."""
    return pl.col("_t") // 3_600_000_000 % 24


def _back(column: str, among: str | None, k: int) -> pl.Expr:
    """Per row: ``column`` of the row ``k`` rows up; with ``among`` (a boolean column), of
    the row ``k`` rows up among the rows where ``among`` holds (meaningful on those rows
    only). The frame is sorted by pair and time, so this reads a pair's own history
    (``_same_pair_back`` checks that the row read is of the same pair). A shift within the
    two groups of ``among``: no filtered copy joined back."""
    if among is None:
        return pl.col(column).shift(k)
    return pl.col(column).shift(k).over(among)


def _same_pair_back(k: int, among: str | None = None) -> pl.Expr:
    """True where the row ``k`` rows up (among ``among``) belongs to the same pair."""
    return (_back("_pair", among, k) == pl.col("_pair")).fill_null(False)


def _night_flag(rule: NightTimeRule) -> pl.Expr:
    return _on_channels(rule) & (_hour() >= rule.start_hour) & (_hour() < rule.end_hour)


def _night_column(rule: NightTimeRule, nights: str) -> pl.Expr:
    """Per row: a night contact, with a night contact of the same pair ``min_events - 1``
    night contacts back, no longer ago than ``within``. ``nights`` is the column of
    ``_night_flag``."""
    k = rule.min_events - 1
    recent = (pl.col("_t") - _back("_t", nights, k)) <= micros(rule.within)
    return (pl.col(nights) & _same_pair_back(k, nights) & recent).fill_null(False)


def _escalating_column(rule: EscalatingRule, on: str | None) -> pl.Expr:
    """Per row: the pair's last ``min_gaps`` gaps each shrink to at most ``max_ratio`` of
    the one before, the first of them is at least ``min_first_gap`` long, and the contacts
    span at most ``within``; counting only the rows of column ``on`` (the rule's channels)
    if it names some."""
    k = rule.min_gaps
    t = [pl.col("_t")] + [_back("_t", on, j) for j in range(1, k + 1)]
    gap = [t[j] - t[j + 1] for j in range(k)]  # gap[0] is the latest
    ok = (
        _same_pair_back(k, on)
        & (gap[k - 1] >= micros(rule.min_first_gap))
        & ((t[0] - t[k]) <= micros(rule.within))
    )
    for j in range(k - 1):
        ok = ok & (gap[j] <= rule.max_ratio * gap[j + 1])
    if on is not None:
        ok = pl.col(on) & ok
    return ok.fill_null(False)


_RuleKey = tuple[tuple[str, str, int], ...]  # (id, reason, severity) in bit order
_PAIR_SEED = 2  # of the recipient's hash in the pair key (the accounts' seeds: flags)


def _pair_key() -> pl.Expr:
    """A 64-bit key per (sender, child): sorting by it and time keeps each pair's rows
    together and in time order at a fraction of the cost of sorting by the two strings."""
    return pl.col("_s") ^ pl.col("_r").hash(seed=_PAIR_SEED)


def _pair_check() -> pl.Expr:
    """A second 64-bit key per pair, from hashes with other seeds: two pairs that share
    ``_pair_key`` (a collision, of the key or of an account's hash) almost surely differ
    here, and then the engine sorts by the strings instead (``_exact_features``)."""
    return pl.col("_s_check") ^ pl.col("_r_check").hash(seed=_PAIR_SEED)


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
    history_bits: tuple[pl.Expr, ...]  # the history rules' bits, on the sorted frame
    severity: pl.Expr  # of a run's ``_mask``
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
        history_bits=tuple(
            _history_hit(r).cast(pl.Int64) * (1 << i)
            for i, r in enumerate(ordered)
            if _uses_history(r)
        ),
        severity=pl.sum_horizontal(
            [(pl.col("_mask") // (1 << i) % 2) * r.severity for i, r in enumerate(ordered)]
        ),
        window=micros(rules.window),
    )


def _event_columns(frame: pl.LazyFrame, plan: _RulePlan) -> pl.LazyFrame:
    """What the sort must carry: the one-event rules folded into bits (bit ``i`` is rule
    ``i`` of ``_bit_order``), and the input of each history rule."""
    frame = frame.with_columns(
        pl.coalesce("marker_band", "recipient_band").alias("_child_band"),
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
    candidates: pl.DataFrame, flags: FlagSet, rules: RuleSet, *, ties_in_id_order: bool = False
) -> tuple[pl.DataFrame, pl.DataFrame] | None:
    """The candidates' rule inputs sorted by pair and time, pairs numbered (``_pair``),
    with accounts as 64-bit hashes: joins, sort and groups on integers, no text moved; and
    the candidates they number (``_row``). None when a hash could mislead (a flag table or
    two pairs sharing a hash, or a candidate that is no child): then the exact way.

    Two events of a pair at the same microsecond go in event-id order. Timestamps of whole
    seconds make such ties common, so they do not send a batch the exact way: the
    candidates are put in (time, event id) order once and sorted by pair again
    (``ties_in_id_order``: they already are)."""
    senders, recipients = flags.senders_by_hash, flags.recipients_by_hash
    if senders is None or recipients is None:
        return None
    frame = _row_numbers(candidates).with_columns(
        pl.col("sender").hash(seed=ACCOUNT_SEED).alias("_s"),
        pl.col("recipient").hash(seed=ACCOUNT_SEED).alias("_r"),
        pl.col("sender").hash(seed=CHECK_SEED).alias("_s_check"),
        pl.col("recipient").hash(seed=CHECK_SEED).alias("_r_check"),
    )
    frame = frame.join(senders.lazy(), on="_s", how="left", maintain_order="left").join(
        recipients.lazy(), on="_r", how="left", maintain_order="left"
    )
    joined_right = (
        (pl.col("_flag_check").is_null() | (pl.col("_flag_check") == pl.col("_s_check")))
        & (pl.col("_marker_check").is_null() | (pl.col("_marker_check") == pl.col("_r_check")))
        # a candidate let through by the hash look-up alone (``candidate_events``)
        & (_is_minor_band("recipient_band") | pl.col("_child").fill_null(False))
    )
    plan = _plan(rules)
    frame = _event_columns(_with_risk(frame, candidates, flags), plan).with_columns(
        _pair_key().alias("_key"),
        _pair_check().alias("_check"),
        joined_right.all().alias("_joined_right"),
    )
    narrow = _narrow(frame, plan, "_key", "_check", "_joined_right")
    if ties_in_id_order or candidates["at"].is_sorted():  # a stable sort keeps that order
        ordered = narrow.sort("_key", maintain_order=True)
    else:
        ordered = narrow.sort("_key", "_t")
    new_key = _changed("_key")
    found = _collect(
        ordered.with_columns(
            new_key.cum_sum().alias("_pair"),
            (new_key != _changed("_check")).any().alias("_collided"),
            (~new_key & (pl.col("_t") == pl.col("_t").shift(1))).any().alias("_tied"),
        )
    )
    if found.height and (found.item(0, "_collided") or not found.item(0, "_joined_right")):
        return None
    if found.height and found.item(0, "_tied") and not ties_in_id_order:
        by_id = candidates.sort("at", "event_id")
        return _hashed_features(by_id, flags, rules, ties_in_id_order=True)
    return found.drop("_key", "_check", "_joined_right", "_collided", "_tied"), candidates


def _exact_features(candidates: pl.DataFrame, flags: FlagSet, rules: RuleSet) -> pl.DataFrame:
    """``_hashed_features`` with the accounts' text as the keys: slower, never misled."""
    frame = (
        _row_numbers(candidates)
        .join(flags.recipients.lazy(), on="recipient", how="left")
        .join(flags.senders.lazy(), on="sender", how="left")
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
    Polars 2 the default engine choice ran these plans two to three times slower."""
    return plan.collect(engine="in-memory")


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


def alert_id(member_id: str, sender: str, recipient: str, window_start_us: int) -> str:
    """The same (member, sender, child, window) always gives the same id."""
    return _digest(f"{ALERT_ID_VERSION}|{member_id}|{sender}|{recipient}|{window_start_us}")


def _digest(key: str) -> str:
    return hashlib.blake2b(key.encode(), digest_size=16).hexdigest()


def _digests(keys: pl.Series) -> pl.Series:
    """``_digest`` of every key: the same blake2b, with the encoding done by Polars and no
    function call per key (this runs once per alert, not per event)."""
    blake2b = hashlib.blake2b
    ids = [blake2b(key, digest_size=16).hexdigest() for key in keys.cast(pl.Binary).to_list()]
    return pl.Series("alert_id", ids, dtype=pl.Utf8)


def _alerts(
    features: pl.DataFrame, candidates: pl.DataFrame, member_id: str, rules: RuleSet
) -> pl.DataFrame:
    """One row per (sender, child, window) whose rule severities reach ``alert_at``.

    Why this shape: the features are sorted by pair then time, so each (pair, window) is
    one run of rows, and an integer run id is the cheapest group key. The rules that fired
    on a row are one integer (a bit per rule), so a run needs one bitwise or rather than one
    ``any`` per rule, and its severity follows from the bits by arithmetic. Only the runs
    that alert go on to look up their accounts' text, their reasons and their ids."""
    plan = _plan(rules)
    window, key, history = plan.window, plan.key, plan.history_bits
    alerting = _collect(
        features.lazy()
        .select(
            "_pair",
            "_row",
            "_t",
            (pl.col("_t") // window * window).alias("_w"),
            (pl.sum_horizontal("_bits", *history) if history else pl.col("_bits")).alias("_bits"),
        )
        .with_columns((_changed("_pair") | _changed("_w")).cum_sum().set_sorted().alias("_run"))
        .group_by("_run")
        .agg(
            pl.col("_row", "_w").first(),
            pl.col("_t").first().alias("_first_t"),  # the run is in time order
            pl.col("_t").last().alias("_last_t"),
            pl.len().cast(pl.Int64).alias("events"),
            pl.col("_bits").bitwise_or().alias("_mask"),
        )
        .with_columns(plan.severity.alias("severity"))
        .filter(pl.col("severity") >= rules.alert_at)
    )
    if alerting.height == 0:
        return empty_alerts()
    if len(key) <= _TABLE_RULES:
        table = _every_combination(key)
    else:  # too many rules for a table of every combination: only those that fired
        table = _combinations(key, alerting["_mask"].unique().to_list())
    text = candidates.select("sender", "recipient", "event_id")[alerting["_row"]]
    with_text = pl.concat([alerting, text], how="horizontal")
    keys = with_text.select(
        pl.concat_str(
            pl.lit(f"{ALERT_ID_VERSION}|{member_id}"), "sender", "recipient", "_w", separator="|"
        )
    ).to_series()
    return (
        with_text.with_columns(_digests(keys))
        .sort("alert_id")  # before the list columns join: sorting them costs more
        .lazy()
        .join(table.lazy(), on="_mask", how="left", maintain_order="left")
        .select(
            "alert_id",
            pl.lit(member_id).alias("member_id"),
            "sender",
            "recipient",
            pl.col("_w").cast(TIME).alias("window_start"),
            (pl.col("_w") + window).cast(TIME).alias("window_end"),
            "severity",
            "rules",
            "reasons",
            "rule_severities",
            pl.col("event_id").alias("first_event_id"),
            pl.col("_first_t").cast(TIME).alias("first_event_at"),
            pl.col("_last_t").cast(TIME).alias("last_event_at"),
            "events",
        )
        .pipe(_collect)
    )


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
