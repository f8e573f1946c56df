"""Synthetic Telegram for Android: a ``cache4.db`` with ``messages_v2``, ``users`` and
``dialogs``, each message's ``data`` a TL-serialized ``message`` object (flags, id,
from_id and peer_id as ``peerUser``, date, message text) as recent API layers lay it out,
plus one service message per chat (``messageService``: an action, no text), which triage
must count as unreadable rather than guess at."""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

MESSAGE = 0x94345242
"""``message`` constructor id of a recent layer (the parser does not depend on it)."""
MESSAGE_SERVICE = 0x2B085862
USER = 0x215C4438
PEER_USER = 0x59511722
ACTION_CONTACT_SIGN_UP = 0xF3F25F76
OWNER_ID = 5_000_000_001

TELEGRAM_CACHE4 = (
    "CREATE TABLE messages_v2(mid INTEGER, uid INTEGER, read_state INTEGER, send_state "
    "INTEGER, date INTEGER, data BLOB, out INTEGER, ttl INTEGER, media INTEGER, replydata "
    "BLOB, imp INTEGER, mention INTEGER, forwards INTEGER, replies_data BLOB, thread_reply_id "
    "INTEGER, is_channel INTEGER, reply_to_message_id INTEGER, custom_params BLOB, group_id "
    "INTEGER, reply_to_story_id INTEGER, PRIMARY KEY(mid, uid))",
    "CREATE TABLE users(uid INTEGER PRIMARY KEY, name TEXT, status INTEGER, data BLOB)",
    "CREATE TABLE dialogs(did INTEGER PRIMARY KEY, date INTEGER, unread_count INTEGER, "
    "last_mid INTEGER, inbox_max INTEGER, outbox_max INTEGER, last_mid_i INTEGER, "
    "unread_count_i INTEGER, pts INTEGER, date_i INTEGER, pinned INTEGER, flags INTEGER, "
    "folder_id INTEGER, data BLOB, unread_reactions INTEGER, last_mid_group INTEGER, "
    "ttl_period INTEGER)",
)


def tl_string(text: str) -> bytes:
    """TL ``string``: a length byte (or 0xFE and three bytes), UTF-8, zero padding to 4."""
    raw = text.encode("utf-8")
    head = bytes([len(raw)]) if len(raw) < 0xFE else b"\xfe" + len(raw).to_bytes(3, "little")
    body = head + raw
    return body + b"\x00" * (-len(body) % 4)


def _peer(user_id: int) -> bytes:
    return struct.pack("<Iq", PEER_USER, user_id)


def message_blob(mid: int, peer: int, sender: int, date: int, text: str) -> bytes:
    flags = 1 << 8  # from_id present
    head = struct.pack("<IIIi", MESSAGE, flags, 0, mid)
    return head + _peer(sender) + _peer(peer) + struct.pack("<i", date) + tl_string(text)


def service_blob(mid: int, peer: int, date: int) -> bytes:
    head = struct.pack("<IIi", MESSAGE_SERVICE, 1 << 8, mid)
    return head + _peer(peer) + _peer(peer) + struct.pack("<iI", date, ACTION_CONTACT_SIGN_UP)


def user_blob(user_id: int, first: str, last: str, phone_digits: str) -> bytes:
    flags = (1 << 1) | (1 << 2) | (1 << 4)  # first_name, last_name, phone
    head = struct.pack("<IIIqq", USER, flags, 0, user_id, user_id * 7919 % 2**62)
    return head + tl_string(first) + tl_string(last) + tl_string(phone_digits)


def write_cache4(
    path: Path,
    chats: Sequence[tuple[str, str, Sequence[tuple[bool, datetime, str]]]],
) -> int:
    """Write ``cache4.db`` for ``chats`` of (name, E.164 digits, messages); returns the
    number of text messages written (service messages are extra)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path)
    try:
        for statement in TELEGRAM_CACHE4:
            connection.execute(statement)
        written = 0
        for n, (name, digits, messages) in enumerate(chats, start=1):
            uid = 6_000_000_000 + n
            first, _, last = name.partition(" ")
            connection.execute(
                "INSERT INTO users (uid, name, status, data) VALUES (?, ?, 0, ?)",
                (uid, f"{name.lower()};;;", user_blob(uid, first, last, digits)),
            )
            mid = 0
            for mid, (from_owner, at, text) in enumerate(messages, start=1):
                date = int(at.timestamp())
                sender = OWNER_ID if from_owner else uid
                connection.execute(
                    "INSERT INTO messages_v2 (mid, uid, read_state, send_state, date, data, out, "
                    "ttl, media) VALUES (?, ?, 1, 0, ?, ?, ?, 0, 0)",
                    (mid, uid, date, message_blob(mid, uid, sender, date, text), int(from_owner)),
                )
                written += 1
            if messages:
                first_date = int(messages[0][1].timestamp())
                connection.execute(
                    "INSERT INTO messages_v2 (mid, uid, read_state, send_state, date, data, out, "
                    "ttl, media) VALUES (?, ?, 1, 0, ?, ?, 0, 0, 0)",
                    (mid + 1, uid, first_date, service_blob(mid + 1, uid, first_date)),
                )
                connection.execute(
                    "INSERT INTO dialogs (did, date, unread_count, last_mid) VALUES (?, ?, 0, ?)",
                    (uid, int(messages[-1][1].timestamp()), mid),
                )
        connection.commit()
    finally:
        connection.close()
    return written
