"""Telegram for Android (cache4.db): message text read from the TL blobs of messages_v2,
service messages counted as unreadable (never guessed at), users with their phone numbers,
and a synthetic Telegram device triaged end to end. No public cache4.db is in the shared
test data, so the extraction is synthetic."""

from __future__ import annotations

import sqlite3
import struct
from datetime import UTC, datetime
from pathlib import Path

from safehold.synth.device_telegram import message_blob, service_blob, tl_string, write_cache4
from safehold.synth.devices import DeviceSpec, generate_devices
from safehold.triage.artifacts import run_plugins
from safehold.triage.extraction import read_folder
from safehold.triage.parsers_telegram import message_text, user_phone
from safehold.triage.parsers_telegram import tl_string as read_tl_string
from safehold.triage.run import triage_device

AT = datetime(2026, 10, 1, 18, 0, tzinfo=UTC)


def test_tl_strings_short_and_long_round_trip_and_bad_padding_is_refused() -> None:
    for text in ("", "hi", "x" * 253, "y" * 254, "ünïcode " * 100):
        blob = b"\x00" * 4 + tl_string(text)
        assert read_tl_string(blob, 4) == (text, len(blob))
    assert read_tl_string(b"\x02ab\x01", 0) is None, "non-zero padding"
    assert read_tl_string(b"\x05ab", 0) is None, "shorter than its length"


def test_text_follows_the_date_whatever_comes_before_it() -> None:
    date = int(AT.timestamp())
    blob = message_blob(7, 42, 42, date, "see you after school?")
    assert message_text(blob, date) == "see you after school?"
    # A layer with an extra optional field before the date still reads.
    longer = blob[:28] + struct.pack("<q", 99) + blob[28:]
    assert message_text(longer, date) == "see you after school?"
    assert message_text(service_blob(8, 42, date), date) is None
    assert message_text(blob, date + 1) is None, "no date, no text"


def test_cache4_messages_users_and_the_unreadable_count(tmp_path: Path) -> None:
    root = tmp_path / "device"
    db = root / "data/data/org.telegram.messenger/files/cache4.db"
    chats = [
        ("Sam Lee", "447700900111", [(False, AT, "hello"), (True, AT, "hi Sam")]),
        ("Jo Park", "447700900222", [(False, AT, "are you 14?")]),
    ]
    assert write_cache4(db, chats) == 3
    connection = sqlite3.connect(db)
    connection.execute(
        "INSERT INTO messages_v2 (mid, uid, date, data, out) VALUES (9, -100, ?, ?, 0)",
        (int(AT.timestamp()), message_blob(9, 100, 77, int(AT.timestamp()), "group hello")),
    )
    connection.commit()
    connection.close()
    results = run_plugins(read_folder(root))
    telegram = [m for m in results.messages if m.app == "telegram"]
    assert sorted(m.text for m in telegram) == ["are you 14?", "group hello", "hello", "hi Sam"]
    sam = [m for m in telegram if m.counterpart == "+447700900111"]
    assert [m.from_owner for m in sam] == [False, True]
    assert sam[0].provenance.table == "messages_v2" and sam[0].sent_at == AT
    group = next(m for m in telegram if m.text == "group hello")
    assert group.counterpart == "telegram-chat:100"
    assert sorted((c.name, c.numbers) for c in results.contacts) == [
        ("jo park", ("+447700900222",)),
        ("sam lee", ("+447700900111",)),
    ]
    assert results.summary["telegram_android"].rows == 6  # 4 messages and 2 users
    [unreadable] = results.not_processed
    assert unreadable.path.endswith("cache4.db") and "2 messages_v2 rows" in unreadable.reason
    assert user_phone(None) is None


def test_a_synthetic_telegram_device_is_triaged_with_its_grooming_chats(tmp_path: Path) -> None:
    spec = DeviceSpec(
        "tg-1", "android", True, grooming_conversations=3, other_conversations=3, telegram=True
    )
    [truth] = generate_devices(tmp_path, [spec], seed=4, known_count=4)
    report = triage_device(tmp_path / "devices" / "tg-1", hash_index=None)
    assert truth.telegram_messages > 0
    assert report.artifacts["telegram_android"].rows >= truth.telegram_messages
    apps = {c.app for c in report.conversations}
    assert "telegram" in apps, "Telegram chats with a child are scored like the others"
    assert sum(c.warned for c in report.conversations) >= 1
