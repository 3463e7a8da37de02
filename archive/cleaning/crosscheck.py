"""How much of the page trafilatura must read before the body is decided: nothing, the block's container, or all.

The generic path (body.py) asks trafilatura for a second opinion line by line.
trafilatura is the dearest stage of cleaning (5-15 ms a page, more than
everything else together), and on most article pages its opinion cannot change
the outcome, or only the part of it about the block's own neighbourhood can.
So the question is asked at the smallest scope that decides the page:

``none``
    The block is **unambiguous**: one block holding ≥ 90% of the page's prose;
    the levels above it that the block could grow into add only link lines,
    the title or the profile's (non-truncating) boilerplate, or are mostly link
    text (growth stops there whatever trafilatura says); every other line of
    the block is prose, a link line, or a short line directly followed by prose
    (a heading, a salutation); and the text outside the block cannot out-weigh
    it as a body of short lines. Then any answer of trafilatura that keeps the
    block's text leads to the same body, and it is not asked.
``container``
    The block holds ≥ 90% of the page's prose but a line in it (or above it)
    needs a verdict: trafilatura reads a copy of the block's container (the
    element it could grow into, up to 3 levels up) instead of the whole page,
    about half the cost on real pages, with the same verdicts on the lines
    there. The wrong-block and short-lines checks, which need the rest of the
    page, are then taken with every line outside the container counted as kept
    (their worst case); when that worst case would change the decision, the
    whole page is asked after all.
``page``
    Otherwise (no clear block, the prose spread over the page): the whole page.

The pattern behind the thresholds is the one of the checks themselves
(body.py): a block that holds nearly all the prose cannot be "the wrong block",
and short lines sandwiched in prose are the body's headings.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import lxml.html
from lxml import etree

from archive.cleaning.mainblock import Line
from archive.cleaning.profiles import Profile
from archive.cleaning.rules import drops, is_boilerplate, truncates

CLEAR_SHARE = 0.9
"""Share of the page's prose the block must hold for trafilatura to be asked about less than the whole page."""
GROW_LEVELS = 3
"""Levels above the block the body may grow into (body.py's growth rule)."""
GROW_AGREEMENT = 0.8
"""Share of what a level adds that must be kept non-link text for the block to grow into it (body.py)."""
SMALL_BLOCK = 0.25
"""Below this share of the plain text kept, the block is a stray paragraph beside a body of short lines (body.py)."""
PLAIN = 0.1
"""A line with less than this share of link text is plain text (body.py)."""


@dataclass(frozen=True)
class Scope:
    """What trafilatura reads for one page's decision: nothing, one element (a copy of it), or the page."""

    kind: str
    """``none``, ``container`` or ``page``."""
    element: etree._Element | None = None
    """The container trafilatura reads (``container`` only)."""
    why: str = ""


PAGE = Scope("page")


def describe(el: etree._Element) -> str:
    """A short name of an element for reason texts: tag#id.class."""
    tag = el.tag if isinstance(el.tag, str) else "?"
    ident = f"#{el.get('id')}" if el.get("id") else ""
    cls = "." + ".".join((el.get("class") or "").split()[:2]) if el.get("class") else ""
    return f"{tag}{ident}{cls}"


class _Page:
    """The per-line facts the scope decision reads, computed once."""

    def __init__(self, page: list[Line], profile: Profile, title: str | None) -> None:
        self.page = page
        self.profile = profile
        self.title = title
        self._transparent: dict[int, bool] = {}

    def boiler(self, i: int) -> bool:
        return is_boilerplate(self.page[i].text, self.profile)  # remembered by the profile (rules._verdict)

    def transparent(self, i: int) -> bool:
        """A line the rules remove whatever trafilatura says: the title, or boilerplate that does not truncate."""
        if i not in self._transparent:
            text = self.page[i].text
            self._transparent[i] = (
                text == self.title or text.rstrip("。") == self.title
                or (drops(text, self.profile) and not truncates(text, self.profile))
            )  # fmt: skip
        return self._transparent[i]


def _container(block: etree._Element) -> etree._Element:
    """The element the block could grow into: up to GROW_LEVELS ancestors, never <body> or <html>."""
    container = block
    for _ in range(GROW_LEVELS):
        parent = container.getparent()
        if parent is None or parent.tag in ("body", "html"):
            break
        container = parent
    return container


def _common_ancestor(blocks: list[etree._Element]) -> etree._Element | None:
    first = [blocks[0], *blocks[0].iterancestors()]
    others = [{b, *b.iterancestors()} for b in blocks[1:]]
    return next((el for el in first if all(el in o for o in others)), None)


def _growth_decided(facts: _Page, block: etree._Element) -> bool:
    """Whether growing the block could change the body whatever trafilatura keeps (False: it could)."""
    page = facts.page
    family = set(block.iter())
    for _ in range(GROW_LEVELS):
        parent = block.getparent()
        if parent is None or parent.tag in ("body", "html"):
            return True
        wider = set(parent.iter())
        added = [i for i, line in enumerate(page) if line.owner in wider and line.owner not in family]
        total = sum(page[i].chars for i in added)
        linked = sum(page[i].chars for i in added if page[i].linked)
        undecided = sum(page[i].chars for i in added if not page[i].linked and not facts.transparent(i))
        if undecided == 0:  # only link lines and what the rules drop anyway: growing changes no text
            block, family = parent, wider
            continue
        return linked > (1 - GROW_AGREEMENT) * total  # mostly links: growth stops here whatever is kept
    return True


def _lines_decided(facts: _Page, held: list[bool]) -> bool:
    """Whether every line of the block that is neither prose nor a link line is a short line followed by prose."""
    page = facts.page
    inside = [i for i, h in enumerate(held) if h and not facts.transparent(i)]
    for j, i in enumerate(inside):
        line = page[i]
        if line.linked or line.prose:
            continue
        if truncates(line.text, facts.profile):  # kept, it would cut the text after it
            return False
        if j + 1 >= len(inside) or not page[inside[j + 1]].prose:
            return False
    return True


def _small_block_excluded(facts: _Page, held: list[bool]) -> bool:
    """The block's plain text out-weighs a quarter of all the page's plain text, whatever is kept outside it."""
    page = facts.page
    plain = [line.link_share < PLAIN and not facts.boiler(i) for i, line in enumerate(page)]
    inside = sum(line.chars for i, line in enumerate(page) if held[i] and plain[i])
    outside = sum(line.chars for i, line in enumerate(page) if not held[i] and plain[i])
    return inside >= SMALL_BLOCK * (inside + outside)


def scope_for(page: list[Line], blocks: list[etree._Element], profile: Profile, title: str | None) -> Scope:
    """How much of the page trafilatura must read to decide this page's body (see the module's text)."""
    inside = {el for block in blocks for el in block.iter()}
    held = [line.owner in inside for line in page]
    total = sum(line.prose for line in page)
    share = sum(line.prose for line, h in zip(page, held, strict=True) if h) / total if total else 0.0
    if share < CLEAR_SHARE:
        return Scope("page", why=f"the block holds {share:.0%} of the page's prose")
    facts = _Page(page, profile, title)
    if (
        len(blocks) == 1
        and _growth_decided(facts, blocks[0])
        and _lines_decided(facts, held)
        and _small_block_excluded(facts, held)
    ):
        return Scope("none", why=f"unambiguous: the block holds {share:.0%} of the prose")
    container = _container(blocks[0]) if len(blocks) == 1 else _common_ancestor(blocks)
    if container is None or container.tag in ("body", "html"):
        return Scope("page", why="the blocks share no container below <body>")
    return Scope("container", container, f"on its container {describe(container)}")


def standalone(element: etree._Element) -> etree._Element:
    """A document holding a copy of ``element`` alone (trafilatura reads absolute XPaths from the root)."""
    doc = lxml.html.document_fromstring("<html><body></body></html>")
    body = doc.find("body")
    assert body is not None
    piece = copy.deepcopy(element)
    piece.tail = None
    body.append(piece)
    return doc


__all__ = ["PAGE", "Scope", "describe", "scope_for", "standalone"]
