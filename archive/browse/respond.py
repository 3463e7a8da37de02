"""One view, two forms: HTML from a Jinja2 template, or the same data as JSON.

A view builds one plain dict; :func:`respond` renders it with the template or,
for ``?format=json`` / ``Accept: application/json``, sends it as JSON, so the
JSON form is never a second, drifting implementation. Jinja2 autoescaping is
on for every template: archived text is hostile input and is only ever
inserted as escaped text.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from archive.browse import formatting

TEMPLATES = Path(__file__).with_name("templates")


def _default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray):
        return None
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class ArchiveJSON(JSONResponse):
    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, default=_default, separators=(",", ":")).encode("utf-8")


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(formatting.FILTERS)
    return env


def wants_json(request: Request) -> bool:
    if request.query_params.get("format") == "json":
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def respond(request: Request, template: str, data: dict[str, Any], status: int = 200) -> Response:
    if wants_json(request):
        return ArchiveJSON(data, status_code=status)
    env: Environment = request.app.state.jinja
    html = env.get_template(template).render(request=request, **data)
    return HTMLResponse(html, status_code=status, headers={"cache-control": "no-store"})
