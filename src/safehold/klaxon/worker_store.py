"""What a stream worker keeps on disk so that a kill loses nothing and repeats nothing.

One SQLite file holds the alerts (keyed by alert id, so an alert can never be stored
twice), the stream sequences already processed, and the dead-lettered ones; a folder
beside it holds the candidate events of the open windows, one Parquet file per message.
A message's held events are written first, then one SQLite transaction stores its alerts
and marks it processed; only then is the message acknowledged. After a kill, held-event
files of messages never marked processed are removed and those messages come again."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path

import polars as pl

from safehold.klaxon.engine import ALERT_SCHEMA, empty_alerts
from safehold.klaxon.events import with_band_indexes

_SCHEMA = """
create table if not exists alerts (
    alert_id text primary key,
    member_id text not null,
    sender text not null,
    recipient text not null,
    window_start integer not null,
    window_end integer not null,
    severity integer not null,
    rules text not null,
    reasons text not null,
    rule_severities text not null,
    first_event_id text not null,
    first_event_at integer not null,
    last_event_at integer not null,
    events integer not null
);
create table if not exists processed (
    sequence integer primary key,
    outcome text not null,
    detail text
);
create table if not exists stored_times (
    sequence integer primary key,
    stored_at real not null,
    group_first integer not null
);
"""
_TIMES = ("window_start", "window_end", "first_event_at", "last_event_at")
_LISTS = ("rules", "reasons", "rule_severities")


def _json_text(column: str) -> pl.Expr:
    """A list column as JSON text, in one vectorised pass (``{"c":[...]}`` unwrapped)."""
    encoded = pl.struct(pl.col(column)).struct.json_encode()
    return encoded.str.slice(len(column) + 4).str.strip_suffix("}").alias(column)


class WorkerStore:
    """Alerts, processed sequences and held events of one worker."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.held_dir = path.with_name(path.name + ".held")
        self.held_dir.mkdir(exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("pragma journal_mode=wal")
        self._db.execute("pragma synchronous=full")
        self._db.executescript(_SCHEMA)
        self._drop_orphans()
        # the newest event time of each held file, so eviction need not read the files
        self._held_newest: dict[Path, int] = {}
        for held_path in self.held_dir.glob("held-*.parquet"):
            newest = pl.scan_parquet(held_path).select(pl.col("at").cast(pl.Int64).max())
            self._held_newest[held_path] = newest.collect().item()

    def close(self) -> None:
        self._db.close()

    def _held_path(self, sequence: int) -> Path:
        return self.held_dir / f"held-{sequence:012d}.parquet"

    def _drop_orphans(self) -> None:
        done = self.processed_sequences()
        for path in self.held_dir.glob("held-*.parquet"):
            if int(path.stem.removeprefix("held-")) not in done:
                path.unlink()
        for path in self.held_dir.glob(".*"):
            path.unlink()

    def processed_sequences(self) -> set[int]:
        return {row[0] for row in self._db.execute("select sequence from processed")}

    def is_processed(self, sequence: int) -> bool:
        found = self._db.execute("select 1 from processed where sequence = ?", (sequence,))
        return found.fetchone() is not None

    def counts(self) -> dict[str, int]:
        rows = self._db.execute("select outcome, count(*) from processed group by outcome")
        counts = {outcome: n for outcome, n in rows}
        counts["alerts"] = self._db.execute("select count(*) from alerts").fetchone()[0]
        return counts

    def commit(
        self,
        sequence: int,
        held: pl.DataFrame,
        alerts: pl.DataFrame,
        keep_from_us: int | None,
        *,
        with_sequences: tuple[int, ...] = (),
    ) -> None:
        """Store one message's outcome durably: its held events, then (one transaction)
        its new or changed alerts and the mark that it is processed. ``with_sequences``:
        earlier messages screened together with this one, marked processed in the same
        transaction (the alerts and held events are filed under ``sequence``, the last)."""
        if held.height:
            staging = self.held_dir / f".held-{sequence:012d}.parquet"
            held.write_parquet(staging)
            with staging.open("rb") as handle:
                os.fsync(handle.fileno())
            os.replace(staging, self._held_path(sequence))
            self._held_newest[self._held_path(sequence)] = held.select(
                pl.col("at").cast(pl.Int64).max()
            ).item()
        flat = alerts.select(list(ALERT_SCHEMA)).with_columns(
            *(pl.col(c).cast(pl.Int64) for c in _TIMES),
            *(_json_text(c) for c in _LISTS),
        )
        rows = flat.rows()
        self._db.execute("begin immediate")
        try:
            self._db.executemany(
                "insert or replace into alerts values (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows
            )
            self._db.execute(
                "insert into processed values (?, 'screened', ?)",
                (sequence, json.dumps([row[0] for row in rows])),
            )
            self._db.executemany(
                "insert into processed values (?, 'screened', '[]')",
                [(other,) for other in with_sequences],
            )
            first, now = min((sequence, *with_sequences)), time.time()
            self._db.executemany(
                "insert or replace into stored_times values (?, ?, ?)",
                [(seq, now, first) for seq in (*with_sequences, sequence)],
            )
            self._db.execute("commit")
        except BaseException:
            self._db.execute("rollback")
            raise
        if keep_from_us is not None:
            self._evict(keep_from_us)

    def changed_ids(self, sequence: int) -> list[str]:
        """The alert ids a processed message added or changed (to publish them again)."""
        found = self._db.execute(
            "select detail from processed where sequence = ? and outcome = 'screened'",
            (sequence,),
        ).fetchone()
        return [] if found is None else list(json.loads(found[0]))

    def dead_letter(self, sequence: int, reason: str) -> None:
        self._db.execute(
            "insert or ignore into processed values (?, 'dead_letter', ?)", (sequence, reason)
        )

    def _evict(self, keep_from_us: int) -> None:
        for path, newest in list(self._held_newest.items()):
            if newest is not None and newest < keep_from_us:
                path.unlink(missing_ok=True)
                del self._held_newest[path]

    def stored_times(self) -> dict[int, tuple[float, int]]:
        """When each screened message's alerts were stored (Unix seconds), and the first
        message of the group it was screened with, by sequence."""
        rows = self._db.execute("select sequence, stored_at, group_first from stored_times")
        return {seq: (at, first) for seq, at, first in rows}

    def held(self) -> pl.DataFrame | None:
        paths = sorted(self.held_dir.glob("held-*.parquet"))
        if not paths:
            return None
        # files an earlier version kept lack the band indexes: the engine needs them
        return pl.concat([with_band_indexes(pl.read_parquet(p)) for p in paths], how="diagonal")

    def alerts(self, ids: list[str] | None = None) -> pl.DataFrame:
        """Stored alerts (those with ``ids`` only, when given), by alert id."""
        if ids is None:
            cursor = self._db.execute("select * from alerts order by alert_id")
        else:
            marks = ",".join("?" * len(ids))
            cursor = self._db.execute(
                f"select * from alerts where alert_id in ({marks}) order by alert_id",  # noqa: S608 - only placeholders
                ids,
            )
        names = [d[0] for d in cursor.description]
        records = [dict(zip(names, row, strict=True)) for row in cursor]
        if not records:
            return empty_alerts()
        frame = pl.DataFrame(records)
        return frame.with_columns(
            *(pl.col(c).cast(pl.Datetime("us")).dt.replace_time_zone("UTC") for c in _TIMES),
            *(pl.col(c).str.json_decode(ALERT_SCHEMA[c]) for c in _LISTS),
        ).select(pl.col(c).cast(t) for c, t in ALERT_SCHEMA.items())
