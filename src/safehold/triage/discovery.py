"""Other chat databases, found by the shape of their schema.

Why: no plugin list covers every app on a seized phone. Any SQLite file that no plugin
claimed is opened (on a copy) and each table that has both a text-like and a time-like
column and holds rows is reported, so the examiner knows where else conversations may be.
They are listed, not parsed: a guess at an unknown schema could mislead.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from safehold.triage.extraction import Extraction, FileEntry
from safehold.triage.sqlite_copy import SIDECARS, UnreadableDatabaseError, open_copy, tables

SQLITE_MAGIC = b"SQLite format 3\x00"
TEXT_COLUMNS = frozenset(
    {"body", "text", "message", "content", "text_data", "msg", "message_text", "zbody", "ztext"}
)
_TIME_HINTS = ("date", "time", "timestamp")


@dataclass(frozen=True)
class DiscoveredTable:
    path: str
    table: str
    text_column: str
    time_column: str
    rows: int


def _is_sqlite(entry: FileEntry) -> bool:
    try:
        with entry.local.open("rb") as handle:
            return handle.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError:
        return False


def _chat_like(connection: sqlite3.Connection, entry: FileEntry) -> list[DiscoveredTable]:
    found = []
    for table in sorted(tables(connection)):
        names = [str(r[1]) for r in connection.execute(f'PRAGMA table_info("{table}")')]
        text = next((c for c in names if c.lower() in TEXT_COLUMNS), None)
        time = next((c for c in names if any(h in c.lower() for h in _TIME_HINTS)), None)
        if text is None or time is None:
            continue
        count = connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # noqa: S608
        if count:
            found.append(DiscoveredTable(entry.path, table, text, time, int(count)))
    return found


def discover_chat_tables(extraction: Extraction, claimed: set[str]) -> list[DiscoveredTable]:
    """Chat-shaped tables in SQLite files that no plugin read (``claimed`` paths)."""
    found: list[DiscoveredTable] = []
    for entry in extraction:
        if entry.path in claimed or entry.path.endswith(SIDECARS) or not _is_sqlite(entry):
            continue
        try:
            with open_copy(entry.local) as connection:
                found.extend(_chat_like(connection, entry))
        except (UnreadableDatabaseError, sqlite3.Error, OSError):
            continue  # unreadable unknown databases are not an artifact we claimed
    return found
