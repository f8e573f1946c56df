"""Web errors as pages: sign-in redirects, 403 and 404 pages, htmx-friendly fragments."""

from __future__ import annotations

from fastapi import FastAPI, Request
from starlette.responses import RedirectResponse, Response

from safehold.hub.web.session import SignInRequiredError, WebError, signin_redirect_target
from safehold.hub.web.templating import render


async def _sign_in_required(request: Request, exc: Exception) -> Response:
    target = signin_redirect_target(request)
    if request.headers.get("hx-request"):
        return Response(status_code=401, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


async def _web_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, WebError)
    template = "fragment_error.html" if request.headers.get("hx-request") else "error.html"
    return render(
        request,
        template,
        {"status": exc.status, "title": exc.title or "Not possible", "message": exc.message},
        status=exc.status,
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(SignInRequiredError, _sign_in_required)
    app.add_exception_handler(WebError, _web_error)
