"""``/transparency``: the public page of differentially private statistics per quarter.

It serves the releases the operator published (hub.transparency) exactly as stored: a view
reads files and draws no noise, so no number of views spends privacy budget or lets anyone
average noise away. No sign-in (``policy.PUBLIC_PATHS``); nothing personal is shown."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from safehold.hub.context import hub_context
from safehold.hub.transparency import (
    TransparencyError,
    folder_of,
    ledger_path,
    load_ledger,
    releases,
)
from safehold.hub.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/transparency")
def transparency(request: Request) -> Response:
    data_dir = hub_context(request).settings.data_dir
    folder = folder_of(data_dir)
    ledger = None
    if ledger_path(folder).exists():
        try:
            ledger = load_ledger(folder)
        except TransparencyError:
            ledger = None
    return render(
        request,
        "transparency.html",
        {"releases": releases(data_dir), "ledger": ledger},
    )
