"""Search finds exactly what a LIKE scan finds, for terms of every length and mixes of them, on both backends.

The archive is a real crawl of the replica (then an edit and a re-crawl); the
index was written by the crawl's own transactions. Terms are cut from the
archived texts at random (seeded), so they are real Chinese of every length,
common and rare.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browse_helpers import crawl_replica, like_pages, searched_pages
from click.testing import CliRunner
from conftest import crawl_ok
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool
from starlette.testclient import TestClient

from archive.browse import BrowseOptions, ReadOnlyArchive, create_app
from archive.browse.search import parse_terms
from archive.storage.search import grams, term_gram
from speech_archive.cli import main

pytestmark = pytest.mark.slow

FIRST_ONLY = "甲乙丙丁独有的旧提法"


@pytest.fixture
def searchable(tmp_path: Path, replica: Any, archive_url: str) -> Iterator[tuple[TestClient, str, Path]]:
    """All five replica sites crawled, one paragraph of one article rewritten and crawled again (two versions)."""
    site, aid = "zhongyi", replica.article_ids("zhongyi")[0]
    paragraphs = replica.paragraphs(site, aid)
    paragraphs[2] = FIRST_ONLY + "，这句话只在第一个版本里出现。"
    replica.set_paragraphs(site, aid, paragraphs)
    config = crawl_replica(tmp_path, replica, archive_url)
    paragraphs[2] = "这一段已经全部改写，原来的说法不再出现在新的版本里面。"
    replica.set_paragraphs(site, aid, paragraphs)
    crawl_ok(config, "--all", "--full")
    archive = ReadOnlyArchive(archive_url)
    with TestClient(create_app(archive, BrowseOptions(page_size=50))) as client:
        yield client, archive_url, config
    archive.close()


def sample_terms(url: str, seed: int = 11) -> dict[int, list[str]]:
    """Substrings of 1-5 characters cut from the archived texts, several of each length."""
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        texts = [r[0] for r in conn.execute(text("SELECT text FROM contents ORDER BY hash"))]
    engine.dispose()
    rng = random.Random(seed)
    out: dict[int, list[str]] = {}
    for size in (1, 2, 3, 4, 5):
        picked: list[str] = []
        while len(picked) < 6:
            body = rng.choice(texts)
            start = rng.randrange(0, max(1, len(body) - size))
            term = body[start : start + size]
            if term.strip() == term and "\n" not in term and term not in picked:
                picked.append(term)
        out[size] = picked
    return out


def test_every_term_length_and_mix_finds_exactly_the_like_scan(searchable: tuple[TestClient, str, Path]) -> None:
    client, url, _config = searchable
    terms = sample_terms(url)
    queries: list[list[str]] = [[t] for size in (1, 2, 3, 4, 5) for t in terms[size]]
    queries += [[a, b] for a, b in zip(terms[1], terms[4], strict=True)]  # short and long mixed
    queries += [[a, b] for a, b in zip(terms[2], terms[3], strict=True)]
    queries += [[a, b] for a, b in zip(terms[1], terms[2], strict=True)]  # short only
    queries += [
        ["同志"],
        ["的"],
        ["同志们"],
        ["全面", "发展"],
        ["讲话", "同志们", "的"],
        ["不存在的词语组合"],
        ["党", "们："],
    ]
    checked = 0
    for query in queries:
        expected = like_pages(url, query)
        found = searched_pages(client, " ".join(f'"{t}"' if " " in t else t for t in query))
        assert found == expected, f"query {query!r}: search {sorted(found)} vs LIKE {sorted(expected)}"
        checked += bool(expected)
    assert checked >= len(queries) - 2, "most sampled queries must match something, or the test proves little"


def test_filters_versions_and_pagination(searchable: tuple[TestClient, str, Path]) -> None:
    client, url, _config = searchable
    assert searched_pages(client, "同志", site="wm114") == like_pages(url, ["同志"], site="wm114")
    # An edit: the old text is found only when all versions are searched.
    gone = FIRST_ONLY
    assert searched_pages(client, gone) == like_pages(url, [gone]) == set()
    assert searched_pages(client, gone, versions="all") == like_pages(url, [gone], all_versions=True) != set()
    # Pages of two results each still find everything, once.
    first = client.get("/search", params={"q": "的", "format": "json", "limit": "2"}).json()
    assert len(first["results"]) == 2 and first["next"] is not None
    second = client.get("/search", params={"q": "的", "format": "json", "limit": "2", "after": first["next"]}).json()
    assert {r["text_id"] for r in first["results"]}.isdisjoint({r["text_id"] for r in second["results"]})
    assert max(r["text_id"] for r in second["results"]) < min(r["text_id"] for r in first["results"])


def test_snippets_mark_the_terms_and_html_is_escaped(searchable: tuple[TestClient, str, Path]) -> None:
    client, _url, _config = searchable
    data = client.get("/search", params={"q": "同志 工作", "format": "json"}).json()
    assert data["results"]
    for result in data["results"]:
        marked = {p["text"] for p in result["snippet"] if p["mark"]}
        assert marked and marked <= {"同志", "工作"}
    page = client.get("/search", params={"q": "同志"}).text
    assert "<mark>同志</mark>" in page


def test_rebuild_gives_the_same_answers(searchable: tuple[TestClient, str, Path]) -> None:
    client, url, config = searchable
    before = {q: searched_pages(client, q) for q in ("的", "同志", "同志们", "发展 的")}
    result = CliRunner().invoke(main, ["search-index", "rebuild", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "search index rebuilt:" in result.output
    assert {q: searched_pages(client, q) for q in before} == before
    assert before["同志们"] == like_pages(url, ["同志们"])


def test_query_parsing_and_tokens() -> None:
    assert parse_terms('同志  "全面 发展"　党 同志') == ("同志", "全面 发展", "党")
    assert parse_terms("“高质量 发展” 的") == ("高质量 发展", "的")
    assert parse_terms("   ") == ()
    tokens = grams("同志们\n好A")
    assert {"同", "同志", "志们", "a"} <= set(tokens) and "们好" not in tokens  # no pair across a line break
    assert term_gram("Ab") == "ab"
    with pytest.raises(ValueError):
        term_gram("三个字")
