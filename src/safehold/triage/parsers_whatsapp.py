"""WhatsApp: Android msgstore.db (the current message/chat/jid schema and the legacy
messages table) and iOS ChatStorage.sqlite (Core Data ZWAMESSAGE/ZWACHATSESSION)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from safehold.triage.plugins import ArtifactPlugin, Record, SchemaVariant
from safehold.triage.records import OWNER, DeviceMessage, Provenance
from safehold.triage.time_units import apple_time, unix_millis


def _android_current(connection: sqlite3.Connection, source: str) -> Iterator[Record]:
    rows = connection.execute(
        """SELECT m._id, m.chat_row_id, m.from_me, m.timestamp, m.text_data, j.raw_string,
                  s.raw_string
           FROM message m LEFT JOIN chat c ON c._id = m.chat_row_id
           LEFT JOIN jid j ON j._id = c.jid_row_id
           LEFT JOIN jid s ON s._id = m.sender_jid_row_id ORDER BY m._id"""
    )
    for row_id, chat_id, from_me, timestamp, text, chat_jid, sender_jid in rows:
        if text is None:
            continue  # media, calls and system rows carry no text
        from_owner = bool(from_me)
        yield DeviceMessage(
            app="whatsapp",
            conversation_id=f"{source}#chat-{chat_id}",
            message_id=str(row_id),
            sender=OWNER if from_owner else str(sender_jid or chat_jid or "unknown"),
            counterpart=str(chat_jid or "unknown"),
            sent_at=unix_millis(timestamp),
            text=str(text),
            from_owner=from_owner,
            provenance=Provenance(source, "message", str(row_id)),
        )


def _android_legacy(connection: sqlite3.Connection, source: str) -> Iterator[Record]:
    rows = connection.execute(
        "SELECT _id, key_remote_jid, key_from_me, timestamp, data, remote_resource "
        "FROM messages ORDER BY _id"
    )
    for row_id, chat_jid, from_me, timestamp, text, resource in rows:
        if text is None:
            continue
        from_owner = bool(from_me)
        yield DeviceMessage(
            app="whatsapp",
            conversation_id=f"{source}#{chat_jid}",
            message_id=str(row_id),
            sender=OWNER if from_owner else str(resource or chat_jid or "unknown"),
            counterpart=str(chat_jid or "unknown"),
            sent_at=unix_millis(timestamp),
            text=str(text),
            from_owner=from_owner,
            provenance=Provenance(source, "messages", str(row_id)),
        )


def _ios(connection: sqlite3.Connection, source: str) -> Iterator[Record]:
    rows = connection.execute(
        """SELECT m.Z_PK, m.ZCHATSESSION, m.ZISFROMME, m.ZMESSAGEDATE, m.ZTEXT, m.ZFROMJID,
                  s.ZCONTACTJID
           FROM ZWAMESSAGE m LEFT JOIN ZWACHATSESSION s ON s.Z_PK = m.ZCHATSESSION
           ORDER BY m.Z_PK"""
    )
    for row_id, chat_id, from_me, date, text, from_jid, contact_jid in rows:
        if text is None:
            continue
        from_owner = bool(from_me)
        yield DeviceMessage(
            app="whatsapp",
            conversation_id=f"{source}#chat-{chat_id}",
            message_id=str(row_id),
            sender=OWNER if from_owner else str(from_jid or contact_jid or "unknown"),
            counterpart=str(contact_jid or from_jid or "unknown"),
            sent_at=apple_time(date),
            text=str(text),
            from_owner=from_owner,
            provenance=Provenance(source, "ZWAMESSAGE", str(row_id)),
        )


WHATSAPP_ANDROID = ArtifactPlugin(
    name="whatsapp_android",
    file_names=("msgstore.db",),
    globs=("*/com.whatsapp/databases/msgstore.db",),
    produces=frozenset({"messages"}),
    variants=(
        SchemaVariant(
            "current",
            {
                "message": frozenset(
                    {"_id", "chat_row_id", "from_me", "timestamp", "text_data", "sender_jid_row_id"}
                ),
                "chat": frozenset({"_id", "jid_row_id"}),
                "jid": frozenset({"_id", "raw_string"}),
            },
            _android_current,
        ),
        SchemaVariant(
            "legacy",
            {
                "messages": frozenset(
                    {"_id", "key_remote_jid", "key_from_me", "timestamp", "data", "remote_resource"}
                )
            },
            _android_legacy,
        ),
    ),
)

WHATSAPP_IOS = ArtifactPlugin(
    name="whatsapp_ios",
    file_names=("ChatStorage.sqlite",),
    globs=("*/shared/appgroup/*/chatstorage.sqlite",),
    produces=frozenset({"messages"}),
    variants=(
        SchemaVariant(
            "coredata",
            {
                "ZWAMESSAGE": frozenset(
                    {"Z_PK", "ZCHATSESSION", "ZISFROMME", "ZMESSAGEDATE", "ZTEXT", "ZFROMJID"}
                ),
                "ZWACHATSESSION": frozenset({"Z_PK", "ZCONTACTJID"}),
            },
            _ios,
        ),
    ),
)
