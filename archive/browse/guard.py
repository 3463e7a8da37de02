"""Every response's safety headers, and the token when the browser is reachable beyond localhost.

Archived pages are hostile input: our pages allow scripts only from our own
origin (the vendored htmx), load nothing from elsewhere, cannot be framed, and
send no referrer to the archived sites. With a token configured, every path
but the login page, static files and the open paths needs it:
``Authorization: Bearer TOKEN``, or the cookie the login page sets (an HMAC of
the token, so the cookie is not the token). A server bound beyond localhost
(``public``) answers its ``loopback_paths`` (the daemon's ``/healthz`` and
``/metrics``) without the token only to clients on this machine (a container's
own health check), and with no token configured it answers nobody else.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import urllib.parse
from collections.abc import Sequence

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "speech_archive_session"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
HEADERS = (
    ("content-security-policy", CSP),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
    ("cross-origin-opener-policy", "same-origin"),
)
FAILED_LOGIN_DELAY = 1.0
"""Seconds a wrong token waits before its answer: guessing stays slow."""


def session_value(token: str) -> str:
    return hmac.new(token.encode(), b"speech-archive browser session", hashlib.sha256).hexdigest()


def token_matches(token: str, offered: str) -> bool:
    return hmac.compare_digest(token.encode(), offered.encode())


def safe_next(value: str | None) -> str:
    """Where to go after logging in: a path of ours only (never another site)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


class Guard:
    """ASGI middleware: safety headers on every response; the token check when a token is set."""

    def __init__(
        self,
        app: ASGIApp,
        token: str | None,
        open_paths: Sequence[str] = (),
        loopback_paths: Sequence[str] = (),
        public: bool = False,
    ) -> None:
        self.app = app
        self.token = token
        self.open = ("/login", "/static/", *open_paths)
        self.loopback = tuple(loopback_paths)
        self.public = public

    def _allowed(self, request: Request) -> bool:
        path = request.url.path
        if path.startswith(self.open):
            return True
        if self.loopback and path.startswith(self.loopback) and _is_loopback_client(request):
            return True
        if self.token:
            return self._authorised(request)
        return not self.public or _is_loopback_client(request)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        if not self._allowed(request):
            await self._refuse(request)(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS:
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, with_headers)

    def _authorised(self, request: Request) -> bool:
        assert self.token is not None
        scheme, _, offered = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and offered and token_matches(self.token, offered.strip()):
            return True
        cookie = request.cookies.get(COOKIE, "")
        return bool(cookie) and hmac.compare_digest(cookie, session_value(self.token))

    def _refuse(self, request: Request) -> Response:
        if not self.token:
            return JSONResponse(
                {"error": "this address answers only clients on this machine; set [web] token to serve others"},
                status_code=403,
            )
        accept = request.headers.get("accept", "")
        if "text/html" in accept and request.method == "GET":
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse("/login?next=" + urllib.parse.quote(target, safe=""), status_code=303)
        return JSONResponse(
            {"error": "this archive browser needs its token: send 'Authorization: Bearer TOKEN' or log in at /login"},
            status_code=401,
            headers={"www-authenticate": 'Bearer realm="speech-archive"'},
        )


def _is_loopback_client(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def slow_down() -> None:
    await asyncio.sleep(FAILED_LOGIN_DELAY)
