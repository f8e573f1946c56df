"""Artifact parsers as small declarative plugins.

Why: each app's database is one plugin that says, as data, what it is called, where it
lives, which tables and columns it needs and what it produces; the runner finds its files in
the path index, opens each on a copy and checks the schema before the parser runs, so a new
app version with a changed schema is reported (schema drift) instead of crashing triage.
"""

from __future__ import annotations

import fnmatch
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from safehold.triage.extraction import Extraction, FileEntry
from safehold.triage.records import DeviceCall, DeviceContact, DeviceMessage, NotProcessed

Record = DeviceMessage | DeviceCall | DeviceContact | NotProcessed
"""What a parser yields; a NotProcessed says what of its file it could not read, and why."""
Parser = Callable[[sqlite3.Connection, str], Iterator[Record]]
"""(connection to the copy, path of the file in the extraction) -> records."""


@dataclass(frozen=True)
class SchemaVariant:
    """One known schema of an app's database: the tables and columns it must have."""

    name: str
    required: dict[str, frozenset[str]]
    parser: Parser


@dataclass(frozen=True)
class ArtifactPlugin:
    name: str
    file_names: tuple[str, ...]
    """Database file names, matched anywhere in the extraction."""
    globs: tuple[str, ...]
    """Standard locations (fnmatch patterns on the POSIX path)."""
    produces: frozenset[str]
    """Which record kinds: 'messages', 'calls', 'contacts'."""
    variants: tuple[SchemaVariant, ...] = field(default=())

    def sources(self, extraction: Extraction) -> list[FileEntry]:
        """Files this plugin reads: by name anywhere, plus anything at a standard location."""
        found = {e.path: e for name in self.file_names for e in extraction.named(name)}
        if self.globs:
            for entry in extraction:
                lowered = entry.path.lower()
                if any(fnmatch.fnmatchcase(lowered, g.lower()) for g in self.globs):
                    found.setdefault(entry.path, entry)
        return [found[p] for p in sorted(found)]


def schema_variant(
    plugin: ArtifactPlugin, table_columns: Callable[[str], set[str]]
) -> tuple[SchemaVariant | None, str]:
    """The first variant whose tables and columns are all present, or None with the reason
    naming what the nearest variant lacks."""
    best: tuple[int, str] | None = None
    for variant in plugin.variants:
        missing = [
            f"{table}.{column}" if have else table
            for table, needed in variant.required.items()
            for have in [table_columns(table)]
            for column in (sorted(needed - have) if have else [""])
        ]
        if not missing:
            return variant, ""
        note = f"{variant.name} schema lacks {', '.join(dict.fromkeys(missing))}"
        if best is None or len(missing) < best[0]:
            best = (len(missing), note)
    reason = best[1] if best else "no schema known"
    return None, f"schema drift (unknown app version): {reason}"
