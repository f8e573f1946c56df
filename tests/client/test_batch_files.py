"""Prepared folders to batches with deterministic ids, and batch files written and read back."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from safehold.client.batch_files import (
    BatchFileError,
    batch_bytes,
    batches_from_prepared,
    chunk_batch_id,
    count_batches,
    read_batch_dicts,
    read_batch_file,
    write_batch_file,
)
from safehold.exchange import validate_batch
from safehold.identity.prepare import prepare_member
from tests.client.worlds import TinyWorld, make_tiny_world

IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
WHEN = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> TinyWorld:
    return make_tiny_world(tmp_path_factory.mktemp("batch-files"))


@pytest.fixture(scope="module")
def prepared(world: TinyWorld) -> Path:
    out = world.root / "prepared" / "plat-large-1"
    prepare_member(world.members / "plat-large-1", world.key, out)
    return out


def test_chunks_cover_every_record_in_capped_batches(prepared: Path) -> None:
    batches = list(batches_from_prepared(prepared, max_records=150, created_at=WHEN))
    expected = {p.stem: pl.read_parquet(p).height for p in prepared.glob("*.parquet")}
    assert all(1 <= len(b.records) <= 150 for b in batches)
    by_type: dict[str, int] = {}
    for batch in batches:
        assert batch.member_id == "plat-large-1"
        assert len({r.record_type for r in batch.records}) == 1
        by_type[batch.records[0].record_type] = by_type.get(batch.records[0].record_type, 0) + len(
            batch.records
        )
    assert by_type == {
        "account_keys": expected["account_keys"],
        "behaviour": expected["behaviour"],
        "contact_event": expected["contact_events"],
        "conversation": expected["conversations"],
    }


def test_batch_ids_are_deterministic_across_preparations(world: TinyWorld, tmp_path: Path) -> None:
    """Preparing the same raw data twice gives the same ids, whatever the time."""
    first = tmp_path / "one"
    second = tmp_path / "two"
    prepare_member(world.members / "plat-small-1", world.key, first)
    prepare_member(world.members / "plat-small-1", world.key, second)
    ids_one = [b.batch_id for b in batches_from_prepared(first, max_records=50)]
    ids_two = [
        b.batch_id
        for b in batches_from_prepared(second, max_records=50, created_at=datetime.now(UTC))
    ]
    assert ids_one == ids_two
    assert len(set(ids_one)) == len(ids_one) > 4
    for batch_id in ids_one:
        assert IDENTIFIER.match(batch_id) and len(batch_id) <= 64
        member, record_type, chunk, digest = batch_id.split(":")
        assert member == "plat-small-1"
        assert record_type in {"account_keys", "behaviour", "contact_event", "conversation"}
        assert chunk.isdigit() and re.fullmatch(r"[0-9a-f]{12}", digest)
    assert ids_one[0].startswith("plat-small-1:account_keys:00001:")
    assert ids_one[1].startswith("plat-small-1:account_keys:00002:")


def test_batches_from_one_folder_are_byte_identical(prepared: Path) -> None:
    one = [batch_bytes(b) for b in batches_from_prepared(prepared, max_records=500)]
    two = [batch_bytes(b) for b in batches_from_prepared(prepared, max_records=500)]
    assert one == two


def test_changed_content_changes_the_id(prepared: Path) -> None:
    batch = next(iter(batches_from_prepared(prepared, max_records=20, created_at=WHEN)))
    changed = validate_batch(
        {
            **batch.model_dump(mode="json", exclude_none=True),
            "records": [r.model_dump(mode="json", exclude_none=True) for r in batch.records[1:]],
        }
    )
    assert chunk_batch_id(batch, 1) == batch.batch_id
    assert chunk_batch_id(changed, 1) != batch.batch_id
    assert chunk_batch_id(batch, 2) != batch.batch_id


def test_long_member_ids_are_cut_to_fit_and_stay_unique(prepared: Path, tmp_path: Path) -> None:
    folder = tmp_path / "long"
    shutil.copytree(prepared, folder)
    member = (folder / "member.json").read_text()
    long_id = "p" + "x" * 60
    (folder / "member.json").write_text(member.replace("plat-large-1", long_id))
    ids = [b.batch_id for b in batches_from_prepared(folder, max_records=100)]
    assert all(len(i) <= 64 and IDENTIFIER.match(i) for i in ids)
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("name", ["out.ndjson", "out.ndjson.gz"])
def test_batch_file_round_trip(prepared: Path, tmp_path: Path, name: str) -> None:
    batches = list(batches_from_prepared(prepared, max_records=300, created_at=WHEN))
    path = tmp_path / name
    summary = write_batch_file(path, batches)
    assert summary.batch_ids == [b.batch_id for b in batches]
    assert summary.total_records == sum(len(b.records) for b in batches)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == name.endswith(".gz")
    back = list(read_batch_file(path))
    assert back == batches
    assert count_batches(path) == len(batches)
    assert [d["batch_id"] for d in read_batch_dicts(path)] == summary.batch_ids
    assert not list(tmp_path.glob(".*")), "no staging file is left behind"


def test_gzip_batch_files_are_reproducible(prepared: Path, tmp_path: Path) -> None:
    batches = list(batches_from_prepared(prepared, max_records=300, created_at=WHEN))
    write_batch_file(tmp_path / "a.ndjson.gz", batches)
    write_batch_file(tmp_path / "b.ndjson.gz", batches)
    assert (tmp_path / "a.ndjson.gz").read_bytes() == (tmp_path / "b.ndjson.gz").read_bytes()


def test_an_invalid_prepared_row_names_file_row_and_field(prepared: Path, tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    shutil.copytree(prepared, folder)
    behaviour = pl.read_parquet(folder / "behaviour.parquet")
    broken = behaviour.with_columns(
        pl.when(pl.int_range(pl.len()) == 7)
        .then(pl.lit("1999-13"))
        .otherwise(pl.col("period_start"))
        .alias("period_start")
    )
    broken.write_parquet(folder / "behaviour.parquet")
    with pytest.raises(BatchFileError) as caught:
        list(batches_from_prepared(folder, max_records=5))
    message = str(caught.value)
    assert "behaviour.parquet" in message
    assert "row 7" in message
    assert "period_start" in message
    assert "1999-13" not in message


def test_writing_duplicate_batch_ids_fails_and_leaves_nothing(
    prepared: Path, tmp_path: Path
) -> None:
    batch = next(iter(batches_from_prepared(prepared, created_at=WHEN)))
    path = tmp_path / "dup.ndjson.gz"
    with pytest.raises(BatchFileError, match="occurs twice"):
        write_batch_file(path, [batch, batch])
    assert list(tmp_path.iterdir()) == []


def test_damaged_batch_files_are_named_not_quoted(prepared: Path, tmp_path: Path) -> None:
    batches = list(batches_from_prepared(prepared, max_records=300, created_at=WHEN))
    path = tmp_path / "cut.ndjson.gz"
    write_batch_file(path, batches)
    path.write_bytes(path.read_bytes()[:-200])
    with pytest.raises(BatchFileError, match="damaged or cut short"):
        list(read_batch_file(path))


def test_an_invalid_record_in_a_batch_file_is_named_not_quoted(
    prepared: Path, tmp_path: Path
) -> None:
    batch = next(iter(batches_from_prepared(prepared, max_records=300, created_at=WHEN)))
    lines = batch_bytes(batch).decode().splitlines()
    pseudonym = batch.records[2].model_dump()["subject"]["pseudonym"]
    lines[3] = lines[3].replace('"kind":"account"', '"kind":"passport"', 1)
    plain = tmp_path / "bad.ndjson"
    plain.write_text("\n".join(lines) + "\n")
    with pytest.raises(BatchFileError) as caught:
        list(read_batch_file(plain))
    message = str(caught.value)
    assert f"batch 1 ({batch.batch_id})" in message
    assert "record 2" in message and "subject.kind" in message
    assert pseudonym not in message and "passport" not in message


def test_a_missing_member_json_says_what_to_pass(tmp_path: Path) -> None:
    with pytest.raises(BatchFileError, match=r"member\.json is missing"):
        list(batches_from_prepared(tmp_path))


def test_batch_size_is_bounded(prepared: Path) -> None:
    with pytest.raises(BatchFileError, match="out of range"):
        list(batches_from_prepared(prepared, max_records=0))


def test_a_file_that_is_not_a_batch_file_is_named(tmp_path: Path) -> None:
    binary = tmp_path / "photo.ndjson"
    binary.write_bytes(b"\xff\xd8\xff\xe0 not text")
    with pytest.raises(BatchFileError, match="not UTF-8 text"):
        list(read_batch_dicts(binary))
    text = tmp_path / "notes.ndjson"
    text.write_text("hello\n")
    with pytest.raises(BatchFileError, match="line 1"):
        list(read_batch_file(text))
