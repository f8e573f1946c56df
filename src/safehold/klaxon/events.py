"""Contact events as the engine reads them: a Polars frame checked whole, column by column.

Why vectorised checks: a batch of millions of events is refused or accepted in a few passes
over its columns; only when a check fails is the first offending row looked up, so the error
can name the input, the row and the fix. The input columns are the member layout's
``contact_events`` table (docs/member-data-layout.md), plus optional ``member_id`` and
``conversation_id``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa

from safehold.exchange import AgeBand, Channel
from safehold.klaxon import kernels

AGE_BANDS: tuple[str, ...] = tuple(b.value for b in AgeBand)
MINOR_BANDS: tuple[str, ...] = tuple(b.value for b in AgeBand if b.is_minor)
CHANNELS: tuple[str, ...] = tuple(c.value for c in Channel)

REQUIRED: dict[str, str] = {
    "event_id": "text",
    "sender_account": "text",
    "recipient_account": "text",
    "occurred_at": "a UTC timestamp",
    "channel": "text",
    "first_contact": "true/false",
}
OPTIONAL = ("recipient_age_band", "sender_age_band", "member_id", "conversation_id")
ENGINE_COLUMNS = (
    "event_id", "sender", "recipient", "at", "channel", "first_contact", "conversation_id",
    "recipient_band_index", "sender_band_index",
)  # fmt: skip
TIME = pl.Datetime("us", "UTC")
_BAND_ENUM = pl.Enum(AGE_BANDS)
_BAND_TABLE = kernels.short_texts(AGE_BANDS)
# the minor bands come first, so that "a child's band" is one compare of its index
assert AGE_BANDS[: len(MINOR_BANDS)] == MINOR_BANDS


def band_index(column: str) -> pl.Expr:
    """The band's place in ``AGE_BANDS`` (an enum cast: no string compares per row)."""
    return pl.col(column).cast(_BAND_ENUM).to_physical().cast(pl.Int16)


def is_minor(index_column: str) -> pl.Expr:
    """Is the band (an ``*_band_index`` column) a child's; false where it is unknown."""
    return (pl.col(index_column) < len(MINOR_BANDS)).fill_null(False)


def _band_indexes(column: pl.Series) -> tuple[pl.Series, int]:
    """Each band's place in ``AGE_BANDS`` (null where the event gives none), and the first
    row whose text is no band (-1: none). Read off the column's Arrow string views by a
    compiled perfect hash (``kernels.view_codes``): about 2 ns an event, where checking
    the text against the bands took 6 and a cast to an enum 9."""
    pieces, first_other, before = [], -1, 0
    # piece by piece as the column lies, so that the indexes' pieces line up with the
    # other columns' (Polars aligns misaligned pieces again on every later pass)
    for piece in column.get_chunks():
        codes, other = _piece_indexes(piece)
        if other >= 0 and first_other < 0:
            first_other = before + other
        before += piece.len()
        pieces.append(codes)
    return pl.concat(pieces, rechunk=False).alias(column.name), first_other


def _piece_indexes(piece: pl.Series) -> tuple[pl.Series, int]:
    if piece.dtype == pl.Null or piece.null_count() == piece.len():
        return pl.Series([None] * piece.len(), dtype=pl.Int8), -1
    found = piece.to_arrow(compat_level=pl.CompatLevel.newest())
    whole = found.combine_chunks() if isinstance(found, pa.ChunkedArray) else found
    validity, views = whole.buffers()[:2]
    codes, other = kernels.view_codes(
        np.frombuffer(views, dtype=np.uint64).reshape(-1, 2),
        None if validity is None else np.frombuffer(validity, dtype=np.uint8),
        whole.offset,
        len(whole),
        _BAND_TABLE,
    )
    # the piece's own validity bitmap marks the nulls: nothing is copied
    array = pa.Array.from_buffers(
        pa.int8(), len(whole), [validity, pa.py_buffer(codes)], offset=whole.offset
    )
    return pl.Series(array), other


def _nulls_like(column: pl.Series) -> pl.Series:
    """Nulls in the pieces ``column`` lies in."""
    pieces = [pl.Series([None] * n, dtype=pl.Null) for n in column.chunk_lengths()]
    return pl.concat(pieces, rechunk=False)


def with_band_indexes(events: pl.DataFrame) -> pl.DataFrame:
    """Prepared events kept by an earlier version, which had the bands' text and no
    indexes, as this one prepares them."""
    for name in ("recipient", "sender"):
        if f"{name}_band_index" not in events.columns:
            found, _ = _band_indexes(events[f"{name}_band"].alias(f"{name}_band_index"))
            events = events.hstack([found])
    return events.drop("recipient_band", "sender_band", strict=False)


class EventInputError(ValueError):
    """Events that cannot be screened; the message names the input, the row and the fix."""


@dataclass(frozen=True)
class ClockLimits:
    """How far from ``now`` an event may be before its clock is called wrong."""

    now: datetime
    max_future: timedelta = timedelta(hours=1)
    max_past: timedelta = timedelta(days=400)

    @staticmethod
    def wall_clock() -> ClockLimits:
        return ClockLimits(now=datetime.now(UTC))


def read_events(path: Path) -> pl.DataFrame:
    """The Parquet file as it is; ``prepare_events`` checks it."""
    if not path.is_file():
        raise EventInputError(f"{path} not found: give a Parquet file of contact events")
    try:
        return pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise EventInputError(
            f"{path} is not a readable Parquet file ({type(exc).__name__}); write the events "
            "as Parquet with the columns in docs/member-data-layout.md"
        ) from None


def _first_row(frame: pl.DataFrame, bad: pl.Expr) -> tuple[int, dict[str, object]]:
    row = frame.with_row_index("_row").filter(bad).head(1).row(0, named=True)
    return int(row.pop("_row")), row


def prepare_events(
    frame: pl.DataFrame, *, source: str, member_id: str, clock: ClockLimits
) -> pl.DataFrame:
    """Check every event and return the engine's columns (``ENGINE_COLUMNS``); the first
    problem found is raised as ``EventInputError`` and nothing of the batch is used."""
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise EventInputError(
            f"{source}: missing column(s) {', '.join(missing)}; contact events need "
            + ", ".join(f"{c} ({kind})" for c, kind in REQUIRED.items())
        )
    for column in ("event_id", "sender_account", "recipient_account", "channel", *OPTIONAL):
        if column in frame.columns and frame.schema[column] not in (pl.Utf8, pl.Null):
            raise EventInputError(
                f"{source}: column {column} holds {frame.schema[column]}, expected text"
            )
    if frame.schema["first_contact"] != pl.Boolean:
        raise EventInputError(
            f"{source}: column first_contact holds {frame.schema['first_contact']}, "
            "expected true/false"
        )
    stamp = frame.schema["occurred_at"]
    if not isinstance(stamp, pl.Datetime) or stamp.time_zone is None:
        raise EventInputError(
            f"{source}: column occurred_at holds {stamp}, expected a timestamp with a time "
            "zone; write it as UTC"
        )
    frame = frame.with_columns(pl.col("occurred_at").dt.convert_time_zone("UTC").cast(TIME))
    for column in REQUIRED:
        if frame[column].null_count():
            row, _ = _first_row(frame, pl.col(column).is_null())
            raise EventInputError(f"{source}: row {row}: {column} is empty; every event needs one")
    indexes = _check_values(frame, source, member_id, clock)
    out = frame.select(
        "event_id",
        pl.col("sender_account").alias("sender"),
        pl.col("recipient_account").alias("recipient"),
        pl.col("occurred_at").alias("at"),
        "channel",
        "first_contact",
        _optional(frame, "conversation_id").alias("conversation_id"),
    ).hstack(indexes)
    return out


def _optional(frame: pl.DataFrame, column: str) -> pl.Expr:
    if column in frame.columns:
        return pl.col(column).cast(pl.Utf8)
    return pl.lit(None, dtype=pl.Utf8)


def _check_values(
    frame: pl.DataFrame, source: str, member_id: str, clock: ClockLimits
) -> list[pl.Series]:
    """Raise on the first wrong value; return the bands' indexes, read while checking them
    (``recipient_band_index``, ``sender_band_index``)."""
    same = pl.col("sender_account") == pl.col("recipient_account")
    if frame.select(same.any()).item():
        row, values = _first_row(frame, same)
        raise EventInputError(
            f"{source}: row {row} (event {values['event_id']}): sender and recipient are the "
            "same account; drop the event or fix the recipient"
        )
    if frame.select((~pl.col("channel").is_in(CHANNELS)).any()).item():
        row, values = _first_row(frame, ~pl.col("channel").is_in(CHANNELS))
        raise EventInputError(
            f"{source}: row {row} (event {values['event_id']}): channel is "
            f"{values['channel']!r}; expected one of " + ", ".join(CHANNELS)
        )
    indexes = []
    for column, name in (("recipient_age_band", "recipient"), ("sender_age_band", "sender")):
        given = frame[column] if column in frame.columns else _nulls_like(frame["event_id"])
        found, row = _band_indexes(given.alias(f"{name}_band_index"))
        if row >= 0:
            raise EventInputError(
                f"{source}: row {row} (event {frame['event_id'][row]}): {column} is "
                f"{frame[column][row]!r}; expected empty or one of " + ", ".join(AGE_BANDS)
            )
        indexes.append(found)
    if "member_id" in frame.columns:
        other = pl.col("member_id").is_null() | (pl.col("member_id") != member_id)
        if frame.select(other.any()).item():
            row, values = _first_row(frame, other)
            raise EventInputError(
                f"{source}: row {row} (event {values['event_id']}): member "
                f"{values['member_id']!r} is unknown to these flags, which belong to "
                f"{member_id!r}; screen each member's events with its own flags folder"
            )
    earliest, latest = clock.now - clock.max_past, clock.now + clock.max_future
    skewed = (pl.col("occurred_at") > latest) | (pl.col("occurred_at") < earliest)
    if frame.select(skewed.any()).item():
        row, values = _first_row(frame, skewed)
        when = "in the future" if values["occurred_at"] > latest else "in the past"  # type: ignore[operator]
        raise EventInputError(
            f"{source}: row {row} (event {values['event_id']}): occurred_at "
            f"{values['occurred_at']} is too far {when} (accepted: {earliest:%Y-%m-%d %H:%M} "
            f"to {latest:%Y-%m-%d %H:%M} UTC); check the clock of the system that wrote the "
            "events, or screen old events with --now set to when they happened"
        )
    return indexes
