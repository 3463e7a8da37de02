"""The crawl benchmark's pages: rendered once into a directory of static files, then served by a static server.

Rendering a 50 KB replica page costs more CPU than fetching it, so the pages
are written to disk before any measured crawl and served by a cheap static
server in its own process (benchmarks/static_server.py): the crawl measured
shares the cores with nginx's sendfile, not with Python rendering HTML.

The corpus is one site, 众一秘书网's CMS template (the replica's ``zhongyi``):
its list pages, and article pages of 5,000-16,000 characters of speech text
(replica/textgen.py) padded to about ``page_kb`` KB. Every tenth article is
the same template served as GBK (``<meta charset="gbk">``, no charset in the
Content-Type: the static server knows none), as one in ten pages is on the
sites this archive crawls. What was written is measured and returned, so the
benchmark states its corpus instead of assuming it.
"""

from __future__ import annotations

import dataclasses
import json
import random
import statistics
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from replica.catalogue import Catalogue
from replica.site_cms import Zhongyi
from replica.textgen import generate_speech, is_head

SITE = "zhongyi"
PER_PAGE = 100
"""Articles per list page (the replica CMS's list template)."""
GBK_EVERY = 10
"""Every tenth article is served as GBK: 10 % of the corpus."""
CHARS = (5_000, 16_000)
"""Speech length range in characters; the paragraph count is drawn to land in it (~205 characters a paragraph)."""
_CHARS_PER_PARAGRAPH = 205
MANIFEST = "corpus.json"


class ZhongyiGbk(Zhongyi):
    """The same CMS template, its pages encoded as GBK and declared so in ``<meta>`` only."""

    encoding: ClassVar[str] = "gbk"
    meta_charset: ClassVar[str] = "gbk"
    content_type: ClassVar[str] = "text/html"

    def encode(self, page: str) -> bytes:
        """Characters GBK lacks (the footer's ``©``) as character references, as GBK sites write them."""
        return page.encode(self.encoding, "xmlcharrefreplace")


def _speech_paragraphs(seed: int, rng: random.Random, mask: str) -> tuple[str, ...]:
    """A speech of a length drawn from ``CHARS``: the paragraph count is estimated, then corrected
    (paragraph lengths vary, so an estimate alone misses the range by up to a third)."""
    target = rng.uniform(*CHARS)
    count = round(target / _CHARS_PER_PARAGRAPH)
    paragraphs = tuple(generate_speech(seed, paragraphs=count, mask=mask).paragraphs)
    for _ in range(3):
        chars = sum(map(len, paragraphs))
        if CHARS[0] <= chars <= CHARS[1]:
            break
        count = max(3, round(count * target / chars))
        paragraphs = tuple(generate_speech(seed, paragraphs=count, mask=mask).paragraphs)
    return paragraphs


def render_articles(pages: int, page_kb: int, seed: int = 0) -> Iterator[tuple[str, bytes, int]]:
    """Each article of the corpus as (URL path, bytes as served, characters of speech), in order."""
    utf8, gbk = Zhongyi(), ZhongyiGbk()
    catalogue = Catalogue(utf8, pages, seed, 0)
    rng = random.Random(f"bench-corpus:{seed}")
    for index, aid in enumerate(catalogue.ids()):
        template = gbk if index % GBK_EVERY == GBK_EVERY - 1 else utf8
        view = catalogue.article_view(aid, "http://127.0.0.1", page_kb)
        paragraphs = _speech_paragraphs(seed * 1_000_003 + aid, rng, template.mask)
        view = dataclasses.replace(
            view,
            paragraphs=paragraphs,
            outline=tuple(p for p in paragraphs if is_head(p)),
            plan=template.plan(aid, paragraphs),
        )
        yield view.path, template.encode(template.render_article(view)), sum(len(p) for p in paragraphs)


def write_corpus(root: Path, pages: int, page_kb: int, seed: int = 0) -> dict[str, Any]:
    """Write ``pages`` articles and their list pages under ``root``; return what was written (also kept in
    ``root/corpus.json``, so a second run with the same parameters reuses the files)."""
    wanted = {"site": SITE, "pages": pages, "page_kb": page_kb, "seed": seed}
    manifest = root / MANIFEST
    if manifest.exists():
        stated: dict[str, Any] = json.loads(manifest.read_text(encoding="utf-8"))
        if {k: stated.get(k) for k in wanted} == wanted:
            return stated
    utf8 = Zhongyi()
    catalogue = Catalogue(utf8, pages, seed, 0)
    sizes: list[int] = []
    chars: list[int] = []
    for path, body, speech_chars in render_articles(pages, page_kb, seed):
        _write(root, path, body)
        sizes.append(len(body))
        chars.append(speech_chars)
    lists = catalogue.pages(PER_PAGE)
    list_bytes = 0
    for number in range(1, lists + 1):
        list_view = catalogue.list_view(number, PER_PAGE, "http://127.0.0.1", page_kb)
        assert list_view is not None
        body = utf8.encode(utf8.render_list(list_view))
        _write(root, utf8.list_path(number), body)
        list_bytes += len(body)
    stated = {
        **wanted,
        "articles": len(sizes),
        "list_pages": lists,
        "gbk_share": round(sum(1 for i in range(len(sizes)) if i % GBK_EVERY == GBK_EVERY - 1) / len(sizes), 3),
        "article_bytes": _spread(sizes),
        "article_chars": _spread(chars),
        "total_mb": round((sum(sizes) + list_bytes) / 2**20, 1),
        "start_path": utf8.list_path(1),
        "article_pattern": utf8.article_pattern,
        "pagination_pattern": utf8.pagination_pattern,
        "title": utf8.title,
    }
    manifest.write_text(json.dumps(stated, ensure_ascii=False, indent=2), encoding="utf-8")
    return stated


def _write(root: Path, path: str, body: bytes) -> None:
    """A URL path as a file; a directory path (``/fanwen/gongwen/``) becomes its ``index.html``."""
    target = root / path.lstrip("/")
    if path.endswith("/"):
        target = target / "index.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(body)


def _spread(values: list[int]) -> dict[str, int]:
    return {"min": min(values), "median": int(statistics.median(values)), "max": max(values)}
