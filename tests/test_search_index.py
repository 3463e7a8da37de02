"""The search index lives and dies with the version it indexes: same writer, same transaction (both backends)."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, text

from archive.browse.search import SearchQuery, matching_text_ids
from archive.cleaning import Extraction, content_hash
from archive.storage import Archive
from archive.storage.models import Page, Site
from archive.storage.versions import write_version

A = "同志们：今天召开全区经济工作会议，坚持稳中求进工作总基调。"
B = "同志们：今天召开全区安全生产会议，守牢安全底线。"


def _write(archive: Archive, number: int, value: str) -> None:
    with archive.session() as session:
        write_version(
            session, page_id=1, number=number, content_hash=content_hash(value), capture_id=None,
            extraction=Extraction("ok", text=value, title=f"第{number}版", char_count=len(value), method="hint"),
            change="first" if number == 1 else "edit",
        )  # fmt: skip


def _found(archive: Archive, *terms: str) -> list[int]:
    with archive.engine.connect() as conn:
        return matching_text_ids(conn, SearchQuery(terms=terms))[0]


def _count(archive: Archive, table: str) -> int:
    with archive.engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_index_follows_versions_and_rolls_back_with_them(archive_url: str) -> None:
    with Archive(archive_url) as archive:
        with archive.session() as session:
            session.execute(insert(Site).values(id=1, name="s", title="s", base_url="http://127.0.0.1:9"))
            session.execute(insert(Page).values(id=1, site_id=1, url="http://127.0.0.1:9/1.html", missing_count=0))
        with pytest.raises(RuntimeError), archive.session() as session:
            write_version(
                session, page_id=1, number=1, content_hash=content_hash(A), capture_id=None,
                extraction=Extraction("ok", text=A, char_count=len(A)), change="first",
            )  # fmt: skip
            raise RuntimeError("the transaction fails after the version was written")
        assert _count(archive, "search_texts") == _count(archive, "search_docs") == 0
        assert _found(archive, "稳中求进") == _found(archive, "同") == []

        _write(archive, 1, A)
        first = _found(archive, "稳中求进")
        assert len(first) == 1 and _found(archive, "同", "稳中求进") == first and _found(archive, "安全") == []
        _write(archive, 2, B)
        assert _found(archive, "稳中求进") == [] and len(_found(archive, "安全", "底")) == 1  # latest version only
        _write(archive, 3, A)  # A -> B -> A: text A is indexed once and is the page's latest again
        assert _found(archive, "稳中求进") == first
        assert _count(archive, "search_texts") == 2
        with archive.engine.connect() as conn:
            row = conn.execute(text("SELECT number, text_id, title, body_from FROM search_docs")).one()
        assert (row.number, row.text_id, row.title, row.body_from) == (3, first[0], "第3版", "hint")
        if archive.engine.dialect.name == "postgresql":  # the test server's CREATE EXTENSION pg_trgm worked
            with archive.engine.connect() as conn:
                assert conn.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).first()
                assert conn.execute(text("SELECT 1 FROM pg_indexes WHERE indexname = 'ix_contents_text_trgm'")).first()


def test_the_tokens_a_worker_carries_are_the_ones_indexed(archive_url: str) -> None:
    """A crawl's worker computes the search tokens (ProcessedPage.search_tokens); the writer only inserts them."""
    from archive.cleaning import ProfileBook
    from archive.storage.search import grams, joined_grams
    from crawler.workers import PageJob, process_page

    body = f"<html><body><div class='c'><p>{A}</p><p>{A}</p></div></body></html>".encode()
    processed = process_page(ProfileBook(), PageJob("default", body, "text/html", None))
    assert processed.extraction is not None and processed.extraction.ok
    assert processed.search_tokens == joined_grams(processed.extraction.text)
    assert sorted(processed.search_tokens.split(" ")) == sorted(grams(processed.extraction.text))
    with Archive(archive_url) as archive:
        with archive.session() as session:
            session.execute(insert(Site).values(id=1, name="s", title="s", base_url="http://127.0.0.1:9"))
            session.execute(insert(Page).values(id=1, site_id=1, url="http://127.0.0.1:9/1.html", missing_count=0))
        with archive.session() as session:
            value = processed.extraction.text
            write_version(
                session, page_id=1, number=1, content_hash=content_hash(value), capture_id=None,
                extraction=processed.extraction, change="first", search_tokens=processed.search_tokens,
            )  # fmt: skip
        assert len(_found(archive, "稳")) == 1 and len(_found(archive, "基调")) == 1 and _found(archive, "底") == []


@pytest.mark.parametrize(
    "value",
    ["", "a", "aa", "同志们\n好A", "A\tB\u00a0C\u3000D\x85E\r\nF  ", "İstanbul ΣΑΣ 𠀀𠀁", "\x00\x1f\x9f\ud800x", A + B],
)
def test_the_stored_tokens_are_the_query_tokens(value: str) -> None:
    """The array-built tokens a worker stores (joined_grams) are exactly the ones a query looks up (grams)."""
    from archive.storage.search import grams, joined_grams

    stored = joined_grams(value)
    assert sorted(stored.split(" ") if stored else []) == sorted(set(grams(value)))
    assert len(stored.split(" ") if stored else []) == len(set(grams(value))), "each token once"


def test_every_character_the_tokens_fold_is_below_the_table_bound() -> None:
    from archive.storage.search import _FOLD_BELOW, _fold_char

    assert all(_fold_char(chr(c)) == chr(c) for c in range(_FOLD_BELOW, 0x110000))
