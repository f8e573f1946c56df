"""Batches as NDJSON: one header line, then one record per line.

The header is a JSON object with ``batch_id``, ``member_id``, ``schema_version`` and
``created_at`` (and no ``record_type``); every following line is one exchange record. A
batch *file* may hold several batches one after another, each starting with its header, so
that a member's export of any size is one file that submits as many capped batches. Errors
name the line (1-based) and never quote its content."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from safehold.exchange.batch import Batch, BatchValidationError, RecordError

HEADER_FIELDS = ("batch_id", "member_id", "schema_version", "created_at")


def batch_lines(batch: Batch) -> Iterator[str]:
    """The NDJSON lines of one batch (no trailing newlines)."""
    header = batch.model_dump(mode="json", include=set(HEADER_FIELDS))
    yield json.dumps(header, separators=(",", ":"))
    for record in batch.records:
        yield record.model_dump_json(exclude_none=True)


def is_header(obj: dict[str, Any]) -> bool:
    return "batch_id" in obj and "record_type" not in obj


def _objects(lines: Iterable[bytes | str]) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BatchValidationError(
                [RecordError(None, f"line {number}", f"not valid JSON ({exc.msg})")]
            ) from None
        if not isinstance(obj, dict):
            raise BatchValidationError(
                [RecordError(None, f"line {number}", "each line must be a JSON object")]
            )
        yield number, obj


def parse_ndjson_batch(data: bytes | str) -> dict[str, Any]:
    """One NDJSON batch as the dict ``validate_batch`` takes. Structural problems (bad JSON,
    a missing or second header) raise BatchValidationError naming the line."""
    lines = data.splitlines()
    batches = list(_group(_objects(lines)))
    if len(batches) != 1:
        raise BatchValidationError(
            [
                RecordError(
                    None,
                    "(ndjson)",
                    f"expected one batch (one header line), found {len(batches)}; "
                    "send the batches of a file one at a time",
                )
            ]
        )
    return batches[0]


def iter_batch_file(lines: Iterable[bytes | str]) -> Iterator[dict[str, Any]]:
    """Each batch of a batch file, as a dict for ``validate_batch``."""
    yield from _group(_objects(lines))


def _group(objects: Iterator[tuple[int, dict[str, Any]]]) -> Iterator[dict[str, Any]]:
    current: dict[str, Any] | None = None
    for number, obj in objects:
        if is_header(obj):
            if current is not None:
                yield current
            current = {**obj, "records": []}
        elif current is None:
            raise BatchValidationError(
                [
                    RecordError(
                        None,
                        f"line {number}",
                        "a record came before any header line; a batch starts with "
                        '{"batch_id": ..., "member_id": ..., "schema_version": ..., "created_at": ...}',
                    )
                ]
            )
        else:
            current["records"].append(obj)
    if current is not None:
        yield current
