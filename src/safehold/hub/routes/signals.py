"""Platform-to-platform signals: platforms post and withdraw their own signals and read
everyone's as a delta feed (changes after a checkpoint, tombstones included).

Readers see each signal under the hub's opaque ``signal_key`` only: never the member that
sent it, never that member's own ``signal_id``. Writes are validated whole and stored all
or nothing, with their audit event in the same transaction. A read is audited with the
checkpoints it spans, which (the change log being append-only) names exactly the changes
it disclosed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from safehold.exchange import Signal
from safehold.hub.auth import Principal, authorize
from safehold.hub.context import DbSession
from safehold.hub.errors import ApiError
from safehold.hub.json_requests import (
    RawBody,
    audit_refusals,
    member_of,
    parse_json,
    refuse_repeats,
    request_schema,
)
from safehold.hub.policy import Action
from safehold.store import audit
from safehold.store.audit import Outcome
from safehold.store.signals import (
    CheckpointAheadError,
    read_changes,
    upsert_signals,
    withdraw_signal,
)

router = APIRouter(prefix="/v1", tags=["signals"])

MAX_SIGNALS = 10_000
"""Signals in one POST."""
DEFAULT_PAGE = 1_000
MAX_PAGE = 10_000
"""Changes in one page of the feed."""
_MAX_CHECKPOINT = 2**63 - 1
_UNSTORED = "nothing was stored"


class SignalsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    signals: list[Signal] = Field(min_length=1, max_length=MAX_SIGNALS)


@router.post(
    "/signals",
    openapi_extra={
        "x-safehold-action": Action.SIGNALS_WRITE.value,
        **request_schema(SignalsRequest),
    },
    responses={422: {"description": "Rejected whole (signals_rejected); nothing was stored."}},
)
def post_signals(
    request: Request,
    principal: Annotated[Principal, Depends(authorize(Action.SIGNALS_WRITE))],
    raw: RawBody,
    session: DbSession,
) -> dict[str, object]:
    """Create or update the caller's signals, all or nothing. Re-sending a signal unchanged
    changes nothing: ``{"created", "updated", "unchanged"}``."""
    detail: dict[str, Any] = {}
    with audit_refusals(request, principal, Action.SIGNALS_WRITE, detail):
        member_id = member_of(principal)
        signals = parse_json(SignalsRequest, raw, "signals_rejected", "signals", _UNSTORED).signals
        detail["signals"] = len(signals)
        _refuse_repeated_ids(signals)
    with session.begin():
        # Signals before the audit event: writers take the change-log lock, then the head's.
        written = upsert_signals(session, member_id, signals)
        counts: dict[str, object] = {
            "created": written.created,
            "updated": written.updated,
            "unchanged": written.unchanged,
        }
        audit.append(
            session,
            principal.event(
                Action.SIGNALS_WRITE.value,
                Outcome.OK,
                object_ids=[s.signal_id for s in signals],
                detail=counts,
            ),
        )
    return counts


def _refuse_repeated_ids(signals: list[Signal]) -> None:
    refuse_repeats(
        [s.signal_id for s in signals],
        "signal_id",
        "signal",
        "each signal may appear once per request: remove or merge the repeat",
        code="signals_rejected",
        items="signals",
        effect=_UNSTORED,
    )


@router.delete(
    "/signals/{signal_id}",
    openapi_extra={"x-safehold-action": Action.SIGNALS_WRITE.value},
    responses={404: {"description": "The caller has no signal with this id."}},
)
def delete_signal(
    signal_id: str,
    request: Request,
    principal: Annotated[Principal, Depends(authorize(Action.SIGNALS_WRITE))],
    session: DbSession,
) -> dict[str, Any]:
    """Withdraw one of the caller's own signals: readers receive its tombstone."""
    with audit_refusals(request, principal, Action.SIGNALS_WRITE, {"op": "delete"}):
        member_id = member_of(principal)
        with session.begin():
            if not withdraw_signal(session, member_id, signal_id):
                raise ApiError(
                    404,
                    "no_such_signal",
                    "this member has no signal with that signal_id; only the member that "
                    "sent a signal can withdraw it",
                )
            audit.append(
                session,
                principal.event(
                    Action.SIGNALS_WRITE.value,
                    Outcome.OK,
                    object_ids=[signal_id],
                    detail={"op": "delete"},
                ),
            )
    return {"signal_id": signal_id, "deleted": True}


@router.get(
    "/signals",
    openapi_extra={"x-safehold-action": Action.SIGNALS_READ.value},
    responses={
        422: {"description": "since or limit is not a valid number, or since is past the feed."}
    },
)
def get_signals(
    request: Request,
    principal: Annotated[Principal, Depends(authorize(Action.SIGNALS_READ))],
    session: DbSession,
    since: Annotated[
        str,
        Query(description="The checkpoint of your last page; 0 for the full current state."),
    ] = "0",
    limit: Annotated[
        str, Query(description=f"Changes per page, 1 to {MAX_PAGE:,} (default {DEFAULT_PAGE:,}).")
    ] = str(DEFAULT_PAGE),
) -> JSONResponse:
    """The changes after ``since``, in order, each signal at most once per page with its
    current state (``op`` upsert) or its tombstone (``op`` delete); ``checkpoint`` to pass
    as the next ``since``, and ``more`` while further pages wait."""
    with audit_refusals(request, principal, Action.SIGNALS_READ, {}):
        after = _whole(since, "since", 0, _MAX_CHECKPOINT)
        size = _whole(limit, "limit", 1, MAX_PAGE)
        try:
            with session.begin():
                page = read_changes(session, after, size)
                audit.append(
                    session,
                    principal.event(
                        Action.SIGNALS_READ.value,
                        Outcome.OK,
                        detail={
                            "since": after,
                            "checkpoint": page.checkpoint,
                            "changes": len(page.changes),
                        },
                    ),
                )
        except CheckpointAheadError as exc:
            raise ApiError(
                422,
                "checkpoint_ahead",
                str(exc),
                [{"index": None, "field": "since", "reason": "past the last change"}],
            ) from None
    return JSONResponse(
        {
            "changes": [change.body() for change in page.changes],
            "checkpoint": page.checkpoint,
            "more": page.more,
        }
    )


def _whole(raw: str, name: str, lowest: int, highest: int) -> int:
    value = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 19 else None
    if value is None or not lowest <= value <= highest:
        raise ApiError(
            422,
            "bad_query",
            f"'{name}' must be a whole number from {lowest:,} to {highest:,}",
            [{"index": None, "field": name, "reason": "not a whole number in range"}],
        )
    return value
