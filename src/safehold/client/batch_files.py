"""Batches from a prepared folder, and batch files (NDJSON, optionally gzip) on disk.

Batch ids are deterministic: member id, record type, chunk number and a short hash of the
chunk's content (and ``created_at`` is when the prepared files were written). Preparing the
same raw data again and submitting it again therefore sends the same ids with the same
content, and the hub's idempotency (same id, same content: same answer) prevents duplicates.
Every batch is validated against the exchange models before it is written or sent."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import re
import tempfile
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import polars as pl
from pydantic import ValidationError

from safehold.exchange import (
    SCHEMA_VERSION,
    Batch,
    BatchValidationError,
    Member,
    RecordError,
    validate_batch,
)
from safehold.exchange.batch import MAX_BATCH_RECORDS
from safehold.exchange.ndjson import batch_lines, iter_batch_file

DEFAULT_BATCH_RECORDS = 10_000
BATCH_FILE_SUFFIXES = (".ndjson", ".ndjson.gz")
_FILE_ORDER = (
    "registry_entries",
    "cohort_labels",
    "account_keys",
    "behaviour",
    "contact_events",
    "conversations",
    "signals",
)
"""Prepared files in a stable order (any others follow, sorted by name)."""
_HASH_CHARS = 12
_ID_MAX = 64
_PENDING_ID = "pending"
_IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")


class BatchFileError(ValueError):
    """A prepared folder or batch file that cannot be turned into valid batches. The message
    names the file, the batch or row and the field, never a value."""


def is_batch_file(path: Path) -> bool:
    return path.name.endswith(BATCH_FILE_SUFFIXES)


@dataclass
class BatchSummary:
    """What a set of batches holds: counts per record type, and the batch ids in order."""

    batch_ids: list[str] = field(default_factory=list)
    records: Counter[str] = field(default_factory=Counter)
    batches_by_type: Counter[str] = field(default_factory=Counter)

    def add(self, batch: Batch) -> None:
        self.batch_ids.append(batch.batch_id)
        record_type = _record_type(batch)
        self.records[record_type] += len(batch.records)
        self.batches_by_type[record_type] += 1

    @property
    def total_records(self) -> int:
        return sum(self.records.values())


def read_prepared_member(folder: Path) -> Member:
    """The member a prepared folder belongs to (its ``member.json``)."""
    path = folder / "member.json"
    try:
        return Member.model_validate_json(path.read_bytes())
    except FileNotFoundError:
        raise BatchFileError(
            f"{path} is missing; pass a folder written by `safehold member prepare`"
        ) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise BatchFileError(f"{path}: field '{where}': {first['msg']}") from None


def prepared_at(folder: Path) -> datetime:
    """When the prepared files were written (latest modification, whole seconds, UTC). Used
    as every batch's ``created_at`` so that building batches twice from the same folder
    gives byte-identical batches."""
    paths = [folder / "member.json", *folder.glob("*.parquet")]
    latest = max(p.stat().st_mtime for p in paths if p.exists())
    return datetime.fromtimestamp(int(latest), tz=UTC)


def batches_from_prepared(
    folder: Path,
    *,
    max_records: int = DEFAULT_BATCH_RECORDS,
    created_at: datetime | None = None,
) -> Iterator[Batch]:
    """The batches of a prepared folder, one record type at a time, each of at most
    ``max_records`` records, validated, with deterministic ids."""
    if not 1 <= max_records <= MAX_BATCH_RECORDS:
        raise BatchFileError(
            f"batch size {max_records:,} is out of range; use 1 to {MAX_BATCH_RECORDS:,} records"
        )
    member = read_prepared_member(folder)
    when = created_at or prepared_at(folder)
    for path in _prepared_files(folder):
        frame = pl.read_parquet(path)
        for chunk, start in enumerate(range(0, frame.height, max_records), start=1):
            rows = frame.slice(start, max_records).to_dicts()
            yield _chunk_batch(member.member_id, rows, chunk, when, path, start)


def _prepared_files(folder: Path) -> list[Path]:
    found = {p.stem: p for p in folder.glob("*.parquet")}
    ordered = [found.pop(name) for name in _FILE_ORDER if name in found]
    return ordered + [found[name] for name in sorted(found)]


def _chunk_batch(
    member_id: str,
    rows: list[dict[str, Any]],
    chunk: int,
    created_at: datetime,
    path: Path,
    first_row: int,
) -> Batch:
    draft = {
        "batch_id": _PENDING_ID,
        "member_id": member_id,
        "schema_version": SCHEMA_VERSION,
        "created_at": created_at,
        "records": rows,
    }
    try:
        batch = validate_batch(draft)
    except BatchValidationError as exc:
        raise BatchFileError(f"{path}: {_describe(exc.errors, first_row, 'row')}") from None
    types = {record.record_type for record in batch.records}
    if len(types) != 1:
        raise BatchFileError(
            f"{path}: holds records of {len(types)} types; a prepared file holds one record type"
        )
    return batch.model_copy(update={"batch_id": chunk_batch_id(batch, chunk)})


def chunk_batch_id(batch: Batch, chunk: int) -> str:
    """``<member>:<record type>:<chunk>:<hash>``; the hash covers the member, the type, the
    chunk number and every record, so a truncated member id still gives unique ids."""
    record_type = _record_type(batch)
    digest = hashlib.sha256(f"{batch.member_id}\0{record_type}\0{chunk}\0".encode())
    for line in _record_lines(batch):
        digest.update(line.encode())
        digest.update(b"\n")
    tail = f":{record_type}:{chunk:05d}:{digest.hexdigest()[:_HASH_CHARS]}"
    return batch.member_id[: _ID_MAX - len(tail)] + tail


def _record_lines(batch: Batch) -> Iterator[str]:
    lines = batch_lines(batch)
    next(lines)  # the header
    return lines


def _record_type(batch: Batch) -> str:
    return str(batch.records[0].record_type)


def batch_bytes(batch: Batch) -> bytes:
    """One batch as NDJSON bytes (header line, then one line per record)."""
    return ("\n".join(batch_lines(batch)) + "\n").encode()


def write_batch_file(path: Path, batches: Iterable[Batch]) -> BatchSummary:
    """Write batches one after another to ``path`` (gzip when it ends in ``.gz``), whole or
    not at all: the file is written beside the destination and renamed into place."""
    if not is_batch_file(path):
        raise BatchFileError(f"{path}: a batch file name ends in .ndjson or .ndjson.gz")
    summary = BatchSummary()
    seen: set[str] = set()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, staging = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as raw, _compressed(raw, path) as out:
            for batch in batches:
                if batch.batch_id in seen:
                    raise BatchFileError(
                        f"{path}: batch id {batch.batch_id} occurs twice; each batch needs its own id"
                    )
                seen.add(batch.batch_id)
                out.write(batch_bytes(batch))
                summary.add(batch)
            out.flush()
        os.replace(staging, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(staging)
        raise
    return summary


@contextlib.contextmanager
def _compressed(raw: IO[bytes], path: Path) -> Iterator[IO[bytes]]:
    if not path.name.endswith(".gz"):
        yield raw
        return
    # No file name or time in the gzip header: the same batches give the same bytes.
    with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as zipped:
        yield zipped  # type: ignore[misc]


def _open_lines(path: Path) -> IO[bytes]:
    raw = path.open("rb")
    if raw.read(2) == b"\x1f\x8b":
        raw.seek(0)
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    raw.seek(0)
    return raw


def read_batch_file(path: Path) -> Iterator[Batch]:
    """Each batch of a batch file (plain or gzip NDJSON), validated; errors name the file,
    the batch (its position and id) and the record index and field."""
    with _read_errors(path), _open_lines(path) as handle:
        for number, data in enumerate(iter_batch_file(handle), start=1):
            try:
                yield validate_batch(data)
            except BatchValidationError as exc:
                name = _safe_id(data.get("batch_id"))
                raise BatchFileError(
                    f"{path}: batch {number}{name}: {_describe(exc.errors, 0, 'record')}"
                ) from None


def read_batch_dicts(path: Path) -> Iterator[dict[str, Any]]:
    """Each batch of a batch file as an unvalidated dict (for skipping batches cheaply)."""
    with _read_errors(path), _open_lines(path) as handle:
        yield from iter_batch_file(handle)


@contextlib.contextmanager
def _read_errors(path: Path) -> Iterator[None]:
    try:
        yield
    except FileNotFoundError:
        raise BatchFileError(f"{path} does not exist") from None
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise BatchFileError(
            f"{path}: the gzip data is damaged or cut short ({type(exc).__name__}); "
            "write the batch file again with `safehold member prepare`"
        ) from None
    except UnicodeDecodeError:
        raise BatchFileError(
            f"{path} is not a batch file (it is not UTF-8 text); pass the .ndjson or .ndjson.gz "
            "file that `safehold member prepare` wrote"
        ) from None
    except BatchValidationError as exc:
        raise BatchFileError(f"{path}: {_describe(exc.errors, 0, 'record')}") from None


def count_batches(path: Path) -> int:
    """How many batches a batch file holds, by counting header lines without parsing the
    records (for progress only)."""
    count = 0
    with _read_errors(path), _open_lines(path) as handle:
        for line in handle:
            if b'"batch_id"' in line and b'"record_type"' not in line:
                count += 1
    return count


def _safe_id(value: object) -> str:
    """A batch id to quote in a message, only when it is a well-formed identifier."""
    if isinstance(value, str) and _IDENTIFIER.fullmatch(value):
        return f" ({value})"
    return ""


def _describe(errors: list[RecordError], offset: int, unit: str) -> str:
    shown = []
    for error in errors[:5]:
        where = f"{unit} {offset + error.index}" if error.index is not None else "batch"
        shown.append(f"{where}, field '{error.field}': {error.reason}")
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return "; ".join(shown) + more
