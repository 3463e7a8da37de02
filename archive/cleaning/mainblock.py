"""The page as a reader sees it: visible lines with their link share, and the block that holds the prose.

``read_lines`` turns a de-noised tree into the lines a browser would show
(block elements and ``<br>`` break lines), each with the characters of it that
sit inside links and the innermost block element that holds it: one walk over
the tree, iterative (a page of 10,000 nested ``<div>``s costs no recursion).

``main_blocks`` finds the element(s) holding the page's running prose on a page
no profile knows, with the signals the literature uses for Chinese pages (text
density, link density and punctuation density: CETD, Sun et al. 2011; GNE):
body text is long runs of sentences (full stops, commas) outside links;
navigation, sidebars and 热门/推荐/相关 lists are short link text. Each line
adds its prose length, less its linked share, to its block, the block's parent
and (half) its grandparent; the best-scoring element whose text is not mostly
links wins, and a sibling with a comparable score joins it (a body split over
two containers). This handles what trafilatura's generic rules find hard on
these sites: ``<br>``-separated text in a layout-table cell (sites of the 2000s,
Discuz posts) rendered as table rows, and link boxes beside it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from lxml import etree

BLOCK_TAGS = frozenset({
    "p", "div", "br", "li", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "header",
    "footer", "table", "ul", "ol", "dd", "dt", "dl", "blockquote", "pre", "center", "main", "aside", "nav", "form",
    "fieldset", "figure", "figcaption", "address", "hr", "frameset", "frame", "body", "html", "tbody", "thead",
    "tfoot", "caption", "menu", "dir", "marquee",
})  # fmt: skip
_SKIP = frozenset({
    "script", "style", "noscript", "template", "head", "title", "select", "option", "textarea", "button", "iframe",
    "svg", "object", "embed", "applet", "map", "math",
})  # fmt: skip
_SENTENCE = re.compile(r"[，。；！？,;!?]")
_MIN_PROSE = 10
_SIBLING_SHARE = 0.3
_MAX_LINK_DENSITY = 0.5
LINKED_LINE = 0.5
"""A line with at least this share of its characters inside links is a link, not prose (a nav or a link list)."""


@dataclass(slots=True)
class Line:
    """One visible line: its text, how much of it is link text, and the block element that holds it.

    The measures are computed once, when the line is read (every later stage asks them many times).
    """

    text: str
    owner: etree._Element
    """The innermost block element open where the line starts."""
    index: int
    chars: int
    """Characters of the line, white space not counted."""
    link_share: float
    """Share of those characters inside ``<a>`` elements."""
    linked: bool
    """Mostly link text (LINKED_LINE or more): a nav entry, a related-article title, a pager."""
    prose: float
    """Characters of running text outside links (0 for a short, unpunctuated or linked line); the sentences
    must be in the text outside links."""

    @classmethod
    def read(cls, text: str, links: int, plain: str, owner: etree._Element, index: int) -> Line:
        chars = len(text) - text.count(" ")
        share = min(1.0, links / max(chars, 1))
        linked = share >= LINKED_LINE
        prose = 0.0 if linked else prose_len(plain) * (1 - share)
        return cls(text, owner, index, chars, share, linked, prose)


class _LineReader:
    """Accumulates text into lines during one walk; a line ends at a block boundary or a newline."""

    def __init__(self) -> None:
        self.lines: list[Line] = []
        self._parts: list[str] = []
        self._plain: list[str] = []
        self._links = 0
        self._owner: etree._Element | None = None

    def add(self, text: str, owner: etree._Element, linked: bool) -> None:
        if "\xa0" in text:
            text = text.replace("\xa0", " ")
        if "\n" not in text:  # the usual case: one piece
            self._piece(text, owner, linked)
            return
        for i, piece in enumerate(text.split("\n")):
            if i and self._parts:
                self.flush()
            if piece:
                self._piece(piece, owner, linked)

    def _piece(self, piece: str, owner: etree._Element, linked: bool) -> None:
        if self._owner is None and not piece.isspace():
            self._owner = owner
        self._parts.append(piece)
        if linked:
            self._links += len(piece) - piece.count(" ")
        else:
            self._plain.append(piece)

    def flush(self) -> None:
        text = " ".join("".join(self._parts).split()) if self._parts else ""
        if text and self._owner is not None:
            plain = " ".join("".join(self._plain).split()) if self._links else text
            self.lines.append(Line.read(text, self._links, plain, self._owner, len(self.lines)))
        self._parts, self._plain, self._links, self._owner = [], [], 0, None


def read_lines(root: etree._Element) -> list[Line]:
    """The lines of ``root`` as a reader sees them, each with its link characters and its block.

    Written by hand because it must run on our already de-noised tree (html-text
    would re-parse and re-clean the page) and must record, per line, what the
    main-block finder scores: link share and the holding element. Comments,
    processing instructions and entities contribute only their tails.
    """
    reader = _LineReader()
    add, flush = reader.add, reader.flush
    stack: list[etree._Element] = [root]
    in_link = 0
    for event, el in etree.iterwalk(root, events=("start", "end")):
        tag = el.tag
        if not isinstance(tag, str):
            tag = ""
        if event == "start":
            if tag in BLOCK_TAGS:
                if reader._parts:  # a flush with nothing read is a no-op: skip the call
                    flush()
                stack.append(el)
            elif tag == "a":
                in_link += 1
            if tag and tag not in _SKIP:
                text = el.text
                if text:
                    add(text, stack[-1], in_link > 0)
        else:
            if tag == "a":
                in_link -= 1
            elif tag in BLOCK_TAGS:
                if reader._parts:
                    flush()
                if len(stack) > 1:
                    stack.pop()
            if el is not root:
                tail = el.tail
                if tail:
                    add(tail, stack[-1], in_link > 0)
    flush()
    return reader.lines


def visible_lines(root: etree._Element) -> list[str]:
    """The text of ``root`` as a reader sees its lines (block elements and <br> break lines)."""
    return [line.text for line in read_lines(root)]


def prose_len(text: str) -> int:
    """Characters of running text in one line: long enough and built of sentences."""
    text = text.strip()
    return len(text) if len(text) >= _MIN_PROSE and _SENTENCE.search(text) else 0


def _link_density(el: etree._Element) -> float:
    total = len("".join(el.itertext()).strip()) or 1
    linked = sum(len("".join(a.itertext()).strip()) for a in el.iter("a"))
    return min(1.0, linked / total)


def _signature(el: etree._Element) -> tuple[str, str]:
    return (str(el.tag), " ".join((el.get("class") or "").split()))


def main_blocks(lines: Iterable[Line]) -> list[etree._Element]:
    """The element(s) holding the page's prose, in page order; empty when the page has none.

    Besides the best element, two patterns join it: a sibling scoring at least
    30% of it (a body split over two containers), and an element built from the
    same template (same tag and class) scoring as much (the posts of a blog page,
    a forum thread's long posts: the body repeated in containers of one kind).
    """
    scores: dict[etree._Element, float] = defaultdict(float)
    first: dict[etree._Element, int] = {}
    for line in lines:
        prose = line.prose
        if not prose:
            continue
        el = line.owner
        parent = el.getparent()
        grand = parent.getparent() if parent is not None else None
        for node, share in ((el, 1.0), (parent, 1.0), (grand, 0.5)):
            if node is not None:
                scores[node] += prose * share
                first.setdefault(node, line.index)
    if not scores:
        return []
    depth = {el: sum(1 for _ in el.iterancestors()) for el in scores}
    ranked = sorted(scores, key=lambda e: (scores[e], depth[e]), reverse=True)
    best = next((el for el in ranked[:8] if _link_density(el) < _MAX_LINK_DENSITY), None)
    if best is None:
        return []
    floor = scores[best] * _SIBLING_SHARE
    parent = best.getparent()
    chosen = [best]
    if parent is not None:
        chosen += [
            sib
            for sib in parent
            if sib is not best and scores.get(sib, 0) >= floor and _link_density(sib) < _MAX_LINK_DENSITY / 2
        ]
    kind = _signature(best)
    taken = {node for el in chosen for node in (*el.iter(), *el.iterancestors())}
    for el in ranked if kind[1] else ():  # a template is a tag with a class; a bare <div> is not one
        if scores[el] < floor:
            break
        if el in taken or _signature(el) != kind:
            continue
        if _link_density(el) < _MAX_LINK_DENSITY / 2:
            chosen.append(el)
            taken.update((*el.iter(), *el.iterancestors()))
    return sorted(chosen, key=lambda el: first[el])
