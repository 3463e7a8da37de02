"""The browser as one Starlette application: routes, the login page, errors, static files."""

from __future__ import annotations

import logging
import urllib.parse
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from archive.browse import views, works
from archive.browse.db import ReadOnlyArchive
from archive.browse.guard import COOKIE, Guard, safe_next, session_value, slow_down, token_matches
from archive.browse.options import BrowseOptions
from archive.browse.respond import environment, respond

log = logging.getLogger(__name__)

STATIC = Path(__file__).with_name("static")
MAX_LOGIN_BODY = 4096


def _error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    detail = exc.detail if isinstance(exc, HTTPException) else "internal error"
    if status == 500:
        log.exception("browser error on %s", request.url.path, exc_info=exc)
    return respond(request, "error.html", {"status": status, "error": detail}, status=status)


async def login(request: Request) -> Response:
    options: BrowseOptions = request.app.state.options
    next_path = safe_next(request.query_params.get("next"))
    if request.method == "GET" or options.token is None:
        return respond(request, "login.html", {"next": next_path, "error": None, "needed": options.token is not None})
    body = await request.body()
    if len(body) > MAX_LOGIN_BODY:
        raise HTTPException(413, "login form too large")
    form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))  # no multipart dependency for one field
    offered = (form.get("token") or [""])[0]
    next_path = safe_next((form.get("next") or [next_path])[0])
    if not token_matches(options.token, offered):
        await slow_down()
        return respond(request, "login.html", {"next": next_path, "error": "wrong token", "needed": True}, status=401)
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(COOKIE, session_value(options.token), httponly=True, samesite="strict", path="/")
    return response


def create_app(archive: ReadOnlyArchive, options: BrowseOptions) -> Starlette:
    """The browser (and ``options.extra_routes``) over a read-only archive."""
    routes: list[BaseRoute] = list(options.extra_routes)
    if options.browse:
        routes += [
            Route("/", views.sites),
            Route("/sites/{name}", views.site),
            Route("/pages/{page_id:int}", views.page),
            Route("/pages/{page_id:int}/diff", views.diff),
            Route("/pages/{page_id:int}/captures/{capture_id:int}/raw", views.raw),
            Route("/pages/{page_id:int}/captures/{capture_id:int}/sandbox", views.sandbox),
            Route("/search", views.search),
            Route("/runs", views.runs),
            Route("/works", works.works),
            Route("/works/{work_id}", works.work),
            Route("/login", login, methods=["GET", "POST"]),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ]
    handlers: dict[Any, Any] = {HTTPException: _error, Exception: _error}
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(
                Guard,
                token=options.token,
                open_paths=options.open_paths,
                loopback_paths=options.loopback_paths,
                public=options.public,
            )
        ],
        exception_handlers=handlers,
    )
    app.state.archive = archive
    app.state.options = options
    app.state.jinja = environment()
    return app
