"""trafilatura asked at the smallest scope that decides the page (archive/cleaning/crosscheck.py).

The claim is that asking less never changes the text: every page below is
cleaned twice, once as the cleaner does it and once with trafilatura asked
about the whole page, and the texts must be equal. Real pages nobody here
wrote (../shared/corpus/cleaneval-zh) first, then the project's own fixtures.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import trafilatura
from fixtures.shared import require_shared
from fixtures.unknown_sites import unknown_pages
from fixtures.unknown_sites_heldout import held_out_pages

import archive.cleaning.body as body_module
from archive.cleaning import clean
from archive.cleaning.crosscheck import PAGE
from archive.cleaning.profiles import ProfileBook
from replica.catalogue import Catalogue
from replica.sites import SITE_NAMES, SITES

BOOK = ProfileBook()
DEFAULT = BOOK.get("default")
PROSE = "同志们，今年以来，全市上下认真贯彻落实各项决策部署，经济社会发展取得了新的成效。"


@contextmanager
def whole_page_always(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with monkeypatch.context() as patch:
        patch.setattr(body_module, "scope_for", lambda *_args: PAGE)
        yield


@contextmanager
def counting_trafilatura(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    calls: list[int] = []
    real = trafilatura.extract

    def counted(*args: object, **kwargs: object) -> str | None:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    with monkeypatch.context() as patch:
        patch.setattr(trafilatura, "extract", counted)
        yield calls


def page(body: str) -> bytes:
    return f"<html><head><title>在全市工作会议上的讲话</title></head><body>{body}</body></html>".encode()


def test_an_unambiguous_block_is_decided_without_trafilatura(monkeypatch: pytest.MonkeyPatch) -> None:
    html = page(
        "<div class='nav'><a href='/'>首页</a><a href='/a'>公文</a></div>"
        f"<div class='content'><p>各位同志：</p><p>{PROSE * 3}</p><p>一、统一思想</p><p>{PROSE * 2}</p></div>"
        "<div class='links'><a href='/1'>相关文章一</a><a href='/2'>相关文章二</a></div>"
    )
    with counting_trafilatura(monkeypatch) as calls:
        ext = clean(html, DEFAULT)
    assert calls == [] and "trafilatura not asked" in (ext.body_reason or ""), ext.body_reason
    assert ext.text.split("\n") == ["各位同志：", PROSE * 3, "一、统一思想", PROSE * 2]
    with whole_page_always(monkeypatch):
        assert clean(html, DEFAULT).text == ext.text


def test_a_line_only_trafilatura_can_place_asks_it_about_the_container(monkeypatch: pytest.MonkeyPatch) -> None:
    html = page(
        f"<div id='wrap'><div class='content'><p>{PROSE * 3}</p><p>{PROSE}</p><p>附件：会议议程</p></div></div>"
        "<div class='side'><p>本站简介</p></div>"
    )
    with counting_trafilatura(monkeypatch) as calls:
        ext = clean(html, DEFAULT)
    assert len(calls) == 1 and "on its container div#wrap" in (ext.body_reason or ""), ext.body_reason
    with whole_page_always(monkeypatch):
        assert clean(html, DEFAULT).text == ext.text


def test_prose_spread_over_the_page_asks_about_the_whole_page(monkeypatch: pytest.MonkeyPatch) -> None:
    html = page(f"<div class='a'><p>{PROSE * 2}</p></div><div class='b'><p>{PROSE}</p></div>")
    with counting_trafilatura(monkeypatch) as calls:
        ext = clean(html, DEFAULT)
    assert len(calls) == 1 and "container" not in (ext.body_reason or "") and ext.ok, ext.body_reason


def _same_text_either_way(monkeypatch: pytest.MonkeyPatch, pages: list[tuple[str, bytes, str | None]]) -> None:
    narrow = {key: clean(body, DEFAULT, content_type=ctype).text for key, body, ctype in pages}
    with whole_page_always(monkeypatch):
        whole = {key: clean(body, DEFAULT, content_type=ctype).text for key, body, ctype in pages}
    assert [key for key in narrow if narrow[key] != whole[key]] == []


def test_asking_less_never_changes_the_text_of_real_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = require_shared("corpus", "cleaneval-zh")
    _same_text_either_way(monkeypatch, [(p.name, p.read_bytes(), None) for p in sorted(corpus.glob("*.html"))])


def test_asking_less_never_changes_the_text_of_the_fixture_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    pages = [(p.style, p.body, p.content_type) for p in unknown_pages(11) + held_out_pages(11)]
    for site in SITE_NAMES:
        template = SITES[site]
        catalogue = Catalogue(template, 4, 7, SITE_NAMES.index(site))
        for aid in catalogue.ids():
            view = catalogue.article_view(aid, "http://127.0.0.1:8800", 20)
            pages.append((f"{site}/{aid}", template.encode(template.render_article(view)), template.content_type))
    _same_text_either_way(monkeypatch, pages)
