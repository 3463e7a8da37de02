"""Sites and runs as the browser shows them: figures per site, crawl health, recent runs.

Every figure is read from a small table or an index: page counts from the
``site_id`` index, versions / partial / body source from ``search_docs`` (one
row per page: the latest version's number is the page's version count),
cleaning health from up to ``RECENT_CAPTURES`` captures of the site's last
``HEALTH_RUNS`` runs (through the ``run_id`` index), the
sparkline from the last ``SPARK_RUNS`` runs' stats. Nothing counts every
version or every capture.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, case, func, select

from archive.storage.models import Capture, CrawlRun, Page, SearchDoc, Site

RECENT_CAPTURES = 1000
HEALTH_RUNS = 5
"""Cleaning health is read from the captures of the site's last runs (up to ``RECENT_CAPTURES`` of them)."""
SPARK_RUNS = 30
FAILED_OUTCOMES = ("extraction_failed", "blocked")
FETCHED_OUTCOMES = ("new_version", "unchanged", "extraction_failed", "blocked")
"""Captures that got a page to clean: the denominator of the failed share."""


def run_dict(row: Any) -> dict[str, Any]:
    stats = row["stats"] or {}
    started, finished = row["started_at"], row["finished_at"]
    return {
        "id": row["id"],
        "trigger": row["trigger"],
        "status": row["status"],
        "started_at": started,
        "finished_at": finished,
        "seconds": stats.get("seconds") or (round((finished - started).total_seconds(), 1) if finished else None),
        "pages": stats.get("pages"),
        "new_versions": stats.get("new_versions"),
        "errors": stats.get("errors"),
        "errors_by_kind": stats.get("errors_by_kind") or {},
        "error": row["error"],
    }


_RUN_COLUMNS = (
    CrawlRun.id, CrawlRun.trigger, CrawlRun.status, CrawlRun.started_at, CrawlRun.finished_at, CrawlRun.stats,
    CrawlRun.error,
)  # fmt: skip


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def site_rows(conn: Connection) -> list[dict[str, Any]]:
    return [
        dict(r)
        for r in conn.execute(select(Site.id, Site.name, Site.title, Site.base_url).order_by(Site.name)).mappings()
    ]


def find_site(conn: Connection, name: str) -> dict[str, Any] | None:
    row = (
        conn.execute(select(Site.id, Site.name, Site.title, Site.base_url).where(Site.name == name)).mappings().first()
    )
    return dict(row) if row else None


def overview(
    conn: Connection, sites: list[dict[str, Any]], next_runs: Mapping[str, dt.datetime | None]
) -> list[dict[str, Any]]:
    """Each site's figures, crawl health and recent runs."""
    ids = [s["id"] for s in sites]
    pages = {
        site_id: n
        for site_id, n in conn.execute(
            select(Page.site_id, func.count()).where(Page.site_id.in_(ids)).group_by(Page.site_id)
        )
    }
    docs = {
        r["site_id"]: r
        for r in conn.execute(
            select(
                SearchDoc.site_id,
                func.count().label("with_text"),
                func.sum(SearchDoc.number).label("versions"),
                func.sum(case((SearchDoc.partial, 1), else_=0)).label("partial"),
                func.sum(case((SearchDoc.body_from == "trafilatura", 1), else_=0)).label("fallback"),
                func.sum(case((SearchDoc.body_from.is_not(None), 1), else_=0)).label("known_source"),
            )
            .where(SearchDoc.site_id.in_(ids))
            .group_by(SearchDoc.site_id)
        ).mappings()
    }
    out = []
    for site in sites:
        d: Any = docs.get(site["id"]) or {}
        with_text = int(d.get("with_text") or 0)
        runs = [
            run_dict(r)
            for r in conn.execute(
                select(*_RUN_COLUMNS)
                .where(CrawlRun.site_id == site["id"])
                .order_by(CrawlRun.id.desc())
                .limit(SPARK_RUNS)
            ).mappings()
        ]
        outcomes = recent_outcomes(conn, [r["id"] for r in runs[:HEALTH_RUNS]])
        fetched = sum(n for o, n in outcomes.items() if o in FETCHED_OUTCOMES)
        out.append(
            {
                "name": site["name"],
                "title": site["title"],
                "base_url": site["base_url"],
                "pages": int(pages.get(site["id"], 0)),
                "pages_with_text": with_text,
                "versions": int(d.get("versions") or 0),
                "partial_share": _share(int(d.get("partial") or 0), with_text),
                "last_run": runs[0] if runs else None,
                "next_run": next_runs.get(site["name"]),
                "health": {
                    "recent_captures": sum(outcomes.values()),
                    "outcomes": outcomes,
                    "failed_share": _share(sum(outcomes.get(o, 0) for o in FAILED_OUTCOMES), fetched),
                    "fallback_share": _share(int(d.get("fallback") or 0), int(d.get("known_source") or 0)),
                },
                "versions_per_run": [r["new_versions"] or 0 for r in reversed(runs) if r["status"] != "running"],
            }
        )
    return out


def recent_outcomes(conn: Connection, run_ids: list[int]) -> dict[str, int]:
    """Outcomes of up to ``RECENT_CAPTURES`` captures of the given runs, newest run first (the run_id index)."""
    if not run_ids:
        return {}
    recent = (
        select(Capture.outcome)
        .where(Capture.run_id.in_(run_ids))
        .order_by(Capture.run_id.desc())
        .limit(RECENT_CAPTURES)
        .subquery()
    )
    rows = conn.execute(select(recent.c.outcome, func.count()).group_by(recent.c.outcome))
    return {outcome: int(n) for outcome, n in sorted(rows, key=lambda r: str(r[0]))}


def list_runs(
    conn: Connection, *, site_id: int | None = None, before: int | None = None, limit: int = 50
) -> tuple[list[dict[str, Any]], int | None]:
    """Recent runs, newest first, keyset-paginated by run id."""
    stmt = select(*_RUN_COLUMNS, Site.name.label("site")).join(Site, Site.id == CrawlRun.site_id)
    if site_id is not None:
        stmt = stmt.where(CrawlRun.site_id == site_id)
    if before is not None:
        stmt = stmt.where(CrawlRun.id < before)
    rows = list(conn.execute(stmt.order_by(CrawlRun.id.desc()).limit(limit + 1)).mappings())
    more = len(rows) > limit
    runs = [{"site": r["site"], **run_dict(r)} for r in rows[:limit]]
    return runs, (runs[-1]["id"] if more else None)
