"""Registry checks: a platform sends keyed pseudonyms of its own accounts and learns, for
each, match or no match; never the list, never which member holds an entry, never counts.

The answer carries the offence typology only where coalition policy discloses it
(``registry_disclose_typology``). Checks are rate-limited per member in accounts checked
(hub.ratelimit) and every one is audited: the refs that matched (the accounts disclosed as
matches) and how many were checked, never a pseudonym.

This module also holds the small JSON-body helpers the signals routes share: the body is
read here (capped) and validated strictly against the request model, so that a refusal has
the hub's error shape and never quotes the values sent."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from safehold.exchange import SubjectRef
from safehold.exchange.base import Identifier
from safehold.hub.auth import Principal, authorize
from safehold.hub.context import DbSession, hub_context
from safehold.hub.errors import ApiError
from safehold.hub.policy import Action
from safehold.hub.ratelimit import registry_check_limiter, retry_after
from safehold.store import audit
from safehold.store.audit import Outcome
from safehold.store.registry import check_accounts

router = APIRouter(prefix="/v1", tags=["registry"])

MAX_IDENTIFIERS = 20
"""Identifiers per account in one check."""
MAX_DETAILS = 1_000
"""Problems listed in one refusal; the message gives the total."""

M = TypeVar("M", bound=BaseModel)
_UNCHECKED = "nothing was checked"


# --- shared JSON-body helpers ------------------------------------------------------------


async def json_body(request: Request) -> bytes:
    """The request body, refused as soon as it passes the hub's ``max_body_bytes``."""
    limit = hub_context(request).settings.max_body_bytes
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in {"identity", ""}:
        raise ApiError(
            415,
            "unsupported_encoding",
            f"Content-Encoding '{encoding[:50]}' is not accepted here: send the JSON body "
            "uncompressed",
        )
    too_large = ApiError(
        413,
        "body_too_large",
        f"the request body is larger than this hub accepts ({limit:,} bytes); "
        "send fewer items per request",
    )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    parts: list[bytes] = []
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise too_large
        parts.append(chunk)
    return b"".join(parts)


RawBody = Annotated[bytes, Depends(json_body)]


def parse_json(model: type[M], raw: bytes, code: str, items: str, effect: str) -> M:
    """``raw`` validated strictly against ``model``. A refusal is 400 ``malformed_json``, or
    422 ``code`` with one ``{"index", "field", "reason"}`` per problem, where ``index`` is
    the position in the ``items`` list; reasons never quote a value. ``effect`` says what
    did not happen ("nothing was stored")."""
    try:
        return model.model_validate_json(raw, strict=True)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False, include_context=False)
    if any(e["type"] == "json_invalid" for e in errors):
        raise ApiError(
            400,
            "malformed_json",
            f"the request body is not valid JSON: send one object with an '{items}' list",
        )
    details = [_problem(error, items) for error in errors]
    raise refusal(code, details, items, effect)


def refusal(code: str, details: list[dict[str, Any]], items: str, effect: str) -> ApiError:
    """422 listing ``details`` (at most MAX_DETAILS of them)."""
    return ApiError(
        422,
        code,
        f"the request was rejected with {len(details):,} problem(s), listed by their index in "
        f"'{items}' and field; {effect}: correct them and send the request again",
        details[:MAX_DETAILS],
    )


def _problem(error: Any, items: str) -> dict[str, Any]:
    loc = list(error["loc"])
    index: int | None = None
    if len(loc) >= 2 and loc[0] == items and isinstance(loc[1], int):
        index, loc = loc[1], loc[2:]
    field = ".".join(str(part) for part in loc) or "(item)"
    # pydantic's messages name the expected form, never the input (include_input=False).
    return {"index": index, "field": field, "reason": str(error["msg"])}


def request_schema(model: type[BaseModel]) -> dict[str, Any]:
    """OpenAPI ``requestBody`` for a route that validates ``model`` itself: the model's JSON
    Schema with its ``$defs`` inlined (they would not resolve inside an OpenAPI document)."""
    schema = model.model_json_schema()
    defs: dict[str, Any] = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                rest = {k: v for k, v in node.items() if k != "$ref"}
                return inline({**defs[ref.removeprefix("#/$defs/")], **rest})
            return {k: inline(v) for k, v in node.items()}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": inline(schema)}},
        }
    }


@contextmanager
def audit_refusals(
    request: Request, principal: Principal, action: Action, detail: dict[str, Any]
) -> Iterator[None]:
    """Audit an ApiError raised inside (denied for 403/404/429, rejected otherwise), with
    ``detail`` as filled so far, then let it propagate."""
    try:
        yield
    except ApiError as exc:
        outcome = Outcome.DENIED if exc.status in {403, 404, 429} else Outcome.REJECTED
        hub_context(request).audit.record(
            principal.event(
                action.value,
                outcome,
                detail={**detail, "error": exc.code, "status": exc.status},
            )
        )
        raise


def member_of(principal: Principal) -> str:
    """The caller's member; member-less keys cannot hold member data."""
    if principal.member_id is None:
        raise ApiError(403, "no_member", "this route needs the API key of a member")
    return principal.member_id


# --- the check ----------------------------------------------------------------------------


class AccountToCheck(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    ref: Identifier = Field(
        description="Your own opaque token for the account (a row number, say), echoed back; "
        "never the account id itself."
    )
    identifiers: list[SubjectRef] = Field(
        min_length=1,
        max_length=MAX_IDENTIFIERS,
        description="Keyed pseudonyms of the account's identifiers (email, phone, username).",
    )


class CheckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    accounts: list[AccountToCheck] = Field(
        min_length=1, description="The accounts to check, up to the hub's per-request limit."
    )


@router.post(
    "/registry/check",
    openapi_extra={
        "x-safehold-action": Action.REGISTRY_CHECK.value,
        **request_schema(CheckRequest),
    },
    responses={
        413: {"description": "More accounts than one request may hold."},
        422: {"description": "The body does not follow the schema; nothing was checked."},
        429: {"description": "The member's check rate is used up; see Retry-After."},
    },
)
def check(
    request: Request,
    principal: Annotated[Principal, Depends(authorize(Action.REGISTRY_CHECK))],
    raw: RawBody,
    session: DbSession,
) -> JSONResponse:
    """Match or no match for each account, in request order:
    ``{"results": [{"ref", "match", "typology"}], "checked": n}``. ``typology`` is null
    unless coalition policy discloses it."""
    hub = hub_context(request)
    settings = hub.settings
    limiter = registry_check_limiter(request)
    detail: dict[str, Any] = {}
    with audit_refusals(request, principal, Action.REGISTRY_CHECK, detail):
        member_id = member_of(principal)
        body = parse_json(CheckRequest, raw, "check_rejected", "accounts", _UNCHECKED)
        accounts = body.accounts
        detail["accounts"] = len(accounts)
        most = min(settings.max_check_accounts, limiter.capacity)
        if len(accounts) > most:
            raise ApiError(
                413,
                "too_many_accounts",
                f"this request holds {len(accounts):,} accounts; this hub checks at most "
                f"{most:,} per request: split them into several requests",
            )
        _refuse_repeated_refs(accounts)
        wait = limiter.take(member_id, len(accounts))
        if wait > 0:
            after = retry_after(wait)
            raise ApiError(
                429,
                "rate_limited",
                f"this member may check {limiter.capacity:,} accounts at once and "
                f"{settings.registry_checks_per_minute:,} per minute; this request of "
                f"{len(accounts):,} fits again in {after} s: retry then",
                headers={"Retry-After": after},
            )
    disclose = settings.registry_disclose_typology
    with session.begin():
        answers = check_accounts(session, accounts)
        matched = [a.ref for a in answers if a.match]
        audit.append(
            session,
            principal.event(
                Action.REGISTRY_CHECK.value,
                Outcome.OK,
                object_ids=matched,
                detail={"accounts": len(accounts), "matches": len(matched)},
            ),
        )
    results = [
        {"ref": a.ref, "match": a.match, "typology": a.typology if disclose else None}
        for a in answers
    ]
    return JSONResponse({"results": results, "checked": len(results)})


def _refuse_repeated_refs(accounts: list[AccountToCheck]) -> None:
    first: dict[str, int] = {}
    details = [
        {
            "index": index,
            "field": "ref",
            "reason": f"repeats the ref of account {first[account.ref]}; each account in a "
            "request needs its own ref",
        }
        for index, account in enumerate(accounts)
        if first.setdefault(account.ref, index) != index
    ]
    if details:
        raise refusal("check_rejected", details, "accounts", _UNCHECKED)
