"""Running every artifact plugin over an extraction's path index.

Why: one place decides how a plugin's files are opened (read-only copy with sidecars),
checked (schema variant) and how failures are recorded, so no single bad database can stop
triage and every failure lands in ``not_processed`` with its reason.
"""

from __future__ import annotations

import fnmatch
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from safehold.triage.discovery import DiscoveredTable, discover_chat_tables
from safehold.triage.extraction import Extraction, FileEntry
from safehold.triage.parsers_android import ANDROID_CALLS, ANDROID_CONTACTS, ANDROID_SMS
from safehold.triage.parsers_ios import IOS_CONTACTS, IOS_SMS
from safehold.triage.parsers_kik import KIK_ANDROID, KIK_IOS
from safehold.triage.parsers_telegram import TELEGRAM_ANDROID
from safehold.triage.parsers_whatsapp import WHATSAPP_ANDROID, WHATSAPP_IOS
from safehold.triage.plugins import ArtifactPlugin, Record, schema_variant
from safehold.triage.records import DeviceCall, DeviceContact, DeviceMessage, NotProcessed
from safehold.triage.sqlite_copy import SIDECARS, UnreadableDatabaseError, columns, open_copy

PLUGINS: tuple[ArtifactPlugin, ...] = (
    ANDROID_SMS,
    ANDROID_CALLS,
    ANDROID_CONTACTS,
    IOS_SMS,
    IOS_CONTACTS,
    WHATSAPP_ANDROID,
    WHATSAPP_IOS,
    KIK_ANDROID,
    KIK_IOS,
    TELEGRAM_ANDROID,
)


ENCRYPTED_ARTIFACTS: tuple[tuple[str, str], ...] = (
    ("msgstore.db.crypt*", "encrypted WhatsApp backup: it needs the key from the device"),
    ("wa.db.crypt*", "encrypted WhatsApp backup: it needs the key from the device"),
    ("*.sqlcipher", "SQLCipher-encrypted database: it needs its key"),
)
"""Known encrypted artifacts (fnmatch on the file name): listed, since they cannot be read."""


@dataclass
class ArtifactSummary:
    rows: int = 0
    source_files: list[str] = field(default_factory=list)


@dataclass
class ArtifactResults:
    messages: list[DeviceMessage] = field(default_factory=list)
    calls: list[DeviceCall] = field(default_factory=list)
    contacts: list[DeviceContact] = field(default_factory=list)
    summary: dict[str, ArtifactSummary] = field(default_factory=dict)
    not_processed: list[NotProcessed] = field(default_factory=list)
    discovered: list[DiscoveredTable] = field(default_factory=list)

    def keep(self, record: Record) -> None:
        if isinstance(record, DeviceMessage):
            self.messages.append(record)
        elif isinstance(record, DeviceCall):
            self.calls.append(record)
        elif isinstance(record, DeviceContact):
            self.contacts.append(record)
        else:
            self.not_processed.append(record)


def _sidecars(extraction: Extraction, entry: FileEntry) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for suffix in SIDECARS:
        other = extraction.entries.get(entry.path + suffix)
        if other is not None:
            found[suffix] = other.local
    return found


def parse_one(
    plugin: ArtifactPlugin, extraction: Extraction, entry: FileEntry
) -> tuple[list[Record], str | None]:
    """Records of one file, or the reason it could not be used."""
    try:
        with open_copy(entry.local, _sidecars(extraction, entry)) as connection:
            variant, reason = schema_variant(plugin, lambda t: columns(connection, t))
            if variant is None:
                return [], reason
            return list(variant.parser(connection, entry.path)), None
    except UnreadableDatabaseError as error:
        return [], f"not a readable SQLite database: {error}"
    except sqlite3.Error as error:
        return [], f"the database could not be read to the end ({error}): damaged?"
    except OSError as error:
        return [], f"could not copy the database to read it: {error.strerror or error}"


def run_plugins(
    extraction: Extraction, plugins: tuple[ArtifactPlugin, ...] = PLUGINS
) -> ArtifactResults:
    results = ArtifactResults()
    claimed: set[str] = set()
    for plugin in plugins:
        summary = results.summary.setdefault(plugin.name, ArtifactSummary())
        for entry in plugin.sources(extraction):
            claimed.add(entry.path)
            records, problem = parse_one(plugin, extraction, entry)
            if problem is not None:
                results.not_processed.append(NotProcessed(entry.path, f"{plugin.name}: {problem}"))
                continue
            for record in records:
                results.keep(record)
            summary.rows += sum(not isinstance(r, NotProcessed) for r in records)
            summary.source_files.append(entry.path)
    for entry in extraction:
        name = entry.path.rsplit("/", 1)[-1].lower()
        for pattern, reason in ENCRYPTED_ARTIFACTS:
            if fnmatch.fnmatchcase(name, pattern):
                results.not_processed.append(NotProcessed(entry.path, reason))
                break
    results.discovered = discover_chat_tables(extraction, claimed)
    return results
