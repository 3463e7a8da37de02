"""The archive's versioning rules on a real SQLite file, without a crawl."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from archive.cleaning.core import Extraction
from archive.cleaning.normalize import content_hash
from archive.records import Fetched, ProcessedPage
from archive.storage.engine import Archive
from archive.storage.ingest import ingest
from archive.storage.models import Capture, Content, Page, Site, Version
from archive.storage.rawstore import pack_raw

TEXT_A = "同志们:\n今天我们召开全区经济工作会议,主要任务是总结去年工作,部署今年任务。\n一要抓项目建设,二要抓改革创新。"
TEXT_B = TEXT_A.replace("二要抓改革创新", "二要抓改革创新,三要抓民生实事")


@pytest.fixture
def archive(archive_url: str):
    """The same rules on SQLite and PostgreSQL (archive_url is parametrised over both in conftest)."""
    with Archive(archive_url) as arch:
        with arch.session() as s:
            s.add_all(
                [Site(name="one", base_url="http://127.0.0.1:1"), Site(name="two", base_url="http://127.0.0.1:2")]
            )
        yield arch


def put(
    archive: Archive,
    site: str,
    url: str,
    text: str | None,
    status: int = 200,
    body: bytes = b"<html>raw</html>",
    extractor: str = "sa-test-1",
) -> str:
    title = "区委书记在全区经济工作会议上的讲话"
    ext = Extraction("ok", text=text, char_count=len(text), title=title, extractor_version=extractor) if text else None
    fetched = Fetched(site=site, url=url, fetched_at=dt.datetime.now(dt.UTC), status=status, body=body)
    with archive.session() as s:
        site_row = s.execute(select(Site).where(Site.name == site)).scalar_one()
        processed = ProcessedPage(ext, content_hash(text) if text else None, pack_raw(body))
        return ingest(s, site_row, fetched, processed).outcome


def count(archive: Archive, model: type) -> int:
    with archive.session() as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


def test_edit_and_revert_make_three_versions_with_text_a_stored_once(archive: Archive) -> None:
    outcomes = [put(archive, "one", "http://127.0.0.1:1/a.html", t) for t in (TEXT_A, TEXT_A, TEXT_B, TEXT_A)]
    assert outcomes == ["new_version", "unchanged", "new_version", "new_version"]
    with archive.session() as s:
        hashes = s.execute(select(Version.content_hash).order_by(Version.number)).scalars().all()
    assert hashes == [content_hash(TEXT_A), content_hash(TEXT_B), content_hash(TEXT_A)]
    assert count(archive, Content) == 2
    assert count(archive, Capture) == 4


def test_same_text_on_two_sites_is_one_content_row(archive: Archive) -> None:
    put(archive, "one", "http://127.0.0.1:1/a.html", TEXT_A)
    put(archive, "two", "http://127.0.0.1:2/x.html", TEXT_A)
    assert count(archive, Page) == 2
    assert count(archive, Version) == 2
    assert count(archive, Content) == 1


def test_a_text_that_shrinks_by_half_is_a_failed_extraction_not_a_version(archive: Archive) -> None:
    put(archive, "one", "http://127.0.0.1:1/a.html", TEXT_A * 3)
    assert put(archive, "one", "http://127.0.0.1:1/a.html", TEXT_A) == "extraction_failed"
    assert count(archive, Version) == 1


def test_two_404_in_a_row_mark_the_page_gone_and_keep_its_versions(archive: Archive) -> None:
    url = "http://127.0.0.1:1/a.html"
    put(archive, "one", url, TEXT_A)
    put(archive, "one", url, None, status=404)
    with archive.session() as s:
        assert s.execute(select(Page.gone_at)).scalar_one() is None
    put(archive, "one", url, None, status=404)
    with archive.session() as s:
        assert s.execute(select(Page.gone_at)).scalar_one() is not None
    assert count(archive, Version) == 1


def test_raw_pages_are_stored_once_per_hash(archive: Archive) -> None:
    from archive.storage.models import RawPage

    put(archive, "one", "http://127.0.0.1:1/a.html", TEXT_A)
    put(archive, "one", "http://127.0.0.1:1/b.html", TEXT_B)
    assert count(archive, RawPage) == 1


def test_new_text_from_the_same_bytes_by_a_new_extractor_is_a_reclean_not_an_edit(archive: Archive) -> None:
    url = "http://127.0.0.1:1/a.html"
    put(archive, "one", url, TEXT_A, body=b"<html>v1</html>", extractor="sa-test-1")
    put(archive, "one", url, TEXT_B, body=b"<html>v1</html>", extractor="sa-test-2")
    put(archive, "one", url, TEXT_A, body=b"<html>v2</html>", extractor="sa-test-2")
    with archive.session() as s:
        changes = s.execute(select(Version.change).order_by(Version.number)).scalars().all()
    assert changes == ["first", "reclean", "edit"]


def test_a_real_cut_is_stored_after_two_captures_of_the_same_shorter_text(archive: Archive) -> None:
    url = "http://127.0.0.1:1/a.html"
    outcomes = [put(archive, "one", url, t) for t in (TEXT_A * 3, TEXT_A, TEXT_A, TEXT_A)]
    assert outcomes == ["new_version", "extraction_failed", "new_version", "unchanged"]
    with archive.session() as s:
        changes = s.execute(select(Version.change).order_by(Version.number)).scalars().all()
        reasons = s.execute(select(Capture.error).where(Capture.outcome == "extraction_failed")).scalars().all()
    assert changes == ["first", "shrink"]
    assert "after 2 such captures" in reasons[0]


def test_a_shorter_text_that_differs_each_time_is_never_stored(archive: Archive) -> None:
    url = "http://127.0.0.1:1/a.html"
    short = (TEXT_A, TEXT_B, TEXT_A, TEXT_B)
    assert [put(archive, "one", url, t) for t in (TEXT_A * 3, *short)] == ["new_version", *["extraction_failed"] * 4]
    assert count(archive, Version) == 1


def test_a_404_of_a_url_never_archived_leaves_no_row(archive: Archive) -> None:
    assert put(archive, "one", "http://127.0.0.1:1/never.html", None, status=404) == "fetch_error"
    assert count(archive, Page) == 0 and count(archive, Capture) == 0
