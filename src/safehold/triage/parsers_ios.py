"""iOS Messages (sms.db): SMS and iMessage in Apple's schema (message, handle, chat and
chat_message_join)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from safehold.triage.plugins import ArtifactPlugin, Record, SchemaVariant
from safehold.triage.records import OWNER, DeviceMessage, Provenance
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
