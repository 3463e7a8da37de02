"""Shared by the browser tests: a crawled replica archive, a hostile page stored by the real ingest, LIKE truth."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from conftest import crawl_ok, write_config
from sqlalchemy import create_engine, select, text
from sqlalchemy.pool import NullPool

from archive.cleaning import ProfileBook, clean, content_hash
from archive.records import Fetched, ProcessedPage
from archive.storage import Archive, ingest
from archive.storage.models import Site
from archive.storage.rawstore import pack_raw

HOSTILE_TITLE = '<script>alert("title")</script>区委书记在全区工作会议上的讲话'
HOSTILE_LINE = '<img src=x onerror=alert("text")>同志们，今天我们召开全区工作会议，主要任务是总结去年工作。'


def hostile_html() -> bytes:
    """An archived page that tries everything: script in the title and text, a live script, an image beacon."""
    escaped_title = HOSTILE_TITLE.replace("<", "&lt;").replace(">", "&gt;")
    escaped_line = HOSTILE_LINE.replace("<", "&lt;").replace(">", "&gt;")
    filler = "段：要坚持稳中求进工作总基调，推动高质量发展取得新成效。"
    body = "".join(f"<p>{escaped_line if n == 0 else f'第{n}{filler}'}</p>" for n in range(8))
    return (
        f"<html><head><meta charset='utf-8'><title>{escaped_title}</title>"
        "<script>document.title='pwned'; fetch('http://127.0.0.1:9/beacon')</script></head>"
        f"<body><h1>{escaped_title}</h1><div class='content'>{body}</div>"
        "<img src='http://127.0.0.1:9/pixel.gif'></body></html>"
    ).encode()


def store_hostile_page(url: str, site: str, page_url: str) -> None:
    """Store the hostile page through the real cleaner and ingest, as a crawl would."""
    body = hostile_html()
    extraction = clean(body, ProfileBook().get("default"), content_type="text/html; charset=utf-8")
    assert extraction.ok, extraction.reason
    processed = ProcessedPage(extraction, content_hash(extraction.text), pack_raw(body))
    fetched = Fetched(
        site=site,
        url=page_url,
        fetched_at=dt.datetime.now(dt.UTC),
        status=200,
        headers={"Content-Type": "text/html; charset=utf-8"},
        body=body,
    )
    with Archive(url) as archive, archive.session() as session:
        row = session.execute(select(Site).where(Site.name == site)).scalar_one()
        ingest(session, row, fetched, processed)


def crawl_replica(tmp: Path, replica: Any, url: str, sites: list[str] | None = None) -> Path:
    config = write_config(tmp / "config.toml", replica, url, sites=sites)
    crawl_ok(config)
    return config


def like_pages(url: str, terms: Iterable[str], *, all_versions: bool = False, site: str | None = None) -> set[int]:
    """The ground truth: pages whose (latest, or any) version's text holds every term, by a plain LIKE scan."""
    conds, params = [], {}
    for n, term in enumerate(terms):
        escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conds.append(f"c.text LIKE :t{n} ESCAPE '\\'")
        params[f"t{n}"] = f"%{escaped}%"
    latest = "" if all_versions else "AND v.number = (SELECT max(number) FROM versions WHERE page_id = v.page_id)"
    site_cond = ""
    if site:
        site_cond = "AND p.site_id = (SELECT id FROM sites WHERE name = :site)"
        params["site"] = site
    sql = (
        "SELECT DISTINCT v.page_id FROM versions v JOIN contents c ON c.hash = v.content_hash "
        f"JOIN pages p ON p.id = v.page_id WHERE {' AND '.join(conds)} {latest} {site_cond}"
    )
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return {int(r[0]) for r in conn.execute(text(sql), params)}
    finally:
        engine.dispose()


def searched_pages(client: Any, query: str, **params: str) -> set[int]:
    """Every page the search finds for ``query``, following its cursors to the end (JSON form)."""
    found: set[int] = set()
    after: int | None = None
    for _ in range(1000):
        args = {"q": query, "format": "json", "limit": "50", **params}
        if after is not None:
            args["after"] = str(after)
        response = client.get("/search", params=args)
        assert response.status_code == 200, response.text
        data = response.json()
        for result in data["results"]:
            found.update(p["page_id"] for p in result["pages"])
        after = data["next"]
        if after is None:
            return found
    raise AssertionError("search pagination did not end")
