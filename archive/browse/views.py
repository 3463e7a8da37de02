"""The browser's views: each reads the archive through one read-only connection and builds one dict.

Sync functions on purpose: Starlette runs them in its thread pool, where the
blocking database driver belongs. Unknown ids are 404s, malformed parameters
400s, both with a message that says what would be right.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from archive.browse import pages as pages_q
from archive.browse import search as search_q
from archive.browse import sites as sites_q
from archive.browse.diff import diff_versions
from archive.browse.formatting import BEIJING
from archive.browse.options import BrowseOptions
from archive.browse.respond import respond
from archive.browse.textview import paragraphs, tail_chars
from archive.browse.works import page_work

HIDE_KINDS = ("mask", "space")


def _options(request: Request) -> BrowseOptions:
    return request.app.state.options  # type: ignore[no-any-return]


def _int(request: Request, name: str, *, minimum: int = 1) -> int | None:
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < minimum:
        raise HTTPException(400, f"{name}={raw!r} is not a whole number of at least {minimum}")
    return int(raw)


def _date(request: Request, name: str) -> dt.datetime | None:
    """A YYYY-MM-DD parameter as the start of that day in Beijing time (the sites' calendar)."""
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return None
    try:
        return dt.datetime.combine(dt.date.fromisoformat(raw), dt.time(), BEIJING)
    except ValueError:
        raise HTTPException(400, f"{name}={raw!r} is not a date; use YYYY-MM-DD") from None


def _day_after(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else value + dt.timedelta(days=1)


def _site(conn: Any, name: str) -> dict[str, Any]:
    site = sites_q.find_site(conn, name)
    if site is None:
        raise HTTPException(404, f"no site {name!r} in the archive")
    return site


def _next_runs(request: Request, conn: Any) -> dict[str, dt.datetime | None]:
    reader = _options(request).next_runs
    return dict(reader(conn)) if reader is not None else {}


def sites(request: Request) -> Response:
    with request.app.state.archive.connect() as conn:
        rows = sites_q.overview(conn, sites_q.site_rows(conn), _next_runs(request, conn))
    return respond(request, "sites.html", {"sites": rows})


def site(request: Request) -> Response:
    options = _options(request)
    order = request.query_params.get("order", "seen")
    if order not in ("seen", "changed"):
        raise HTTPException(400, f"order={order!r}: use 'seen' (newest page first) or 'changed' (latest change first)")
    partial_raw = request.query_params.get("partial", "")
    if partial_raw not in ("", "yes", "no"):
        raise HTTPException(400, f"partial={partial_raw!r}: use 'yes' or 'no'")
    flt = pages_q.PageFilter(
        title=request.query_params.get("title", "").strip() or None,
        published_from=_date(request, "from"),
        published_to=_day_after(_date(request, "to")),
        partial=None if not partial_raw else partial_raw == "yes",
        changed_since=_date(request, "changed_since"),
        order=order,  # type: ignore[arg-type]
    )
    after = request.query_params.get("after") or None
    with request.app.state.archive.connect() as conn:
        row = _site(conn, request.path_params["name"])
        figures = sites_q.overview(conn, [row], _next_runs(request, conn))[0]
        try:
            listed, cursor = pages_q.list_pages(conn, row["id"], flt, after, options.page_size)
        except ValueError:
            raise HTTPException(400, f"after={after!r} is not a cursor this list gave out") from None
    filters = {k: request.query_params.get(k, "") for k in ("title", "from", "to", "partial", "changed_since")}
    return respond(
        request,
        "site.html",
        {"site": figures, "pages": listed, "next": cursor, "filters": {**filters, "order": order}},
    )


def _page_and_versions(conn: Any, page_id: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    page = pages_q.page_row(conn, page_id)
    if page is None:
        raise HTTPException(404, f"no page {page_id} in the archive")
    return page, pages_q.versions_of(conn, page_id)


def _version(versions: list[dict[str, Any]], number: int | None, page_id: int) -> dict[str, Any]:
    if number is None:
        return versions[-1]
    for version in versions:
        if version["number"] == number:
            return version
    raise HTTPException(404, f"page {page_id} has versions 1..{len(versions)}, not {number}")


def page(request: Request) -> Response:
    page_id = int(request.path_params["page_id"])
    number = _int(request, "v")
    options = _options(request)
    with request.app.state.archive.connect() as conn:
        row, versions = _page_and_versions(conn, page_id)
        captures = pages_q.captures_of(conn, page_id)
        work = (options.work_for_page or page_work)(conn, page_id)
        current = None
        if versions:
            version = _version(versions, number, page_id)
            text = pages_q.version_text(conn, version["content_hash"])
            current = {
                **version,
                "text": text,
                "paragraphs": paragraphs(text, version),
                "tail_chars": tail_chars(version) if version["partial"] else None,
                "raw_kept": any(c["id"] == version["capture_id"] and c["raw_sha256"] for c in captures),
            }
        elif number is not None:
            raise HTTPException(404, f"page {page_id} has no stored version yet")
    data = {
        "page": row,
        "versions": [{k: v for k, v in ver.items() if k not in ("gaps", "outline", "category")} for ver in versions],
        "timeline": pages_q.timeline(versions, captures),
        "version": current,
        "work": work,
    }
    return respond(request, "page.html", data)


def diff(request: Request) -> Response:
    page_id = int(request.path_params["page_id"])
    hide = [h for h in request.query_params.getlist("hide") if h]
    unknown = [h for h in hide if h not in HIDE_KINDS]
    if unknown:
        raise HTTPException(400, f"hide={unknown[0]!r}: use 'mask' and/or 'space'")
    view = request.query_params.get("view", "side")
    if view not in ("side", "inline"):
        raise HTTPException(400, f"view={view!r}: use 'side' or 'inline'")
    with request.app.state.archive.connect() as conn:
        row, versions = _page_and_versions(conn, page_id)
        if not versions:
            raise HTTPException(404, f"page {page_id} has no stored version yet")
        b_number = _int(request, "b") or versions[-1]["number"]
        a_number = _int(request, "a") or max(1, b_number - 1)
        a, b = _version(versions, a_number, page_id), _version(versions, b_number, page_id)
        text_a, text_b = pages_q.version_text(conn, a["content_hash"]), pages_q.version_text(conn, b["content_hash"])
    result = diff_versions(text_a, text_b, hide)
    strip = ("gaps", "outline", "category")
    data = {
        "page": row,
        "versions": [{"number": v["number"], "created_at": v["created_at"], "change": v["change"]} for v in versions],
        "a": {k: v for k, v in a.items() if k not in strip},
        "b": {k: v for k, v in b.items() if k not in strip},
        "view": view,
        "hide": hide,
        "counts": result.counts,
        "hidden": result.hidden,
        "identical": text_a == text_b,
        "rows": result.rows,
    }
    return respond(request, "diff.html", data)


def raw(request: Request) -> Response:
    page_id, capture_id = int(request.path_params["page_id"]), int(request.path_params["capture_id"])
    with request.app.state.archive.connect() as conn:
        row = pages_q.page_row(conn, page_id)
        captured = pages_q.raw_capture(conn, page_id, capture_id) if row else None
    if row is None or captured is None:
        raise HTTPException(404, f"no raw page kept for capture {capture_id} of page {page_id}")
    data = {
        "page": row,
        "capture": {
            "id": captured.capture_id,
            "fetched_at": captured.fetched_at,
            "status_code": captured.status_code,
            "content_type": captured.content_type,
            "encoding": captured.encoding,
            "size": captured.size,
        },
        "source": captured.html,
    }
    return respond(request, "raw.html", data)


SANDBOX_CSP = (
    "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; font-src 'none'; media-src 'none'; "
    "frame-src 'none'; form-action 'none'; base-uri 'none'; frame-ancestors 'self'"
)


def sandbox(request: Request) -> Response:
    """The raw page as HTML, but in a sandbox: an opaque origin, no script, nothing loaded, no forms."""
    page_id, capture_id = int(request.path_params["page_id"]), int(request.path_params["capture_id"])
    with request.app.state.archive.connect() as conn:
        captured = pages_q.raw_capture(conn, page_id, capture_id)
    if captured is None:
        raise HTTPException(404, f"no raw page kept for capture {capture_id} of page {page_id}")
    return Response(
        captured.html,
        media_type="text/html; charset=utf-8",
        headers={
            "content-security-policy": SANDBOX_CSP,
            "x-frame-options": "SAMEORIGIN",
            "cache-control": "no-store",
        },
    )


def search(request: Request) -> Response:
    options = _options(request)
    raw_query = request.query_params.get("q", "")
    terms = search_q.parse_terms(raw_query)
    site_name = request.query_params.get("site", "").strip()
    with request.app.state.archive.connect() as conn:
        site_ids = {s["name"]: s["id"] for s in sites_q.site_rows(conn)}
        if site_name and site_name not in site_ids:
            raise HTTPException(404, f"no site {site_name!r} in the archive")
        query = search_q.SearchQuery(
            terms=terms,
            site_id=site_ids.get(site_name) if site_name else None,
            published_from=_date(request, "from"),
            published_to=_day_after(_date(request, "to")),
            all_versions=request.query_params.get("versions") == "all",
            after=_int(request, "after"),
            limit=min(options.page_size, _int(request, "limit") or 20),
        )
        found = search_q.search(conn, query) if terms else {"results": [], "next": None}
    data = {
        "q": raw_query,
        "terms": list(terms),
        "filters": {k: request.query_params.get(k, "") for k in ("site", "from", "to", "versions")},
        "sites": sorted(site_ids),
        **found,
    }
    return respond(request, "search.html", data)


def runs(request: Request) -> Response:
    options = _options(request)
    site_name = request.query_params.get("site", "").strip()
    with request.app.state.archive.connect() as conn:
        site_id = _site(conn, site_name)["id"] if site_name else None
        listed, cursor = sites_q.list_runs(
            conn, site_id=site_id, before=_int(request, "before"), limit=options.page_size
        )
        names = [s["name"] for s in sites_q.site_rows(conn)]
    return respond(request, "runs.html", {"runs": listed, "next": cursor, "site": site_name, "sites": names})
