"""iOS Messages (sms.db): SMS and iMessage in Apple's schema (message, handle, chat and
chat_message_join)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from safehold.triage.plugins import ArtifactPlugin, Record, SchemaVariant
from safehold.triage.records import OWNER, DeviceContact, DeviceMessage, Provenance
from safehold.triage.time_units import apple_time


def _sms(connection: sqlite3.Connection, source: str) -> Iterator[Record]:
    rows = connection.execute(
        """SELECT m.ROWID, m.text, m.date, m.is_from_me, h.id, j.chat_id, m.service
           FROM message m LEFT JOIN handle h ON h.ROWID = m.handle_id
           LEFT JOIN chat_message_join j ON j.message_id = m.ROWID ORDER BY m.ROWID"""
    )
    for row_id, text, date, from_me, handle, chat_id, service in rows:
        from_owner = bool(from_me)
        thread = f"chat-{chat_id}" if chat_id is not None else f"handle-{handle}"
        yield DeviceMessage(
            app="ios_imessage" if service == "iMessage" else "ios_sms",
            conversation_id=f"{source}#{thread}",
            message_id=str(row_id),
            sender=OWNER if from_owner else str(handle or "unknown"),
            counterpart=str(handle or "unknown"),
            sent_at=apple_time(date),
            text=str(text or ""),
            from_owner=from_owner,
            provenance=Provenance(source, "message", str(row_id)),
        )


IOS_SMS = ArtifactPlugin(
    name="ios_sms",
    file_names=("sms.db",),
    globs=("*/library/sms/sms.db", "*/homedomain/library/sms/sms.db"),
    produces=frozenset({"messages"}),
    variants=(
        SchemaVariant(
            "messages",
            {
                "message": frozenset({"ROWID", "text", "date", "is_from_me", "handle_id"}),
                "handle": frozenset({"ROWID", "id"}),
                "chat_message_join": frozenset({"chat_id", "message_id"}),
            },
            _sms,
        ),
    ),
)


_PHONE_PROPERTY = 3


def _address_book(connection: sqlite3.Connection, source: str) -> Iterator[Record]:
    people = connection.execute("SELECT ROWID, First, Last, Birthday FROM ABPerson ORDER BY ROWID")
    numbers: dict[int, list[str]] = {}
    for record_id, value in connection.execute(
        "SELECT record_id, value FROM ABMultiValue WHERE property = ? ORDER BY UID",
        (_PHONE_PROPERTY,),
    ):
        numbers.setdefault(int(record_id), []).append(str(value))
    for row_id, first, last, birthday in people:
        born = apple_time(birthday)
        name = " ".join(str(p) for p in (first, last) if p) or None
        yield DeviceContact(
            app="ios_contacts",
            name=name,
            numbers=tuple(numbers.get(int(row_id), ())),
            birthday=born.date().isoformat() if born else None,
            provenance=Provenance(source, "ABPerson", str(row_id)),
        )


IOS_CONTACTS = ArtifactPlugin(
    name="ios_contacts",
    file_names=("AddressBook.sqlitedb",),
    globs=("*/library/addressbook/addressbook.sqlitedb",),
    produces=frozenset({"contacts"}),
    variants=(
        SchemaVariant(
            "addressbook",
            {
                "ABPerson": frozenset({"ROWID", "First", "Last", "Birthday"}),
                "ABMultiValue": frozenset({"UID", "record_id", "property", "value"}),
            },
            _address_book,
        ),
    ),
)
