"""JSON request bodies for the routes that validate their own models (registry checks,
signals): read with a cap, validated strictly, refused in the hub's error shape with one
``{"index", "field", "reason"}`` per problem and never a value sent; refusals audited."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from pydantic import BaseModel, ValidationError

from safehold.hub.auth import Principal
from safehold.hub.context import hub_context
from safehold.hub.errors import ApiError
from safehold.hub.policy import Action
from safehold.store.audit import Outcome

MAX_DETAILS = 1_000
"""Problems listed in one refusal; the message gives the total."""

M = TypeVar("M", bound=BaseModel)


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


def refuse_repeats(
    keys: Sequence[str], field: str, unit: str, rule: str, *, code: str, items: str, effect: str
) -> None:
    """422 naming every item whose ``field`` repeats an earlier one's (and which one)."""
    first: dict[str, int] = {}
    details = [
        {
            "index": index,
            "field": field,
            "reason": f"repeats the {field} of {unit} {first[key]}; {rule}",
        }
        for index, key in enumerate(keys)
        if first.setdefault(key, index) != index
    ]
    if details:
        raise refusal(code, details, items, effect)
