"""Opening an evidence SQLite database safely: on a copy, with its -wal and -journal.

Why: SQLite writes beside a database it opens (journals, WAL checkpoints), so the evidence
is never opened; and a phone's most recent rows often sit only in the write-ahead log, so
the copy carries the -wal (and any -journal) with it and SQLite reads them as the app would.
The copy is then used with ``query_only`` so not even the copy is changed by a parser.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SIDECARS = ("-wal", "-journal")


class UnreadableDatabaseError(Exception):
    """The file is not a readable SQLite database (corrupt, encrypted or not SQLite)."""


@contextmanager
def open_copy(
    database: Path, sidecars: dict[str, Path] | None = None
) -> Iterator[sqlite3.Connection]:
    """A connection to a private copy of ``database`` and its sidecar files.

    ``sidecars`` maps '-wal'/'-journal' to their files when they are not beside
    ``database`` (archives index them separately); by default they are looked for beside it.
    """
    found = dict(sidecars or {})
    for suffix in SIDECARS:
        beside = database.with_name(database.name + suffix)
        if suffix not in found and beside.is_file():
            found[suffix] = beside
    with tempfile.TemporaryDirectory(prefix="safehold-sqlite-") as scratch:
        copy = Path(scratch) / "evidence.db"
        shutil.copyfile(database, copy)
        for suffix, path in found.items():
            shutil.copyfile(path, Path(scratch) / f"evidence.db{suffix}")
        try:
            connection = sqlite3.connect(copy)
        except sqlite3.Error as error:
            raise UnreadableDatabaseError(str(error)) from None
        try:
            try:
                connection.execute("PRAGMA query_only = ON")
                connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
            except sqlite3.DatabaseError as error:
                raise UnreadableDatabaseError(
                    f"{error} (corrupt, encrypted or not SQLite)"
                ) from None
            yield connection
        finally:
            connection.close()


def columns(connection: sqlite3.Connection, table: str) -> set[str]:
    """Column names of ``table`` (empty if there is no such table)."""
    rows = connection.execute(f'PRAGMA table_info("{table}")').fetchall()
    return {str(r[1]) for r in rows}


def tables(connection: sqlite3.Connection) -> set[str]:
    rows = connection.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
    return {str(r[0]) for r in rows}
