"""The golden checks on the replica's generated pages (no ../shared needed), in-process.

Pages are rendered by the replica's own templates and compared with
``ExpectedArticle``, the exact truth a perfect cleaner keeps: text, metadata,
paywall gaps and lengths. The same pages also clean right with the ``default``
profile alone, and a redesign (layout v2) is a failed extraction, not a text.
"""

from __future__ import annotations

import pytest
from fixtures.metrics import precision_recall

from archive.cleaning import GAP_MARKER, clean
from archive.cleaning.metadata import SHANGHAI
from archive.cleaning.normalize import normalise_text
from archive.cleaning.profiles import ProfileBook
from archive.config import parse_config
from replica.catalogue import Catalogue
from replica.config import REPLICA_BODY_HINTS
from replica.model import ExpectedArticle
from replica.sites import SITE_NAMES, SITES

# The profiles a replica crawl uses: the built-ins plus the body hints `replica --write-config` writes.
BOOK = ProfileBook(parse_config({"profiles": {n: {"body_xpath": x} for n, x in REPLICA_BODY_HINTS.items()}}).profiles)
BASE = "http://127.0.0.1:8800"
MARKERS = (
    "下面是小编为大家整理的", "推荐访问", "版权所有", "Powered by", "ICP备", "文章地址", ".docx_第", "VIP专享",
    "浏览次数", "【广告】", "【推广】", "相关文章", "热门文章", "正式会员", "未完,全文共", "目录/提纲", "当前位置",
    "您的位置", "发布时间", "当您付费下载文档后", "回到顶部",
)  # fmt: skip


def pages(site: str, count: int = 12, layout: str = "v1") -> list[tuple[bytes, ExpectedArticle]]:
    template = SITES[site]
    catalogue = Catalogue(template, count, 7, SITE_NAMES.index(site))
    out = []
    for aid in catalogue.ids():
        page = template.relayout(template.render_article(catalogue.article_view(aid, BASE, 20)), layout)
        out.append((template.encode(page), catalogue.expected(aid, BASE)))
    return out


def as_paragraphs(text: str) -> str:
    return normalise_text(text.replace(GAP_MARKER, "\n"))


@pytest.mark.parametrize("site", SITE_NAMES)
def test_generated_pages_clean_exactly_with_their_profile(site: str) -> None:
    template = SITES[site]
    partial = 0
    for body, exp in pages(site):
        ext = clean(body, BOOK.get(site), content_type=template.content_type, site_title=template.title)
        assert ext.outcome == "ok", (exp.url, ext.reason)
        assert as_paragraphs(ext.text) == normalise_text(exp.text), exp.url
        assert min(precision_recall(exp.text, ext.text)) >= 0.99
        assert not [m for m in MARKERS if m in ext.text], exp.url
        assert ext.title == exp.title
        assert ext.published_at == (exp.published_at.replace(tzinfo=SHANGHAI) if exp.published_at else None)
        assert (ext.category, ext.source, ext.outline) == (exp.category, exp.source, exp.outline)
        assert ext.partial == exp.partial
        assert [g.omitted_chars for g in ext.gaps] == exp.gaps
        assert (ext.declared_chars, ext.shown_chars) == (exp.declared_chars, exp.shown_chars)
        for gap in ext.gaps:
            assert ext.text[gap.offset : gap.offset + len(GAP_MARKER)] == GAP_MARKER
        if exp.declared_chars is not None:  # the printed numbers add up: shown + gaps + cut-off tail
            assert exp.shown_chars == sum(map(len, exp.paragraphs))
        partial += ext.partial
        assert ext.masked_count > 0 and ext.char_count == len(ext.text)
        assert ext.genre is not None
    if site in ("biganzi",):
        assert partial == 12, "every docx preview is cut off"


@pytest.mark.parametrize("site", SITE_NAMES)
def test_the_default_profile_alone_cleans_the_known_templates(site: str) -> None:
    """No hint, no site patterns: the generic path and the family's common boilerplate suffice."""
    default = BOOK.get("default")
    for body, exp in pages(site, count=4):
        ext = clean(body, default, content_type=SITES[site].content_type)
        assert ext.outcome == "ok" and ext.method in ("prose-block", "prose-block+trafilatura"), ext.reason
        precision, recall = precision_recall(exp.text, ext.text)
        assert precision >= 0.99 and recall >= 0.99, (exp.url, precision, recall)
        assert ext.title == exp.title and ext.partial == exp.partial


@pytest.mark.parametrize("site", SITE_NAMES)
def test_a_redesign_that_moves_the_body_is_a_failed_extraction(site: str) -> None:
    template = SITES[site]
    for body, _exp in pages(site, count=2, layout="v2"):
        ext = clean(body, BOOK.get(site), content_type=template.content_type, site_title=template.title)
        assert ext.outcome == "extraction_failed"
        assert "matched nothing" in (ext.reason or "") and "layout" in (ext.reason or "")
        assert ext.text == ""
