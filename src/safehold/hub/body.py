"""Reading a batch request body safely: size-capped as sent, gunzipped incrementally with a
cap on the decompressed size (a gzip bomb is stopped as soon as it passes the cap, never
inflated whole), and read as one JSON Batch object or as an NDJSON batch.

Every refusal is an ApiError with a code the client can act on: 413 ``body_too_large`` or
``decompressed_too_large``, 415 for another content type or encoding, 400 for corrupt gzip
or malformed JSON (naming the line for NDJSON). Messages never quote the body."""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from safehold.exchange import BatchValidationError
from safehold.exchange.ndjson import parse_ndjson_batch
from safehold.hub.errors import ApiError
from safehold.hub.settings import HubSettings

JSON = "application/json"
NDJSON = "application/x-ndjson"
MEDIA_TYPES = {JSON: JSON, NDJSON: NDJSON, "application/ndjson": NDJSON}
"""Accepted Content-Type (without parameters) -> the format it means."""
GZIP_ENCODINGS = frozenset({"gzip", "x-gzip"})
_CHUNK = 256 * 1024  # compressed bytes fed to the decompressor at a time

BatchBody = bytes | dict[str, Any]
"""A JSON body's bytes, or an NDJSON body already grouped into a batch dict."""


@dataclass(frozen=True)
class BodyFormat:
    media_type: str
    gzipped: bool


def body_format(request: Request) -> BodyFormat:
    """The format the headers declare; 415 for anything this hub does not read."""
    raw_type = request.headers.get("content-type", "")
    media_type = MEDIA_TYPES.get(raw_type.split(";", 1)[0].strip().lower())
    if media_type is None:
        shown = raw_type.split(";", 1)[0].strip()[:100] or "none"
        raise ApiError(
            415,
            "unsupported_media_type",
            f"Content-Type '{shown}' is not accepted: send one batch as '{JSON}' or as "
            f"'{NDJSON}' (a header line, then one record per line)",
        )
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in GZIP_ENCODINGS | {"identity", ""}:
        raise ApiError(
            415,
            "unsupported_encoding",
            f"Content-Encoding '{encoding[:50]}' is not accepted: send the body as is or "
            "gzip-compressed with 'Content-Encoding: gzip'",
        )
    return BodyFormat(media_type, encoding in GZIP_ENCODINGS)


def _too_large(limit: int) -> ApiError:
    return ApiError(
        413,
        "body_too_large",
        f"the request body is larger than this hub accepts ({limit:,} bytes as sent); "
        "split the records into several batches, or gzip the body",
    )


async def read_capped(request: Request, limit: int) -> bytes:
    """The body as sent, refusing it as soon as it passes ``limit`` bytes (a declared
    Content-Length over the limit is refused before anything is read)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    parts: list[bytes] = []
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise _too_large(limit)
        parts.append(chunk)
    return b"".join(parts)


def _gunzipper() -> Any:
    return zlib.decompressobj(16 + zlib.MAX_WBITS)


def gunzip_capped(data: bytes, limit: int) -> bytes:
    """Decompress gzip ``data`` (one or more gzip members) a bounded piece at a time,
    refusing it as soon as the output passes ``limit`` bytes."""
    out: list[bytes] = []
    produced = 0
    decompressor = _gunzipper()
    in_member = False
    try:
        for start in range(0, len(data), _CHUNK):
            pending = data[start : start + _CHUNK]
            in_member = True
            while True:
                want = limit - produced + 1  # one byte over the cap is enough to know
                piece = decompressor.decompress(pending, want)
                produced += len(piece)
                if produced > limit:
                    raise ApiError(
                        413,
                        "decompressed_too_large",
                        f"the gzip body inflates to more than {limit:,} bytes, the most this "
                        "hub accepts; split the records into several smaller batches",
                    )
                out.append(piece)
                if decompressor.eof:
                    pending, decompressor, in_member = decompressor.unused_data, _gunzipper(), False
                    if not pending:
                        break
                    in_member = True
                    continue
                pending = decompressor.unconsumed_tail
                if not pending:
                    break
    except zlib.error:
        raise _bad_gzip("it is not valid gzip data") from None
    if not data:
        raise _bad_gzip("it is empty")
    if in_member:
        raise _bad_gzip("it ends before the gzip stream does (truncated?)")
    return b"".join(out)


def _bad_gzip(why: str) -> ApiError:
    return ApiError(
        400,
        "bad_gzip",
        f"the body is declared 'Content-Encoding: gzip' but {why}; compress the whole batch "
        "with gzip, or send it uncompressed without that header",
    )


def parse_json(data: bytes) -> dict[str, Any]:
    """One Batch object from a JSON body; 400 naming the line and column when it is not JSON
    or not an object."""
    try:
        parsed = json.loads(data)
    except UnicodeDecodeError:
        raise _malformed("malformed_json", "the body is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise _malformed(
            "malformed_json",
            f"the body is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
        ) from None
    if not isinstance(parsed, dict):
        raise _malformed(
            "malformed_json",
            "the body must be one JSON object (a Batch with batch_id, member_id, "
            "schema_version, created_at and records)",
        )
    return parsed


def parse_ndjson(data: bytes) -> dict[str, Any]:
    """One NDJSON batch; 400 naming the line when a line is not a JSON object or the header
    is missing or repeated."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise _malformed("malformed_ndjson", f"line {line} is not UTF-8 text") from None
    try:
        return parse_ndjson_batch(data)
    except BatchValidationError as exc:
        details = [{"index": e.index, "field": e.field, "reason": e.reason} for e in exc.errors]
        first = exc.errors[0]
        raise ApiError(
            400,
            "malformed_ndjson",
            f"the NDJSON body cannot be read: {first.field}: {first.reason}; fix that line "
            "and resend the batch",
            details,
        ) from None


def _malformed(code: str, why: str) -> ApiError:
    return ApiError(400, code, f"{why}; fix the body and resend the batch")


def decode_body(raw: bytes, fmt: BodyFormat, max_decompressed: int) -> BatchBody:
    """The batch from a body as sent: NDJSON as the dict ``validate_batch`` takes; JSON as
    its bytes, which ``validate_batch`` reads fastest (``parse_json`` explains a failure)."""
    data = gunzip_capped(raw, max_decompressed) if fmt.gzipped else raw
    return parse_ndjson(data) if fmt.media_type == NDJSON else data


async def read_batch_body(request: Request, settings: HubSettings) -> BatchBody:
    """Check the headers, read the body within ``max_body_bytes``, then decompress and parse
    it off the event loop (CPU work) within ``max_decompressed_bytes``."""
    fmt = body_format(request)
    raw = await read_capped(request, settings.max_body_bytes)
    return await run_in_threadpool(decode_body, raw, fmt, settings.max_decompressed_bytes)
