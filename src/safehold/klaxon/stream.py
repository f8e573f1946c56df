"""The in-process stream: the batch engine fed micro-batches, with window state carried.

Why it gives the batch's alerts: the stream keeps the candidate events (adult to child)
of the last ``horizon`` (the longest window or look-back in the rules), screens them again
with each micro-batch, and merges the alerts by id. With events in time order every window
is screened whole at its last event; a later, shorter view of an old window can only find
a subset of its rules, and merging keeps the union, so the final alerts equal the batch's.
Events may arrive out of order by up to ``lateness`` (a day by default: partitions
interleave) and still be screened whole; later ones are counted as late. Events already
seen (same event id) are dropped, so a replayed micro-batch adds nothing.

Why it is incremental: every rule looks at one sender's events (fan-out) or one pair's
(the others), so a micro-batch is screened together with the held events of the senders
it touches only, and merged with the alerts of the same ids only; the result is the same
as screening everything held again. After the flags or the rules change, the next batch
screens everything held once, so that held events are judged by the new flags too."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import polars as pl

from safehold.klaxon.durations import micros
from safehold.klaxon.engine import (
    candidate_events,
    changed_alerts,
    empty_alerts,
    horizon_us,
    merge_alerts,
    screen_candidates,
)
from safehold.klaxon.events import ClockLimits, EventInputError, prepare_events
from safehold.klaxon.flags import FlagError, FlagStore
from safehold.klaxon.rules import RuleSet


@dataclass
class StreamStats:
    batches: int = 0
    events: int = 0
    candidates_held: int = 0
    late_events: int = 0  # arrived older than the horizon behind the newest event seen
    flag_reloads: int = 0
    flag_reload_errors: int = 0
    last_flag_error: str | None = None


class StreamScreen:
    """``feed(events)`` per micro-batch -> the alerts that are new or changed by it."""

    def __init__(
        self,
        flags: FlagStore,
        rules: RuleSet,
        *,
        clock: Callable[[], ClockLimits] = ClockLimits.wall_clock,
        lateness: timedelta = timedelta(days=1),
        stored_alerts: Callable[[list[str]], pl.DataFrame] | None = None,
    ) -> None:
        """``stored_alerts`` (ids -> those alerts) lets the stream keep only the alerts of
        open windows in memory and fetch older ones when a late event touches them; without
        it every alert stays in memory (``alerts``)."""
        self.flags = flags
        self.rules = rules
        self.clock = clock
        self.lateness = micros(lateness)
        self.horizon = horizon_us(rules) + self.lateness
        self.stored_alerts = stored_alerts
        self._rescreen_all = False
        self.stats = StreamStats()
        self._state: pl.DataFrame | None = None
        self._alerts = empty_alerts()
        self._newest_by_lane: dict[str, int] = {}
        self.last_new_candidates: pl.DataFrame | None = None

    @property
    def held(self) -> pl.DataFrame | None:
        """The candidate events held for the open windows."""
        return self._state

    @property
    def newest(self) -> int | None:
        """The newest event time every lane has reached (microseconds since the epoch)."""
        return min(self._newest_by_lane.values()) if self._newest_by_lane else None

    def restore(self, held: pl.DataFrame | None, alerts: pl.DataFrame) -> None:
        """Carry on from a stored state (a restarted worker): held events and alerts."""
        self._state = held if held is not None and held.height else None
        self._alerts = alerts
        self._newest_by_lane = {}
        if self._state is not None:
            lanes = self._state.group_by("_lane").agg(pl.col("at").cast(pl.Int64).max())
            self._newest_by_lane = dict(zip(lanes["_lane"], lanes["at"], strict=True))

    @property
    def alerts(self) -> pl.DataFrame:
        """The alerts held in memory, by alert id."""
        return self._alerts.sort("alert_id")

    def use_rules(self, rules: RuleSet) -> None:
        """Screen with new rules from the next batch on (everything held, once)."""
        self.rules = rules
        self.horizon = horizon_us(rules) + self.lateness
        self._rescreen_all = True

    def _reload_flags(self) -> None:
        try:
            if self.flags.reload_if_changed():
                self.stats.flag_reloads += 1
                self._rescreen_all = True
        except FlagError as exc:  # the flags in force stay; say so, keep screening
            self.stats.flag_reload_errors += 1
            self.stats.last_flag_error = str(exc)

    def feed(
        self, frame: pl.DataFrame, *, source: str | None = None, lane: str = ""
    ) -> pl.DataFrame:
        """Screen one micro-batch (member-layout columns). A bad batch raises
        ``EventInputError`` and changes nothing. ``lane`` names an ordered source (a
        partition subject): events are in time order within a lane, lanes may lag each
        other, and held events are let go only when every lane has moved past them."""
        self._reload_flags()
        return self._screen([self._candidates(frame, source, lane)])

    def feed_many(
        self, batches: list[tuple[pl.DataFrame, str, str]]
    ) -> tuple[pl.DataFrame, dict[int, EventInputError]]:
        """Screen several micro-batches ``(frame, source, lane)`` together (one pass, as
        one batch of their union). A batch that fails its checks is left out and returned
        by its index with the error; the others are screened."""
        self._reload_flags()
        if len(batches) > 1:
            try:  # the common case: all good, checked and cut as one frame
                whole = pl.concat([frame for frame, _, _ in batches])
                lanes = pl.concat(
                    [
                        pl.repeat(lane, frame.height, dtype=pl.Utf8, eager=True)
                        for frame, _, lane in batches
                    ]
                )
                return self._screen([self._candidates(whole, "messages", lanes)]), {}
            except (EventInputError, pl.exceptions.PolarsError):
                pass  # one of them is bad (or they differ in shape): one by one, below
        refused: dict[int, EventInputError] = {}
        parts = []
        for index, (frame, source, lane) in enumerate(batches):
            try:
                parts.append(self._candidates(frame, source, lane))
            except EventInputError as exc:
                refused[index] = exc
        return self._screen(parts), refused

    def _candidates(
        self, frame: pl.DataFrame, source: str | None, lane: str | pl.Series
    ) -> pl.DataFrame:
        """A batch checked and cut to candidates; each lane's progress noted. ``lane`` is
        one lane for the whole batch, or one per row."""
        flags = self.flags.current
        name = source or f"micro-batch {self.stats.batches + 1}"
        events = prepare_events(frame, source=name, member_id=flags.member_id, clock=self.clock())
        events = events.with_columns(
            pl.lit(lane, dtype=pl.Utf8).alias("_lane")
            if isinstance(lane, str)
            else lane.alias("_lane")
        )
        candidates = candidate_events(events, flags)
        self.stats.batches += 1
        self.stats.events += events.height
        if candidates.height == 0:
            return candidates
        newest = candidates.group_by("_lane").agg(pl.col("at").cast(pl.Int64).max())
        for lane_name, lane_newest in newest.iter_rows():
            previous = self._newest_by_lane.get(lane_name)
            if previous is not None:
                times = candidates.filter(pl.col("_lane") == lane_name)["at"].cast(pl.Int64)
                self.stats.late_events += int((times < previous - self.horizon).sum())
            self._newest_by_lane[lane_name] = (
                lane_newest if previous is None else max(previous, lane_newest)
            )
        return candidates

    def _screen(self, parts: list[pl.DataFrame]) -> pl.DataFrame:
        flags = self.flags.current
        candidates = pl.concat(parts) if parts else pl.DataFrame()
        if candidates.height == 0:
            self.last_new_candidates = candidates if parts else None
            return empty_alerts().with_columns(pl.lit(True).alias("is_new")).clear()
        if self._state is not None:
            candidates = candidates.join(self._state.select("event_id"), on="event_id", how="anti")
        candidates = candidates.unique("event_id", keep="first", maintain_order=True)
        self.last_new_candidates = candidates
        state = candidates if self._state is None else pl.concat([self._state, candidates])
        if self._rescreen_all or self._state is None:
            context = state
        else:  # the held events of the senders this batch touches, and the batch
            touched = candidates["sender"].unique().implode()
            context = pl.concat([self._state.filter(pl.col("sender").is_in(touched)), candidates])
        self._rescreen_all = False
        found = screen_candidates(context, flags, self.rules)
        changed = self._merge(found)
        reached = self.newest
        assert reached is not None  # a lane was just fed
        cutoff = pl.lit(reached - self.horizon).cast(pl.Datetime("us", "UTC"))
        self._state = state.filter(pl.col("at") >= cutoff)
        if self._state.n_chunks() > 64:
            self._state = self._state.rechunk()
        if self.stored_alerts is not None:  # closed windows live in the store only
            self._alerts = self._alerts.filter(pl.col("window_end") >= cutoff)
        self.stats.candidates_held = self._state.height
        return changed

    def _merge(self, found: pl.DataFrame) -> pl.DataFrame:
        """Merge ``found`` into the alerts of the same ids; return those new or changed."""
        ids = found.select("alert_id")
        before = self._alerts.join(ids, on="alert_id", how="semi")
        if self.stored_alerts is not None and before.height < found.height:
            missing = ids.join(before, on="alert_id", how="anti")["alert_id"].to_list()
            before = pl.concat([before, self.stored_alerts(missing).cast(before.schema)])
        merged = merge_alerts(before, found)
        changed = changed_alerts(before, merged)
        if changed.height:
            kept = self._alerts.join(ids, on="alert_id", how="anti")
            self._alerts = pl.concat([kept, merged])
        return changed
