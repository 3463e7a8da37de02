"""The mutable state of one replica site: its articles, edits and noise epoch.

The HTTP handler threads read from here while a test thread edits, so every access
goes through one lock and hands out immutable snapshots (``ArticleView``,
``ListView``, ``ExpectedArticle``) that templates render without holding the lock.
Article bodies are never stored unless edited: they are regenerated (cached) from the
article's speech seed, which keeps a 5,000-article site cheap to build.
"""

from __future__ import annotations

import random
import threading
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from replica.base import SiteTemplate
from replica.model import ArticleView, ExpectedArticle, Link, ListItem, ListView
from replica.textgen import edited_paragraph, generate_speech, is_head, speech_title

ANCHOR = datetime(2025, 3, 20, 9, 30, 0)
"""Publication time of the newest initial article (later additions come after it)."""
POOL = 100
"""Other articles offered to a page for sidebars and padding links."""


@dataclass(eq=False)
class _Article:
    aid: int
    speech_seed: int
    published: datetime
    mask: str
    title: str | None = None
    paragraphs: tuple[str, ...] | None = None
    revision: int = 0
    gone: int | None = None
    origin: tuple[str, int] | None = None
    """(site, id) of the article this one re-posts: the replica's truth about works."""


class Catalogue:
    """Articles of one site, oldest first, plus the noise epoch."""

    def __init__(self, site: SiteTemplate, count: int, seed: int, site_index: int) -> None:
        self.site = site
        self.lock = threading.RLock()
        self.noise = 0
        self._seed_base = seed * 1_000_003 + site_index * 100_000_007
        self._rng = random.Random(f"catalogue:{seed}:{site.name}")
        self._created = 0
        self._articles: list[_Article] = []
        self._by_id: dict[int, _Article] = {}
        self._live: list[_Article] = []
        self._position: dict[int, int] = {}
        mean_hours = min(36.0, 3 * 365 * 24 / max(count, 1))
        steps = [timedelta(hours=self._rng.uniform(0.2, 1.8) * mean_hours) for _ in range(count)]
        when = ANCHOR - sum(steps, timedelta())
        aid = site.id_start
        for step in steps:
            when += step
            aid += self._rng.randint(1, 9)
            stamp = when + timedelta(seconds=self._rng.randint(0, 3599))
            self._append(aid, stamp.replace(microsecond=0), self._next_seed())
        self._relive()

    # --- construction helpers -----------------------------------------------------------
    def _next_seed(self) -> int:
        self._created += 1
        return self._seed_base + self._created

    def _append(self, aid: int, published: datetime, speech_seed: int, **extra: object) -> _Article:
        art = _Article(aid, speech_seed, published, self.site.mask)
        for key, value in extra.items():
            setattr(art, key, value)
        self._articles.append(art)
        self._by_id[aid] = art
        return art

    def _relive(self) -> None:
        self._live = [a for a in self._articles if a.gone is None]
        self._position = {a.aid: i for i, a in enumerate(self._live)}

    def _get(self, aid: int) -> _Article:
        try:
            return self._by_id[aid]
        except KeyError:
            raise KeyError(f"{self.site.name} has no article {aid}") from None

    def _new_article(self, **extra: object) -> int:
        newest = self._articles[-1] if self._articles else None
        when = (newest.published if newest else ANCHOR) + timedelta(minutes=self._rng.randint(20, 600))
        aid = (newest.aid if newest else self.site.id_start) + self._rng.randint(1, 9)
        self._append(aid, when.replace(microsecond=0), self._next_seed(), **extra)
        self._relive()
        return aid

    # --- reading --------------------------------------------------------------------------
    def _title(self, art: _Article) -> str:
        return art.title if art.title is not None else speech_title(art.speech_seed)

    def _paragraphs(self, art: _Article) -> tuple[str, ...]:
        if art.paragraphs is not None:
            return art.paragraphs
        return tuple(generate_speech(art.speech_seed, mask=art.mask).paragraphs)

    def _link(self, art: _Article) -> Link:
        return Link(self.site.article_path(art.aid, art.published), self._title(art))

    def _pool(self, key: str, exclude: int | None) -> tuple[Link, ...]:
        live = self._live
        rng = random.Random(f"pool:{self.site.name}:{key}:{self.noise}")
        picks = rng.sample(range(len(live)), min(len(live), POOL + 1))
        return tuple(self._link(live[i]) for i in picks if live[i].aid != exclude)[:POOL]

    def ids(self) -> list[int]:
        """Ids of the articles on the site (not gone), newest first."""
        with self.lock:
            return [a.aid for a in reversed(self._live)]

    def paragraphs(self, aid: int) -> list[str]:
        with self.lock:
            return list(self._paragraphs(self._get(aid)))

    def path(self, aid: int) -> str:
        with self.lock:
            art = self._get(aid)
            return self.site.article_path(art.aid, art.published)

    def status(self, aid: int) -> int | None:
        """None for a live article, else the status it is served with."""
        with self.lock:
            return self._get(aid).gone

    def title_and_body(self, aid: int) -> tuple[str, tuple[str, ...], str]:
        with self.lock:
            art = self._get(aid)
            return self._title(art), self._paragraphs(art), art.mask

    def article_view(self, aid: int, base_url: str, page_kb: int) -> ArticleView:
        with self.lock:
            art = self._get(aid)
            paragraphs = self._paragraphs(art)
            index = self._position.get(aid, -1)
            prev = self._link(self._live[index - 1]) if index > 0 else None
            nxt = self._link(self._live[index + 1]) if 0 <= index < len(self._live) - 1 else None
            return ArticleView(
                aid=aid,
                path=self.site.article_path(aid, art.published),
                title=self._title(art),
                published=art.published,
                paragraphs=paragraphs,
                outline=tuple(p for p in paragraphs if is_head(p)),
                plan=self.site.plan(aid, paragraphs),
                base_url=base_url,
                noise=self.noise,
                page_kb=page_kb,
                related=self._pool(str(aid), aid),
                prev=prev,
                next=nxt,
            )

    def pages(self, per_page: int) -> int:
        with self.lock:
            return max(1, -(-len(self._live) // per_page))

    def list_view(self, page: int, per_page: int, base_url: str, page_kb: int) -> ListView | None:
        with self.lock:
            pages = self.pages(per_page)
            if not 1 <= page <= pages:
                return None
            newest_first = self._live[::-1][(page - 1) * per_page : page * per_page]
            items = []
            for art in newest_first:
                body = self._paragraphs(art)
                summary = body[1] if len(body) > 1 else body[0]
                items.append(ListItem(self._link(art), art.published, summary[:60] + "…"))
            return ListView(
                page=page,
                pages=pages,
                items=tuple(items),
                base_url=base_url,
                noise=self.noise,
                page_kb=page_kb,
                hot=self._pool(f"list{page}", None),
            )

    def expected(self, aid: int, base_url: str) -> ExpectedArticle:
        site = self.site
        with self.lock:
            art = self._get(aid)
            title, paragraphs = self._title(art), self._paragraphs(art)
            path, published, mask = site.article_path(aid, art.published), art.published, art.mask
        plan = site.plan(aid, paragraphs)
        return ExpectedArticle(
            site=site.name,
            aid=aid,
            url=base_url + path,
            title=title,
            published_at=site.published_at(published),
            category=site.category(),
            source=site.source(),
            outline=site.outline([p for p in paragraphs if is_head(p)]),
            paragraphs=plan.shown_paragraphs,
            partial=plan.partial,
            gaps=list(plan.gaps),
            declared_chars=plan.declared,
            shown_chars=plan.shown,
            mask=mask,
        )

    # --- changing -------------------------------------------------------------------------
    def edit(self, aid: int, paragraph: int | None) -> int:
        with self.lock:
            art = self._get(aid)
            body = list(self._paragraphs(art))
            index = 1 if paragraph is None else paragraph
            if not -len(body) <= index < len(body):
                raise IndexError(f"{self.site.name} article {aid} has {len(body)} paragraphs, not {index + 1}")
            index %= len(body)
            seed = zlib.crc32(f"{self.site.name}:{aid}:{art.revision}:{index}".encode())
            body[index] = edited_paragraph(body[index], seed, art.mask)
            art.paragraphs = tuple(body)
            art.revision += 1
            return index

    def set_paragraphs(self, aid: int, paragraphs: Sequence[str]) -> None:
        if isinstance(paragraphs, str) or not all(isinstance(p, str) and p for p in paragraphs) or not paragraphs:
            raise ValueError("paragraphs must be a non-empty list of non-empty strings")
        with self.lock:
            art = self._get(aid)
            art.paragraphs = tuple(paragraphs)
            art.revision += 1

    def bump_noise(self) -> None:
        with self.lock:
            self.noise += 1

    def add(self, count: int) -> list[int]:
        with self.lock:
            return [self._new_article() for _ in range(count)][::-1]

    def add_copy(
        self,
        title: str,
        paragraphs: Sequence[str] | None,
        mask: str,
        *,
        origin: tuple[str, int],
        speech_seed: int | None = None,
    ) -> int:
        """A re-post: the given body, or (``paragraphs`` None) the speech ``speech_seed`` rendered with ``mask``."""
        with self.lock:
            aid = self._new_article(title=title, mask=mask, origin=origin)
            art = self._by_id[aid]
            if paragraphs is not None:
                art.paragraphs = tuple(paragraphs)
            elif speech_seed is not None:
                art.speech_seed = speech_seed
            return aid

    def origin(self, aid: int) -> tuple[str, int]:
        """The article this one copies (itself when it is an original)."""
        with self.lock:
            return self._get(aid).origin or (self.site.name, aid)

    def seed_of(self, aid: int) -> tuple[int, bool]:
        """The article's speech seed, and whether its body was edited (then the seed no longer renders it)."""
        with self.lock:
            art = self._get(aid)
            return art.speech_seed, art.paragraphs is not None

    def origins(self) -> list[tuple[int, tuple[str, int]]]:
        """(id, origin) of every live article."""
        with self.lock:
            return [(a.aid, a.origin or (self.site.name, a.aid)) for a in self._live]

    def remove(self, aid: int, status: int) -> None:
        with self.lock:
            self._get(aid).gone = status
            self._relive()

    def restore(self, aid: int) -> None:
        with self.lock:
            self._get(aid).gone = None
            self._relive()
