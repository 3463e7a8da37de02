"""Works in the browser: a page links to its work; a list of works; one work with its canonical text and copies.

The works stage (archive/works/) owns the queries; this module only opens an ORM
session on the browser's read-only connection and shapes its answers for the
templates and the JSON form.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from archive.browse.respond import respond
from archive.browse.textview import paragraphs
from archive.errors import NotFoundError, UsageError
from archive.works.queries import SHORT, list_works, resolve, work_detail, work_of_page


def page_work(conn: Connection, page_id: int) -> dict[str, Any] | None:
    """The work of a page's latest version, as the page view links it.

    None before matching found one, and for a speech with no other copy (a work of one is not worth a link).
    """
    with Session(bind=conn) as session:
        found = work_of_page(session, page_id)
        if found is None:
            return None
        work, latest = found
        detail = work_detail(session, work)
    if detail.summary.copies < 2:
        return None
    role = next((c.role for c in detail.copies if c.content_hash == latest), None)
    return {
        "id": work.id,
        "url": f"/works/{work.id}",
        "title": detail.summary.title or work.id[:SHORT],
        "members": detail.summary.copies,
        "role": role,
    }


def works(request: Request) -> Response:
    site = request.query_params.get("site", "").strip() or None
    raw_min = request.query_params.get("min", "2")
    if not raw_min.isdigit() or int(raw_min) < 1:
        raise HTTPException(400, f"min={raw_min!r}: give a whole number of copies, 1 or more")
    with request.app.state.archive.connect() as conn, Session(bind=conn) as session:
        rows = [w.as_dict() for w in list_works(session, site=site, min_copies=int(raw_min))]
    return respond(request, "works.html", {"works": rows, "site": site or "", "min": int(raw_min)})


def work(request: Request) -> Response:
    key = request.path_params["work_id"]
    with request.app.state.archive.connect() as conn, Session(bind=conn) as session:
        try:
            found = resolve(session, key)
        except (NotFoundError, UsageError) as exc:
            raise HTTPException(404, str(exc)) from None
        detail = work_detail(session, found).as_dict()
    detail["paragraphs"] = paragraphs(detail["text"], {})  # the canonical copy; a gap in it has no known length
    return respond(request, "work.html", {"work": detail})
