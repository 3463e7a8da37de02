"""The common shape of a replica site template.

A template is stateless: it maps ids to URLs, routes paths back to ids, decides how
much of a body a page shows (``plan``), renders HTML strings from immutable views and
states the metadata a perfect cleaner should read off its pages.  All mutable state
lives in the catalogue, so one template instance can serve any number of servers.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar

from replica import chrome
from replica.chrome import esc
from replica.model import ArticleView, BodyPlan, Link, ListView
from replica.paywall import full_plan

PAD_MARKER = "<!--replica-padding-->"
LAYOUTS = ("v1", "v2")
"""Article layouts a site can serve (``ReplicaServer.set_layout``)."""


class SiteTemplate:
    """Base class: subclasses set the class variables and the two ``render_*`` methods."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    host: ClassVar[str] = ""
    encoding: ClassVar[str] = "utf-8"
    """Codec of the bytes actually served."""
    content_type: ClassVar[str] = "text/html; charset=utf-8"
    meta_charset: ClassVar[str] = "utf-8"
    """Charset declared inside the page (may lie: wm114 says gb2312, serves GBK)."""
    mask: ClassVar[str] = "**"
    id_start: ClassVar[int] = 1000
    article_pattern: ClassVar[str] = ""
    pagination_pattern: ClassVar[str] = ""
    robots_disallow: ClassVar[tuple[str, ...]] = ("/admin/",)
    jammer: ClassVar[str] = '<span style="display:none">{text}</span>'
    jammer_text: ClassVar[str] = "版权所有"
    decoys: ClassVar[tuple[tuple[str, str], ...]] = ()
    """Non-article, non-pagination links (path, text) sprinkled over every page."""
    body_container: ClassVar[str] = ""
    """Opening tag of the element holding an article body (layout ``v1``)."""
    body_container_v2: ClassVar[str] = ""
    """The same element after a redesign (layout ``v2``): the body sits in another container."""

    _article_re: ClassVar[re.Pattern[str]]
    _list_re: ClassVar[re.Pattern[str]]

    # --- URLs -----------------------------------------------------------------------
    def article_path(self, aid: int, published: datetime) -> str:
        raise NotImplementedError

    def list_path(self, page: int) -> str:
        raise NotImplementedError

    def route(self, path: str) -> tuple[str, int] | None:
        """``("article", aid)`` or ``("list", page)`` for a path, else None (404).

        The server still checks that an article path is the canonical one for the id.
        """
        m = self._article_re.search(path)
        if m:
            return "article", int(m.group("aid"))
        m = self._list_re.search(path)
        if m:
            page = int(m.group("page") or 1)
            if m.group("page") is not None and page < 2:
                return None  # page 1 has only one canonical URL
            return "list", page
        return None

    def robots(self) -> str:
        """robots.txt allowing everything the crawler needs."""
        lines = ["User-agent: *", *(f"Disallow: {p}" for p in self.robots_disallow), ""]
        return "\n".join(lines)

    # --- content decisions ------------------------------------------------------------
    def plan(self, aid: int, paragraphs: Sequence[str]) -> BodyPlan:
        """How much of the body this site shows for article ``aid``."""
        return full_plan(paragraphs)

    def published_at(self, published: datetime) -> datetime | None:
        """The publication time the page shows (None when it shows none)."""
        return published

    def category(self) -> list[str]:
        """Breadcrumb categories without the site name and without 正文/the title."""
        return []

    def source(self) -> str | None:
        return None

    def outline(self, outline: Sequence[str]) -> list[str]:
        """The outline block the page shows (only wm114 prints one)."""
        return []

    # --- rendering ----------------------------------------------------------------------
    def render_article(self, view: ArticleView) -> str:
        raise NotImplementedError

    def render_list(self, view: ListView) -> str:
        raise NotImplementedError

    def relayout(self, page: str, layout: str) -> str:
        """An article page in another layout: ``v2`` moves the body to another container."""
        if layout == "v1":
            return page
        if layout == "v2" and self.body_container and self.body_container in page:
            return page.replace(self.body_container, self.body_container_v2, 1)
        raise ValueError(f"unknown layout {layout!r}; use one of {', '.join(LAYOUTS)}")

    def encode(self, page: str) -> bytes:
        """Bytes as served; strict so a stray non-GBK character fails loudly in tests."""
        return page.encode(self.encoding)

    # --- helpers for subclasses ---------------------------------------------------------
    def rng(self, purpose: str, aid: int) -> random.Random:
        """A per-article RNG that does not depend on the noise epoch."""
        return random.Random(f"{purpose}:{self.name}:{aid}")

    def hidden(self, aid: int) -> str:
        """The invisible anti-copy element planted inside one body paragraph."""
        return self.jammer.format(text=esc(self.jammer_text), aid=aid)

    def body_paragraphs(self, view: ArticleView, indent: str = "") -> list[str]:
        """Escaped inner HTML of each shown piece, with the jammer inside the first long one.

        The jammer goes right after a full stop, so dropping the element restores the
        expected paragraph exactly.  Gap slots come back as the sentinel ``"\\0gap"`` for
        the caller to replace with its own marker.
        """
        out: list[str] = []
        planted = False
        for kind, text in view.plan.blocks:
            if kind == "gap":
                out.append("\0gap")
                continue
            cut = text.find("。") + 1
            if not planted and 0 < cut < len(text):
                out.append(esc(indent + text[:cut]) + self.hidden(view.aid) + esc(text[cut:]))
                planted = True
            else:
                out.append(esc(indent + text))
        return out

    def date_text(self, when: datetime) -> str:
        return when.strftime("%Y-%m-%d %H:%M:%S")

    def sidebar_links(self, view: ArticleView | ListView, key: int | str) -> tuple[list[Link], list[Link]]:
        """相关文章 and 热门文章 picks for this page and noise epoch."""
        pool = view.related if isinstance(view, ArticleView) else view.hot
        order = chrome.shuffled_links(self.name, key, view.noise, pool[:16])
        return order[:8], order[8:16]

    def decoy_html(self, sep: str = " | ") -> str:
        return sep.join(f'<a href="{esc(p)}">{esc(t)}</a>' for p, t in self.decoys)

    def finish(self, page: str, view: ArticleView | ListView, key: int | str) -> str:
        """Pad the page toward ``page_kb`` using links beyond the visible sidebars."""
        pool = view.related if isinstance(view, ArticleView) else view.hot
        return chrome.pad_page(
            page,
            PAD_MARKER,
            view.page_kb * 1024,
            self.encoding,
            lambda need: chrome.padding(self.name, key, view.noise, need, pool=pool[16:], encoding=self.encoding),
        )

    def summary_of(self, text: str, limit: int = 60) -> str:
        return text[:limit] + "…" if len(text) > limit else text

    def ads_html(self, view: ArticleView | ListView, key: int | str, css: str = "ad") -> str:
        texts = chrome.ads(self.name, key, view.noise)
        return "".join(
            f'<div class="{css}"><a href="/plus/ad_js.php?id={i}" rel="nofollow">{esc(t)}</a></div>'
            for i, t in enumerate(texts, 1)
        )


def compile_patterns(cls: type[SiteTemplate], article: str, listing: str) -> None:
    """Attach the routing regexes (with named groups) derived from the public patterns."""
    cls._article_re = re.compile(article)
    cls._list_re = re.compile(listing)
