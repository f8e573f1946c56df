"""Kik: Android ``kikDatabase.db`` (messagesTable, KIKcontactsTable) and iOS ``kik.sqlite``
(Core Data ZKIKMESSAGE, ZKIKUSER). Schemas as documented by open forensic parsers; an app
version that differs is reported as schema drift."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from safehold.triage.plugins import ArtifactPlugin, Record, SchemaVariant
from safehold.triage.records import OWNER, DeviceContact, DeviceMessage, Provenance
from safehold.triage.time_units import apple_time, unix_millis

_IOS_SENT = 2
"""ZKIKMESSAGE.ZTYPE: 1 received, 2 sent (others are group and system messages)."""


def _android(connection: sqlite3.Connection, source: str) -> Iterator[Record]:
    rows = connection.execute(
        "SELECT _id, partner_jid, was_me, timestamp, body FROM messagesTable ORDER BY _id"
    )
    for row_id, partner, was_me, timestamp, body in rows:
        if body is None:
            continue
        from_owner = bool(was_me)
        yield DeviceMessage(
            app="kik",
            conversation_id=f"{source}#{partner}",
            message_id=str(row_id),
            sender=OWNER if from_owner else str(partner or "unknown"),
            counterpart=str(partner or "unknown"),
            sent_at=unix_millis(timestamp),
            text=str(body),
            from_owner=from_owner,
            provenance=Provenance(source, "messagesTable", str(row_id)),
        )
    contacts = connection.execute(
        "SELECT _id, jid, display_name, user_name FROM KIKcontactsTable ORDER BY _id"
    )
    for row_id, jid, display_name, user_name in contacts:
        yield DeviceContact(
            app="kik",
            name=str(display_name or user_name or jid or "") or None,
            numbers=(),
            birthday=None,
            provenance=Provenance(source, "KIKcontactsTable", str(row_id)),
        )


def _ios(connection: sqlite3.Connection, source: str) -> Iterator[Record]:
    rows = connection.execute(
        """SELECT m.Z_PK, m.ZTYPE, m.ZTIMESTAMP, m.ZBODY, u.ZJID, u.ZUSERNAME
           FROM ZKIKMESSAGE m LEFT JOIN ZKIKUSER u ON u.Z_PK = m.ZUSER ORDER BY m.Z_PK"""
    )
    for row_id, kind, timestamp, body, jid, username in rows:
        if body is None:
            continue
        from_owner = kind == _IOS_SENT
        partner = str(jid or username or "unknown")
        yield DeviceMessage(
            app="kik",
            conversation_id=f"{source}#{partner}",
            message_id=str(row_id),
            sender=OWNER if from_owner else partner,
            counterpart=partner,
            sent_at=apple_time(timestamp),
            text=str(body),
            from_owner=from_owner,
            provenance=Provenance(source, "ZKIKMESSAGE", str(row_id)),
        )


KIK_ANDROID = ArtifactPlugin(
    name="kik_android",
    file_names=("kikDatabase.db",),
    globs=("*/kik.android/databases/kikdatabase.db",),
    produces=frozenset({"messages", "contacts"}),
    variants=(
        SchemaVariant(
            "messages",
            {
                "messagesTable": frozenset({"_id", "partner_jid", "was_me", "timestamp", "body"}),
                "KIKcontactsTable": frozenset({"_id", "jid", "display_name", "user_name"}),
            },
            _android,
        ),
    ),
)

KIK_IOS = ArtifactPlugin(
    name="kik_ios",
    file_names=("kik.sqlite",),
    globs=("*/applications/*/documents/kik.sqlite",),
    produces=frozenset({"messages"}),
    variants=(
        SchemaVariant(
            "coredata",
            {
                "ZKIKMESSAGE": frozenset({"Z_PK", "ZTYPE", "ZTIMESTAMP", "ZBODY", "ZUSER"}),
                "ZKIKUSER": frozenset({"Z_PK", "ZJID", "ZUSERNAME"}),
            },
            _ios,
        ),
    ),
)
