"""Unknown sites: the generic path (the ``default`` profile) against plain ``trafilatura.extract``.

Sixteen page styles no profile knows (tests/fixtures/unknown_sites*.py): ours
must never be worse than plain trafilatura on any page, in precision or recall,
and must be clearly better in precision on average. Run with ``-s`` to see the
figures (they are quoted in docs/CLEANING.md).
"""

from __future__ import annotations

import pytest
import trafilatura
from fixtures.metrics import precision_recall
from fixtures.unknown_sites import UnknownPage, unknown_pages
from fixtures.unknown_sites_heldout import held_out_pages

from archive.cleaning import clean
from archive.cleaning.profiles import ProfileBook

DEFAULT = ProfileBook().get("default")
TUNED = unknown_pages(11)
HELD_OUT = held_out_pages(11)


def scores(page: UnknownPage) -> tuple[tuple[float, float], tuple[float, float]]:
    ours = clean(page.body, DEFAULT, content_type=page.content_type)
    assert ours.outcome == "ok", (page.style, ours.reason)
    return precision_recall(page.text, ours.text), precision_recall(page.text, trafilatura.extract(page.body))


def report(label: str, rows: list[tuple[str, tuple[float, float], tuple[float, float]]]) -> tuple[float, float]:
    n = len(rows)
    avg = [sum(r[i][j] for r in rows) / n for i in (1, 2) for j in (0, 1)]
    print(f"\n{label}: {n} pages")
    for style, (op, orr), (pp, pr) in rows:
        print(f"  {style:32} ours P={op:.3f} R={orr:.3f}   plain trafilatura P={pp:.3f} R={pr:.3f}")
    print(f"  average: ours P={avg[0]:.3f} R={avg[1]:.3f}   plain trafilatura P={avg[2]:.3f} R={avg[3]:.3f}")
    return avg[0], avg[2]


@pytest.mark.parametrize(("label", "pages"), [("tuned styles", TUNED), ("held-out styles", HELD_OUT)])
def test_the_generic_path_is_never_worse_than_plain_trafilatura(label: str, pages: list[UnknownPage]) -> None:
    rows = [(page.style, *scores(page)) for page in pages]
    for style, (op, orr), (pp, pr) in rows:
        assert op >= pp - 1e-9, f"{style}: precision {op:.3f} < plain trafilatura's {pp:.3f}"
        assert orr >= pr - 1e-9, f"{style}: recall {orr:.3f} < plain trafilatura's {pr:.3f}"
        assert orr >= 0.99, f"{style}: recall {orr:.3f}"
    ours, plain = report(label, rows)
    assert ours >= plain


def test_it_is_clearly_better_in_precision_on_forum_table_and_news_pages() -> None:
    by_style = {page.style: page for page in TUNED}
    for style in ("forum thread (Discuz)", "2000s table layout", "modern news page"):
        (op, orr), (pp, _pr) = scores(by_style[style])
        assert op >= 0.99 and orr >= 0.99, style
        assert op > pp, style
    rows = [scores(page) for page in TUNED]
    assert sum(o[0] for o, _ in rows) / len(rows) >= sum(p[0] for _, p in rows) / len(rows) + 0.03


def test_unknown_pages_get_their_title_and_mislabelled_gbk_decodes() -> None:
    for page in TUNED:
        ext = clean(page.body, DEFAULT, content_type=page.content_type)
        assert ext.title == page.title, page.style
        assert "\ufffd" not in ext.text
    table = next(p for p in TUNED if p.style == "2000s table layout")  # GBK bytes, page says gb2312
    ext = clean(table.body, DEFAULT, content_type=table.content_type)
    assert ext.encoding == "gb18030" and ext.source == "县政府办"
