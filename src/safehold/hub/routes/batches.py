"""``POST /v1/batches``: a member contributes a batch of exchange-format records.

The batch is read safely (hub.body), validated whole, checked against the caller's member
and against the policy's write table (``policy.may_write``, the one place that decides
which tier a role may write), then stored all or nothing by ``store.ingest`` with its audit
event in the same transaction. A resend with the same batch id and content answers as the
first time did (``replayed: true``); other content under that id is a 409. Every refusal,
and a database that fails mid-batch (503: nothing stored, retry with the same id), is
audited too."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.concurrency import run_in_threadpool

from safehold.exchange import Batch, BatchValidationError, RecordError, validate_batch
from safehold.hub.auth import Principal, authorize
from safehold.hub.body import JSON, NDJSON, BatchBody, parse_json, read_batch_body
from safehold.hub.context import HubContext, hub_context
from safehold.hub.errors import ApiError
from safehold.hub.policy import Action, may_write, write_denial
from safehold.store import audit
from safehold.store.audit import Outcome
from safehold.store.ingest import BatchConflictError, duplicate_ids, ingest_batch

router = APIRouter(prefix="/v1", tags=["batches"])

RETRY_AFTER_SECONDS = 5
_BATCH_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")

_REQUEST_BODY = {
    "required": True,
    "description": (
        "One batch: a Batch object as JSON, or NDJSON (a header line with batch_id, "
        "member_id, schema_version and created_at, then one record per line). Either may be "
        "gzip-compressed with 'Content-Encoding: gzip'."
    ),
    "content": {JSON: {"schema": {"type": "object"}}, NDJSON: {"schema": {"type": "string"}}},
}


@dataclass
class _Attempt:
    """What is known about the request so far, for the audit event of a refusal."""

    batch_id: str | None = None


@router.post(
    "/batches",
    status_code=201,
    openapi_extra={"x-safehold-action": Action.BATCH_SUBMIT.value, "requestBody": _REQUEST_BODY},
    responses={
        200: {"description": "A replay: this batch was already accepted with this content."},
        400: {"description": "Malformed JSON or NDJSON, or corrupt gzip."},
        403: {
            "description": "Another member's batch, or records of a tier the role may not write."
        },
        409: {"description": "The batch id was already used for other content."},
        413: {"description": "The body, or its decompressed size, is over the limit."},
        415: {"description": "Not JSON or NDJSON, or an encoding other than gzip."},
        422: {"description": "Invalid records; details list every problem."},
        503: {"description": "The database failed; nothing was stored; retry with the same id."},
    },
)
async def submit_batch(
    request: Request,
    principal: Annotated[Principal, Depends(authorize(Action.BATCH_SUBMIT))],
) -> JSONResponse:
    """Store a batch all or nothing. 201 with the counts per record type and per tier."""
    hub = hub_context(request)
    attempt = _Attempt()
    try:
        data = await read_batch_body(request, hub.settings)
        if isinstance(data, dict):
            attempt.batch_id = _claimed_id(data)
        status, body = await run_in_threadpool(_submit, hub, principal, data, attempt)
    except ApiError as exc:
        await run_in_threadpool(_audit_refusal, hub, principal, exc, attempt.batch_id)
        raise
    return JSONResponse(body, status_code=status)


def _submit(
    hub: HubContext, principal: Principal, data: BatchBody, attempt: _Attempt
) -> tuple[int, dict[str, Any]]:
    batch = _validated(data, attempt)
    member_id = _own_member(principal, batch)
    _check_tiers(principal, batch)
    return _store(hub, principal, member_id, batch)


def _claimed_id(data: dict[str, Any]) -> str | None:
    """The batch id the body claims, if it is a well-formed id (for audit events only)."""
    value = data.get("batch_id")
    return value if isinstance(value, str) and _BATCH_ID.fullmatch(value) else None


def _details(errors: list[RecordError]) -> list[dict[str, Any]]:
    return [{"index": e.index, "field": e.field, "reason": e.reason} for e in errors]


def _validated(data: BatchBody, attempt: _Attempt) -> Batch:
    """The whole batch validated, with no id repeated inside it; 422 listing every problem.
    A JSON body that is not one JSON object at all is a 400 instead."""
    try:
        batch = validate_batch(data)
    except BatchValidationError as exc:
        if isinstance(data, bytes):
            attempt.batch_id = _claimed_id(parse_json(data))
        raise _rejected(exc.errors) from None
    attempt.batch_id = batch.batch_id
    duplicates = duplicate_ids(batch)
    if duplicates:
        raise _rejected(duplicates)
    return batch


def _rejected(errors: list[RecordError]) -> ApiError:
    return ApiError(
        422,
        "batch_rejected",
        f"the batch was rejected and nothing was stored: {len(errors)} problem(s), each listed "
        "in details with the record index (null for the batch header) and field; fix them "
        "and resend the whole batch",
        _details(errors),
    )


def _own_member(principal: Principal, batch: Batch) -> str:
    if principal.member_id is None or principal.member_id != batch.member_id:
        mine = f"member '{principal.member_id}'" if principal.member_id else "no member"
        raise ApiError(
            403,
            "member_mismatch",
            f"the batch header names member '{batch.member_id}' but this API key belongs to "
            f"{mine}; a member submits only its own batches: set member_id to its own id",
        )
    return principal.member_id


def _check_tiers(principal: Principal, batch: Batch) -> None:
    """The policy's write table, asked once per record type; 403 listing every record the
    role may not write, so that nothing of a mixed batch is stored."""
    verdicts: dict[str, bool] = {}
    denied: list[dict[str, Any]] = []
    for index, record in enumerate(batch.records):
        record_type = record.record_type
        if record_type not in verdicts:
            verdicts[record_type] = may_write(principal.role, record_type)
        if not verdicts[record_type]:
            denied.append(
                {
                    "index": index,
                    "field": "record_type",
                    "reason": write_denial(principal.role, record_type),
                }
            )
    if denied:
        refused = sorted(t for t, ok in verdicts.items() if not ok)
        raise ApiError(
            403,
            "tier_denied",
            f"nothing was stored: {len(denied)} record(s) are of types a "
            f"{principal.role.value} member may not write ({', '.join(refused)}); remove them "
            "and resend the batch",
            denied,
        )


def _store(
    hub: HubContext, principal: Principal, member_id: str, batch: Batch
) -> tuple[int, dict[str, Any]]:
    try:
        with hub.sessions() as session, session.begin():
            result = ingest_batch(session, member_id, batch)
            audit.append(
                session,
                principal.event(
                    Action.BATCH_SUBMIT.value,
                    Outcome.OK,
                    [batch.batch_id],
                    {
                        "accepted": result.accepted,
                        "by_type": result.by_type,
                        "by_tier": result.by_tier,
                        "replayed": result.replayed,
                    },
                ),
            )
    except BatchConflictError as exc:
        raise ApiError(409, "batch_conflict", str(exc)) from None
    except IntegrityError:
        raise ApiError(
            409,
            "concurrent_write",
            f"another request wrote some of the same records while batch '{batch.batch_id}' "
            "was being stored; nothing of this batch was stored: retry it with the same batch id",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        ) from None
    except (DBAPIError, PoolTimeoutError):
        raise ApiError(
            503,
            "database_unavailable",
            f"the database failed while storing batch '{batch.batch_id}'; nothing of this "
            "batch was stored: retry with the same batch id (a batch is only ever stored once)",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        ) from None
    return (200 if result.replayed else 201), result.body()


def _audit_refusal(
    hub: HubContext, principal: Principal, exc: ApiError, batch_id: str | None
) -> None:
    if exc.status >= 500:
        outcome = Outcome.ERROR
    elif exc.status in {401, 403}:
        outcome = Outcome.DENIED
    else:
        outcome = Outcome.REJECTED
    detail: dict[str, Any] = {"reason": exc.code, "status": exc.status}
    if exc.details:
        detail["problems"] = len(exc.details)
    hub.audit.record(
        principal.event(Action.BATCH_SUBMIT.value, outcome, [batch_id] if batch_id else [], detail)
    )
