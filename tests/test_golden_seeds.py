"""Golden tests: each seed page, rendered in its site's replica template, cleans to the seed's body.

The seeds' text is read at run time from ../shared/seeds (never copied here);
without it these tests skip and the same checks run on the replica's generated
pages (test_golden_replica_pages). Precision and recall are character-level
over the normalised texts, aligned in order (tests/fixtures/metrics.py).
"""

from __future__ import annotations

import datetime as dt

import pytest
from fixtures.metrics import precision_recall
from fixtures.seeds import SEED_SITES, load_seed, render
from fixtures.shared import require_shared

from archive.cleaning import GAP_MARKER, clean
from archive.cleaning.metadata import SHANGHAI
from archive.cleaning.normalize import normalise_text
from archive.cleaning.profiles import ProfileBook

BOOK = ProfileBook()
MARKERS = (
    "下面是小编为大家整理的", "推荐访问", "版权所有", "Powered by", "ICP备", "文章地址", ".docx_第", "VIP专享",
    "省略", "未完,全文共", "发表时间", "发布时间", "当前位置", "您的位置", "目录/提纲", "收藏《", "当您付费下载文档后",
    "回到顶部", "浏览次数", "【广告】", "相关文章",
)  # fmt: skip


def stored_lines(text: str) -> set[str]:
    return set(normalise_text(text.replace(GAP_MARKER, "\n")).split("\n"))


@pytest.mark.parametrize("key", sorted(SEED_SITES))
def test_seed_page_cleans_to_the_seed_body_and_metadata(key: str) -> None:
    require_shared("seeds")
    seed = load_seed(key)
    assert seed is not None, f"seed {key} is missing from the shared seeds folder"
    body, content_type = render(seed)
    site = seed.site
    ext = clean(body, BOOK.get(site), content_type=content_type, site_title=_site_title(site))
    assert ext.outcome == "ok", ext.reason

    text = normalise_text(ext.text.replace(GAP_MARKER, "\n"))
    missing = [p[:30] for p in seed.paragraphs if normalise_text(p) not in text]
    assert not missing, f"seed {key}: body paragraphs lost: {missing}"
    lines = stored_lines(ext.text)
    leaked = [b[:30] for b in seed.boilerplate if normalise_text(b) in lines]
    leaked += [m for m in MARKERS if m in ext.text]
    assert not leaked, f"seed {key}: boilerplate kept: {leaked}"
    precision, recall = precision_recall(seed.text, ext.text)
    assert precision >= 0.99 and recall >= 0.99, (precision, recall)

    assert ext.title == seed.title
    expected_time = seed.published.replace(tzinfo=SHANGHAI) if seed.published else None
    assert ext.published_at == expected_time
    if expected_time is not None:
        assert ext.published_at.utcoffset() == dt.timedelta(hours=8)  # type: ignore[union-attr]
    assert ext.category == seed.category
    assert ext.source == seed.source
    assert ext.outline == seed.outline
    assert ext.partial == seed.partial
    assert [g.omitted_chars for g in ext.gaps] == seed.gaps
    assert (ext.declared_chars, ext.shown_chars) == (seed.declared, seed.shown)
    if seed.partial:
        assert ext.text.endswith(GAP_MARKER), "a cut-off text ends with our gap marker"
    assert ext.char_count == len(ext.text) and ext.masked_count > 0


def test_seed_000_is_the_documented_paywall_case() -> None:
    require_shared("seeds")
    seed = load_seed("000")
    assert seed is not None
    body, content_type = render(seed)
    ext = clean(body, BOOK.get("wm114"), content_type=content_type, site_title="新文秘网")
    assert ext.partial and [g.omitted_chars for g in ext.gaps] == [778]
    assert (ext.declared_chars, ext.shown_chars) == (4149, 2186)
    gap = ext.gaps[0]
    assert ext.text[gap.offset : gap.offset + len(GAP_MARKER)] == GAP_MARKER
    assert ext.text.count(GAP_MARKER) == 2, "one in-text gap, one cut-off tail (not listed in gaps)"
    assert (ext.speaker, ext.genre) == ("区委书记", "讲话")


def _site_title(site: str) -> str:
    from replica.sites import SITES

    return SITES[site].title
