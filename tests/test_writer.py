"""The crawl's archive writer (crawler/writer.py): batches, all or nothing per page, waits out a locked archive.

Real databases (SQLite and PostgreSQL through ``archive_url``), real locks; the
writes are the pipeline's own (archive.storage.ingest in a batch, store_capture
alone), on pages cleaned by the real worker unit.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text

from archive.cleaning import ProfileBook
from archive.records import Fetched, ProcessedPage
from archive.storage import Archive
from archive.storage.capture import store_capture
from archive.storage.ingest import Ingested, ingest
from archive.storage.models import Capture, Site, Version
from crawler.workers import PageJob, process_page
from crawler.writer import ArchiveUnwritableError, ArchiveWriter

PROSE = "同志们，今年以来，全市上下认真贯彻落实各项决策部署，经济社会发展取得了新的成效。"
BOOK = ProfileBook()


def page(n: int) -> tuple[Fetched, ProcessedPage]:
    body = f"<html><head><title>第{n}号讲话稿全文</title></head><body><div><p>{PROSE * 3}{n}</p></div></body></html>"
    processed = process_page(BOOK, PageJob("default", body.encode(), "text/html", None))
    fetched = Fetched("s", f"http://127.0.0.1:9/{n}.html", dt.datetime.now(dt.UTC), 200, {}, None)
    return fetched, processed


def site_row(archive: Archive) -> Site:
    with archive.session() as session:
        session.execute(insert(Site).values(id=1, name="s", title="s", base_url="http://127.0.0.1:9"))
    with archive.session() as session:
        site = session.execute(select(Site)).scalar_one()
        session.expunge(site)
    return site


def writes(writer: ArchiveWriter, archive: Archive, site: Site, pages: list[tuple[Fetched, ProcessedPage]]) -> Any:
    async def all_of() -> list[Any]:
        calls = [
            writer.write(
                lambda session, f=f, p=p: ingest(session, site, f, p),
                lambda f=f, p=p: store_capture(archive, site, f, p),
            )
            for f, p in pages
        ]
        return await asyncio.gather(*calls, return_exceptions=True)

    return asyncio.run(all_of())


def count(archive: Archive, model: Any) -> int:
    with archive.session() as session:
        return len(session.execute(select(model.id)).all())


def test_pages_handed_over_together_are_committed_in_one_transaction(archive_url: str) -> None:
    with Archive(archive_url) as archive:
        site = site_row(archive)
        writer = ArchiveWriter(archive, 30.0)
        try:
            results = writes(writer, archive, site, [page(n) for n in range(20)])
        finally:
            writer.close()
        assert [r.outcome for r in results] == ["new_version"] * 20
        assert writer.batches == 1
        assert count(archive, Capture) == count(archive, Version) == 20


def test_a_page_refused_in_a_batch_costs_no_other_page(archive_url: str) -> None:
    """The batch rolls back whole, then each page is stored alone: the refused one as store_failed."""
    with Archive(archive_url) as archive:
        site = site_row(archive)
        pages = [page(n) for n in range(6)]
        refused = pages[3][0].url
        with archive.engine.begin() as conn:  # a constraint added by a DBA: no version of that page
            if archive_url.startswith("sqlite"):
                conn.execute(text(
                    "CREATE TRIGGER refuse_one BEFORE INSERT ON versions "
                    f"WHEN (SELECT url FROM pages WHERE id = NEW.page_id) = '{refused}' "
                    "BEGIN SELECT RAISE(ABORT, 'refused by the test trigger'); END"
                ))  # fmt: skip
            else:
                conn.execute(text(
                    "CREATE FUNCTION refuse_one() RETURNS trigger AS $$ BEGIN "
                    f"IF (SELECT url FROM pages WHERE id = NEW.page_id) = '{refused}' THEN "
                    "RAISE EXCEPTION 'refused by the test trigger'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
                ))  # fmt: skip
                conn.execute(text(
                    "CREATE TRIGGER refuse_one BEFORE INSERT ON versions FOR EACH ROW EXECUTE FUNCTION refuse_one()"
                ))  # fmt: skip
        writer = ArchiveWriter(archive, 30.0)
        try:
            results: list[Ingested] = writes(writer, archive, site, pages)
        finally:
            writer.close()
        assert [r.outcome for r in results] == ["new_version"] * 3 + ["store_failed"] + ["new_version"] * 2
        assert "refused by the test trigger" in (results[3].reason or "")
        assert count(archive, Capture) == 6 and count(archive, Version) == 5
        with archive.session() as session:  # one capture each: the rolled-back batch left nothing behind
            urls = session.execute(text("SELECT p.url FROM captures c JOIN pages p ON p.id = c.page_id")).all()
        assert sorted(u for (u,) in urls) == sorted(f.url for f, _p in pages)


def test_a_lock_held_past_the_busy_timeout_pauses_then_commits(tmp_path: Path) -> None:
    db = tmp_path / "archive.sqlite3"
    with Archive(f"sqlite:///{db}", busy_timeout=0.2) as archive:
        site = site_row(archive)
        events: list[str] = []
        writer = ArchiveWriter(
            archive, 60.0, on_pause=lambda: events.append("pause"), on_resume=lambda: events.append("resume")
        )
        holder = sqlite3.connect(db, timeout=5, isolation_level=None, check_same_thread=False)
        holder.execute("BEGIN IMMEDIATE")  # another process's long write transaction
        threading.Timer(1.5, lambda: holder.execute("COMMIT")).start()
        started = time.monotonic()
        try:
            results = writes(writer, archive, site, [page(n) for n in range(5)])
        finally:
            writer.close()
            holder.close()
        assert time.monotonic() - started >= 1.4
        assert [r.outcome for r in results] == ["new_version"] * 5
        assert events == ["pause", "resume"] and writer.pauses == 1
        assert count(archive, Version) == 5


def test_an_archive_locked_past_the_budget_fails_every_waiting_page_and_the_next(tmp_path: Path) -> None:
    db = tmp_path / "archive.sqlite3"
    with Archive(f"sqlite:///{db}", busy_timeout=0.1) as archive:
        site = site_row(archive)
        writer = ArchiveWriter(archive, 1.0)
        holder = sqlite3.connect(db, timeout=5, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            results = writes(writer, archive, site, [page(n) for n in range(4)])
            later = writes(writer, archive, site, [page(9)])
        finally:
            writer.close()
            holder.execute("ROLLBACK")
            holder.close()
        assert all(isinstance(r, ArchiveUnwritableError) for r in [*results, *later]), results
        assert "could not be written for 1 s" in str(results[0]) and "database is locked" in str(results[0])
        assert count(archive, Capture) == 0


def test_a_stopping_crawl_gives_up_at_once(tmp_path: Path) -> None:
    db = tmp_path / "archive.sqlite3"
    with Archive(f"sqlite:///{db}", busy_timeout=0.1) as archive:
        site = site_row(archive)
        writer = ArchiveWriter(archive, 120.0, stopping=lambda: True)
        holder = sqlite3.connect(db, timeout=5, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        try:
            (result,) = writes(writer, archive, site, [page(1)])
        finally:
            writer.close()
            holder.execute("ROLLBACK")
            holder.close()
        assert isinstance(result, ArchiveUnwritableError) and "before the crawl was stopped" in str(result)
        assert time.monotonic() - started < 5
