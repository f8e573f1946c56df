"""Telegram for Android: ``cache4.db`` (tables ``messages_v2``, ``users``, ``dialogs``).

Telegram keeps each message as a serialized TL object (``messages_v2.data``) whose field
layout changes with the API layer, so a full decoder per layer is not feasible here. What
is stable across layers: a ``message`` object carries ``date:int`` immediately followed by
``message:string``, and the row's ``date`` column holds the same value. The parser finds
that date at a 4-byte boundary of the blob and reads the TL string after it (length byte,
or 0xFE and three length bytes; UTF-8; zero padding to 4 bytes), checking each step; a blob
where this fails (service messages, media without a caption, an unknown layout) is counted
and the count listed in ``not_processed``, never guessed at.

Users: ``users.name`` holds the display name (Telegram stores it lower-cased, with
``;;;username`` appended); the phone number, when the user shared it, is read as the first
TL string of 7 to 15 digits in ``users.data``. Dialogs with a positive id are one-to-one
chats with that user; negative ids are groups and channels."""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Iterator
from datetime import UTC, datetime

from safehold.triage.plugins import ArtifactPlugin, Record, SchemaVariant
from safehold.triage.records import (
    OWNER,
    DeviceContact,
    DeviceMessage,
    NotProcessed,
    Provenance,
)

_LONG_STRING = 0xFE


def tl_string(blob: bytes, offset: int) -> tuple[str, int] | None:
    """The TL string at ``offset`` and the offset after it, or None if none is there."""
    if offset >= len(blob):
        return None
    first = blob[offset]
    if first == _LONG_STRING:
        if offset + 4 > len(blob):
            return None
        length = int.from_bytes(blob[offset + 1 : offset + 4], "little")
        start = offset + 4
        if length < _LONG_STRING:
            return None  # a long form for a short string: not a TL string
    else:
        if first == 0xFF:
            return None
        length, start = first, offset + 1
    end = start + length
    padded = end + (-(end - offset) % 4)
    if padded > len(blob) or any(blob[end:padded]):
        return None
    try:
        return blob[start:end].decode("utf-8"), padded
    except UnicodeDecodeError:
        return None


def message_text(blob: bytes, date: int) -> str | None:
    """The text of a TL ``message`` whose ``date`` is known, or None if it cannot be read."""
    if not 0 <= date < 2**31:
        return None
    marker = struct.pack("<i", date)
    at = blob.find(marker, 8)
    while at != -1:
        if at % 4 == 0:
            found = tl_string(blob, at + 4)
            if found is not None:
                return found[0]
        at = blob.find(marker, at + 1)
    return None


def user_phone(blob: bytes | None) -> str | None:
    """The first TL string of 7 to 15 digits in a user's TL blob (the phone, when shared)."""
    if not blob:
        return None
    for offset in range(8, len(blob) - 8, 4):
        length = blob[offset]
        if 7 <= length <= 15:
            found = tl_string(blob, offset)
            if found is not None and found[0].isdigit():
                return "+" + found[0]
    return None


def _display_name(stored: object) -> str | None:
    text = str(stored or "").split(";;;", 1)[0].strip()
    return text or None


def _messages(connection: sqlite3.Connection, source: str) -> Iterator[Record]:
    users = {
        int(uid): (_display_name(name), user_phone(data))
        for uid, name, data in connection.execute("SELECT uid, name, data FROM users")
    }
    for uid, (name, phone) in sorted(users.items()):
        yield DeviceContact(
            app="telegram",
            name=name,
            numbers=(phone,) if phone else (),
            birthday=None,
            provenance=Provenance(source, "users", str(uid)),
        )
    unreadable = 0
    rows = connection.execute(
        "SELECT mid, uid, date, data, out FROM messages_v2 ORDER BY uid, date, mid"
    )
    for mid, uid, date, data, out in rows:
        text = message_text(bytes(data), int(date)) if data is not None and date else None
        if not text:
            unreadable += 1
            continue
        dialog = int(uid)
        if dialog > 0:
            _, phone = users.get(dialog, (None, None))
            partner = phone or f"telegram:{dialog}"
        else:
            partner = f"telegram-chat:{-dialog}"
        from_owner = bool(out)
        yield DeviceMessage(
            app="telegram",
            conversation_id=f"{source}#{dialog}",
            message_id=f"{dialog}:{mid}",
            sender=OWNER if from_owner else partner,
            counterpart=partner,
            sent_at=datetime.fromtimestamp(int(date), tz=UTC),
            text=text,
            from_owner=from_owner,
            provenance=Provenance(source, "messages_v2", f"{dialog}:{mid}"),
        )
    if unreadable:
        yield NotProcessed(
            source,
            f"telegram: {unreadable} messages_v2 rows hold no readable text in their TL blob "
            "(service messages, media without a caption, or an unknown layout)",
        )


TELEGRAM_ANDROID = ArtifactPlugin(
    name="telegram_android",
    file_names=("cache4.db",),
    globs=("*/org.telegram.messenger*/files/cache4.db",),
    produces=frozenset({"messages", "contacts"}),
    variants=(
        SchemaVariant(
            "messages_v2",
            {
                "messages_v2": frozenset({"mid", "uid", "date", "data", "out"}),
                "users": frozenset({"uid", "name", "data"}),
                "dialogs": frozenset({"did"}),
            },
            _messages,
        ),
    ),
)
