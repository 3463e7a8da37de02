"""Plain data shared by the replica's site templates, catalogue and server.

Kept free of behaviour so templates (pure HTML rendering) and the catalogue (mutable
state behind a lock) can exchange immutable snapshots without sharing locks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class ExpectedArticle:
    """What a perfect crawler + cleaner should record for one replica article.

    ``paragraphs`` holds exactly the body text a perfect cleaner keeps: the speech's
    salutation, section heads and body paragraphs as shown on the page, without title,
    intro line, outline block, paywall/truncation markers, hidden anti-copy text or
    leading indentation.  Where a paywall gap splits a paragraph, each shown part is its
    own item.  ``partial`` pages also carry ``gaps`` (characters omitted in the middle)
    and, where the page states them, ``declared_chars`` / ``shown_chars``; for those,
    ``shown_chars == sum(map(len, paragraphs))`` and the tail that is not shown is
    ``declared_chars - shown_chars - sum(gaps)``.
    """

    site: str
    aid: int
    url: str
    title: str
    published_at: datetime | None
    category: list[str] = field(default_factory=list)
    source: str | None = None
    outline: list[str] = field(default_factory=list)
    paragraphs: list[str] = field(default_factory=list)
    partial: bool = False
    gaps: list[int] = field(default_factory=list)
    declared_chars: int | None = None
    shown_chars: int | None = None
    mask: str = "**"

    @property
    def text(self) -> str:
        """The expected paragraphs joined by newlines."""
        return "\n".join(self.paragraphs)


@dataclass(frozen=True)
class Link:
    """A link to another page of the same site (path relative to the site root)."""

    path: str
    title: str


@dataclass(frozen=True)
class ListItem:
    """One entry of a list page."""

    link: Link
    published: datetime
    summary: str


@dataclass(frozen=True)
class BodyPlan:
    """What an article body shows, decided once and used for both HTML and expectations.

    ``blocks`` are ``("p", text)`` shown pieces and ``("gap", "")`` gap-marker slots in
    page order; ``gaps`` lists the omitted character counts in the same order.
    """

    blocks: tuple[tuple[str, str], ...]
    partial: bool = False
    gaps: tuple[int, ...] = ()
    declared: int | None = None
    shown: int | None = None

    @property
    def shown_paragraphs(self) -> list[str]:
        """The shown pieces, i.e. the expected paragraphs."""
        return [text for kind, text in self.blocks if kind == "p"]


@dataclass(frozen=True)
class ArticleView:
    """Everything a template needs to render one article page (an immutable snapshot)."""

    aid: int
    path: str
    title: str
    published: datetime
    paragraphs: tuple[str, ...]
    outline: tuple[str, ...]
    plan: BodyPlan
    base_url: str
    noise: int
    page_kb: int
    related: tuple[Link, ...] = ()
    prev: Link | None = None
    next: Link | None = None


@dataclass(frozen=True)
class ListView:
    """Everything a template needs to render one list page."""

    page: int
    pages: int
    items: tuple[ListItem, ...]
    base_url: str
    noise: int
    page_kb: int
    hot: tuple[Link, ...] = ()
