"""Android telephony providers: SMS (mmssms.db), call log (contacts2.db or calllog.db) and
the address book (contacts2.db), in the providers' own schemas."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from safehold.triage.plugins import ArtifactPlugin, Record, SchemaVariant
from safehold.triage.records import OWNER, DeviceCall, DeviceContact, DeviceMessage, Provenance
from safehold.triage.time_units import unix_millis

_CALL_TYPES = {1: "incoming", 2: "outgoing", 3: "missed", 5: "rejected"}
_BIRTHDAY_EVENT = 3
"""ContactsContract.CommonDataKinds.Event.TYPE_BIRTHDAY."""


def _sms(connection: sqlite3.Connection, source: str) -> Iterator[Record]:
    rows = connection.execute(
        "SELECT _id, thread_id, address, date, type, body FROM sms ORDER BY _id"
    )
    for row_id, thread_id, address, date, kind, body in rows:
        from_owner = kind in (2, 4, 5, 6)  # sent, outbox, failed, queued
        yield DeviceMessage(
            app="android_sms",
            conversation_id=f"{source}#thread-{thread_id}",
            message_id=str(row_id),
            sender=OWNER if from_owner else str(address or "unknown"),
            counterpart=str(address or "unknown"),
            sent_at=unix_millis(date),
            text=str(body or ""),
            from_owner=from_owner,
            provenance=Provenance(source, "sms", str(row_id)),
        )


def _calls(connection: sqlite3.Connection, source: str) -> Iterator[Record]:
    rows = connection.execute("SELECT _id, number, date, duration, type FROM calls ORDER BY _id")
    for row_id, number, date, duration, kind in rows:
        yield DeviceCall(
            app="android_calls",
            number=str(number or ""),
            started_at=unix_millis(date),
            duration_s=int(duration or 0),
            direction=_CALL_TYPES.get(int(kind or 0), "other"),
            provenance=Provenance(source, "calls", str(row_id)),
        )


def _contacts(connection: sqlite3.Connection, source: str) -> Iterator[Record]:
    rows = connection.execute(
        """SELECT r._id, r.display_name, m.mimetype, d.data1, d.data2
           FROM raw_contacts r JOIN data d ON d.raw_contact_id = r._id
           JOIN mimetypes m ON m._id = d.mimetype_id ORDER BY r._id, d._id"""
    )
    people: dict[int, tuple[str | None, list[str], str | None]] = {}
    for row_id, name, mimetype, data1, data2 in rows:
        _, numbers, birthday = people.setdefault(int(row_id), (name, [], None))
        if mimetype == "vnd.android.cursor.item/phone_v2" and data1:
            numbers.append(str(data1))
        elif mimetype == "vnd.android.cursor.item/contact_event" and str(data2) == str(
            _BIRTHDAY_EVENT
        ):
            people[int(row_id)] = (name, numbers, str(data1))
    for row_id, (name, numbers, birthday) in people.items():
        yield DeviceContact(
            app="android_contacts",
            name=name,
            numbers=tuple(numbers),
            birthday=birthday,
            provenance=Provenance(source, "raw_contacts", str(row_id)),
        )


ANDROID_SMS = ArtifactPlugin(
    name="android_sms",
    file_names=("mmssms.db",),
    globs=("*/com.android.providers.telephony/databases/mmssms.db",),
    produces=frozenset({"messages"}),
    variants=(
        SchemaVariant(
            "sms", {"sms": frozenset({"_id", "thread_id", "address", "date", "type", "body"})}, _sms
        ),
    ),
)

ANDROID_CALLS = ArtifactPlugin(
    name="android_calls",
    file_names=("calllog.db", "contacts2.db"),
    globs=(
        "*/com.android.providers.contacts/databases/calllog.db",
        "*/com.android.providers.contacts/databases/contacts2.db",
    ),
    produces=frozenset({"calls"}),
    variants=(
        SchemaVariant(
            "calls", {"calls": frozenset({"_id", "number", "date", "duration", "type"})}, _calls
        ),
    ),
)

ANDROID_CONTACTS = ArtifactPlugin(
    name="android_contacts",
    file_names=("contacts2.db",),
    globs=("*/com.android.providers.contacts/databases/contacts2.db",),
    produces=frozenset({"contacts"}),
    variants=(
        SchemaVariant(
            "contacts",
            {
                "raw_contacts": frozenset({"_id", "display_name"}),
                "data": frozenset({"_id", "raw_contact_id", "mimetype_id", "data1", "data2"}),
                "mimetypes": frozenset({"_id", "mimetype"}),
            },
            _contacts,
        ),
    ),
)
