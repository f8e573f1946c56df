import sqlite3
from pathlib import Path

from safehold.triage.artifacts import run_plugins
from safehold.triage.extraction import read_folder


def _db(path: Path, *statements: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path)
    for statement in statements:
        connection.execute(statement)
    connection.commit()
    connection.close()


def test_kik_android_and_ios_messages_with_provenance(tmp_path: Path) -> None:
    root = tmp_path / "device"
    _db(
        root / "data/data/kik.android/databases/kikDatabase.db",
        "CREATE TABLE messagesTable (_id INTEGER PRIMARY KEY, body TEXT, partner_jid TEXT, "
        "was_me INT, read_state INT, uid TEXT, timestamp INT)",
        "CREATE TABLE KIKcontactsTable (_id INTEGER PRIMARY KEY, jid TEXT, display_name TEXT, "
        "user_name TEXT)",
        "INSERT INTO messagesTable VALUES (1, 'hi there', 'pal_x@talk.kik.com', 0, 1, 'u1', 1700000000000)",
        "INSERT INTO messagesTable VALUES (2, 'hello', 'pal_x@talk.kik.com', 1, 1, 'u2', 1700000060000)",
        "INSERT INTO messagesTable VALUES (3, NULL, 'pal_x@talk.kik.com', 1, 1, 'u3', 1700000090000)",
        "INSERT INTO KIKcontactsTable VALUES (1, 'pal_x@talk.kik.com', 'Pal', 'pal_x')",
    )
    _db(
        root / "private/var/mobile/Containers/Data/Application/X/Documents/kik.sqlite",
        "CREATE TABLE ZKIKUSER (Z_PK INTEGER PRIMARY KEY, ZJID TEXT, ZUSERNAME TEXT, ZDISPLAYNAME TEXT)",
        "CREATE TABLE ZKIKMESSAGE (Z_PK INTEGER PRIMARY KEY, ZTYPE INT, ZSTATE INT, ZTIMESTAMP REAL, "
        "ZBODY TEXT, ZUSER INT, ZCHAT INT)",
        "INSERT INTO ZKIKUSER VALUES (4, 'friend_y@talk.kik.com', 'friend_y', 'Friend')",
        "INSERT INTO ZKIKMESSAGE VALUES (10, 1, 0, 720000000.0, 'are you there', 4, 1)",
        "INSERT INTO ZKIKMESSAGE VALUES (11, 2, 0, 720000030.0, 'yes', 4, 1)",
    )
    results = run_plugins(read_folder(root))
    assert results.not_processed == []
    kik = [m for m in results.messages if m.app == "kik"]
    assert [(m.text, m.from_owner) for m in kik] == [
        ("hi there", False),
        ("hello", True),
        ("are you there", False),
        ("yes", True),
    ]
    assert kik[2].sent_at is not None and kik[2].sent_at.year == 2023
    assert kik[3].provenance.table == "ZKIKMESSAGE" and kik[3].provenance.row_id == "11"
    assert [c.name for c in results.contacts] == ["Pal"]


def test_unknown_chat_databases_are_discovered_by_schema_shape(tmp_path: Path) -> None:
    root = tmp_path / "device"
    _db(
        root / "data/data/com.example.chat/databases/store.db",
        "CREATE TABLE conversation_items (id INTEGER PRIMARY KEY, peer TEXT, content TEXT, "
        "created_time INT)",
        "INSERT INTO conversation_items VALUES (1, 'a', 'hello', 1)",
        "CREATE TABLE settings (key TEXT, value TEXT)",
        "INSERT INTO settings VALUES ('theme', 'dark')",
    )
    _db(root / "empty.db", "CREATE TABLE notes (text TEXT, date INT)")
    results = run_plugins(read_folder(root))
    [found] = results.discovered
    assert (found.path, found.table, found.text_column, found.time_column, found.rows) == (
        "data/data/com.example.chat/databases/store.db",
        "conversation_items",
        "content",
        "created_time",
        1,
    )


def test_encrypted_backups_are_listed_with_the_reason(tmp_path: Path) -> None:
    backups = tmp_path / "device" / "sdcard" / "WhatsApp" / "Databases"
    backups.mkdir(parents=True)
    (backups / "msgstore.db.crypt14").write_bytes(b"\x00\x01" * 500)
    results = run_plugins(read_folder(tmp_path / "device"))
    [listed] = results.not_processed
    assert listed.path == "sdcard/WhatsApp/Databases/msgstore.db.crypt14"
    assert "needs the key" in listed.reason
