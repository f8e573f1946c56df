import shutil
import sqlite3
from pathlib import Path

import pytest

from safehold.triage.archives import open_extraction
from safehold.triage.artifacts import run_plugins
from safehold.triage.extraction import read_folder

PUBLIC = Path(__file__).resolve().parents[3] / "shared" / "testdata" / "public" / "android"
needs_public = pytest.mark.skipif(not PUBLIC.exists(), reason="public test data not present")


def _evidence(tmp_path: Path) -> Path:
    """The public databases laid out at their standard Android locations, in a temp copy."""
    root = tmp_path / "device"
    telephony = root / "data/data/com.android.providers.telephony/databases"
    contacts = root / "data/data/com.android.providers.contacts/databases"
    telephony.mkdir(parents=True)
    contacts.mkdir(parents=True)
    shutil.copyfile(PUBLIC / "mmssms.db", telephony / "mmssms.db")
    shutil.copyfile(PUBLIC / "contacts2.db", contacts / "contacts2.db")
    return root


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@needs_public
def test_public_android_databases_give_their_known_row_counts(tmp_path: Path) -> None:
    root = _evidence(tmp_path)
    before = _snapshot(root)
    results = run_plugins(read_folder(root))
    assert results.summary["android_sms"].rows == 9
    assert results.summary["android_calls"].rows == 3
    assert len(results.messages) == 9
    assert {m.conversation_id for m in results.messages} == {
        "data/data/com.android.providers.telephony/databases/mmssms.db#thread-1"
    }
    first = results.messages[0]
    assert (first.provenance.table, first.provenance.row_id) == ("sms", "1")
    assert first.text == "Yo Fred this is my new number."
    assert first.sent_at is not None and first.sent_at.year == 2013
    assert [c.direction for c in results.calls] == ["missed", "outgoing", "incoming"]
    # This stripped-down contacts2.db has no raw_contacts table: reported, not fatal.
    (drift,) = [n for n in results.not_processed if n.reason.startswith("android_contacts")]
    assert "schema drift" in drift.reason and "raw_contacts" in drift.reason
    assert _snapshot(root) == before, "triage wrote into the evidence"


@needs_public
def test_database_file_name_is_found_anywhere(tmp_path: Path) -> None:
    odd = tmp_path / "dump" / "some" / "other" / "place"
    odd.mkdir(parents=True)
    shutil.copyfile(PUBLIC / "mmssms.db", odd / "MMSSMS.DB")
    results = run_plugins(read_folder(tmp_path / "dump"))
    assert results.summary["android_sms"].source_files == ["some/other/place/MMSSMS.DB"]


def _wal_only_database(folder: Path) -> Path:
    """An sms.db-like Android database whose rows exist only in its -wal file."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "mmssms.db"
    writer = sqlite3.connect(path)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute(
        "CREATE TABLE sms (_id INTEGER PRIMARY KEY, thread_id INTEGER, address TEXT, "
        "date INTEGER, type INTEGER, body TEXT)"
    )
    writer.commit()
    # Keep the schema in the main file, the rows only in the WAL.
    writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    writer.executemany(
        "INSERT INTO sms (thread_id, address, date, type, body) VALUES (1, ?, ?, 1, ?)",
        [("07700900001", 1_700_000_000_000 + i, f"wal row {i}") for i in range(5)],
    )
    writer.commit()
    # Copy while the writer is still open: the WAL has not been checkpointed into the db.
    snapshot = folder.parent / "snap"
    snapshot.mkdir()
    shutil.copyfile(path, snapshot / "mmssms.db")
    shutil.copyfile(folder / "mmssms.db-wal", snapshot / "mmssms.db-wal")
    writer.close()
    return snapshot


def test_rows_only_in_the_write_ahead_log_are_read(tmp_path: Path) -> None:
    snapshot = _wal_only_database(tmp_path / "live")
    # Without its WAL the main file holds the schema but none of the rows.
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copyfile(snapshot / "mmssms.db", alone / "mmssms.db")
    assert run_plugins(read_folder(alone)).summary["android_sms"].rows == 0
    before = _snapshot(snapshot)
    results = run_plugins(read_folder(snapshot))
    assert [m.text for m in results.messages] == [f"wal row {i}" for i in range(5)]
    assert _snapshot(snapshot) == before


def test_corrupt_and_drifted_databases_are_listed_and_triage_goes_on(tmp_path: Path) -> None:
    root = tmp_path / "device"
    (root / "a").mkdir(parents=True)
    (root / "b").mkdir()
    (root / "c").mkdir()
    (root / "a" / "mmssms.db").write_bytes(b"SQLite format 3\x00" + b"\xff" * 5000)
    drifted = sqlite3.connect(root / "b" / "mmssms.db")
    drifted.execute("CREATE TABLE sms (_id INTEGER PRIMARY KEY, thread_id INTEGER, msg TEXT)")
    drifted.commit()
    drifted.close()
    _wal_only_database(root / "c" / "live")
    results = run_plugins(read_folder(root))
    reasons = {n.path: n.reason for n in results.not_processed}
    assert "not a readable SQLite database" in reasons["a/mmssms.db"]
    assert "schema drift" in reasons["b/mmssms.db"]
    assert "sms.body" in reasons["b/mmssms.db"]
    # Both the closed (checkpointed) database and its WAL-only snapshot are read in full.
    assert results.summary["android_sms"].rows == 10


def test_truncated_zip_is_listed_not_raised(tmp_path: Path) -> None:
    import zipfile

    archive = tmp_path / "phone.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("data/notes.txt", "x" * 10_000)
    cut = tmp_path / "cut.zip"
    cut.write_bytes(archive.read_bytes()[:60])
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    extraction = open_extraction(cut, scratch)
    assert not extraction.entries
    assert "truncated" in extraction.not_processed[0].reason
