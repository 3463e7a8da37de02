"""The page as a reader sees it: visible lines, and the block that holds the prose.

Two pure functions over an already de-noised lxml tree. ``visible_lines`` turns
any element into the lines a browser would show (block elements and ``<br>``
break lines). ``main_blocks`` finds the element(s) holding the page's running
prose on a page no profile knows, the way a careful editor would: Chinese body
text is long runs of sentences (full stops, commas), navigation and sidebars
are short link text. Each text-holding block adds its prose length to itself,
its parent and (half) its grandparent, and the best-scoring element whose text
is not mostly links wins; a sibling with a comparable score joins it (a body
split over two containers). This handles what trafilatura's generic rules find
hard on these sites: ``<br>``-separated text in a layout-table cell (sites of the
2000s, Discuz posts) rendered as table rows, and replies or comments beside it.
"""

from __future__ import annotations

import re
from collections import defaultdict

from lxml import etree

BLOCK_TAGS = frozenset({
    "p", "div", "br", "li", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "header",
    "footer", "table", "ul", "ol", "dd", "dt", "dl", "blockquote", "pre", "center", "main", "aside", "nav", "form",
    "fieldset", "figure", "figcaption", "address", "hr",
})  # fmt: skip
_SKIP = frozenset({
    "script", "style", "noscript", "template", "head", "title", "select", "option", "textarea", "button", "iframe",
    "svg",
})  # fmt: skip
_SENTENCE = re.compile(r"[，。；！？,;!?]")
_MIN_PROSE = 10
_SIBLING_SHARE = 0.3
_MAX_LINK_DENSITY = 0.5


def visible_lines(root: etree._Element) -> list[str]:
    """The text of ``root`` as a reader sees its lines (block elements and <br> break lines).

    Written by hand because it must run on our already de-noised tree; html-text
    would re-parse and re-clean the page.
    """
    parts: list[str] = []
    for event, el in etree.iterwalk(root, events=("start", "end")):
        tag = el.tag if isinstance(el.tag, str) else ""
        if event == "start":
            if tag in BLOCK_TAGS:
                parts.append("\n")
            if el.text and tag and tag not in _SKIP:
                parts.append(el.text)
        else:
            if tag in BLOCK_TAGS:
                parts.append("\n")
            if el.tail and el is not root:
                parts.append(el.tail)
    lines = "".join(parts).replace("\xa0", " ").split("\n")
    return [s for s in (line.strip() for line in lines) if s]


def prose_len(text: str) -> int:
    """Characters of running text in one line: long enough and built of sentences."""
    text = text.strip()
    return len(text) if len(text) >= _MIN_PROSE and _SENTENCE.search(text) else 0


def _own_runs(el: etree._Element) -> list[str]:
    """Text lines that belong to ``el`` itself: its text and inline children's, split at <br> and blocks."""
    runs: list[str] = [el.text or ""]
    for child in el:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag in BLOCK_TAGS or tag in _SKIP:
            runs.append(child.tail or "")
        else:
            runs[-1] += "".join(child.itertext()) + (child.tail or "")
    return runs


def _link_density(el: etree._Element) -> float:
    total = len("".join(el.itertext()).strip()) or 1
    linked = sum(len("".join(a.itertext()).strip()) for a in el.iter("a"))
    return min(1.0, linked / total)


def main_blocks(root: etree._Element) -> list[etree._Element]:
    """The element(s) holding the page's prose, in page order; empty when the page has none."""
    scores: dict[etree._Element, float] = defaultdict(float)
    depth: dict[etree._Element, int] = {}
    for el in root.iter():
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag not in BLOCK_TAGS or tag == "br":
            continue
        prose = sum(prose_len(run) for run in _own_runs(el))
        if not prose:
            continue
        parent = el.getparent()
        grand = parent.getparent() if parent is not None else None
        scores[el] += prose
        if parent is not None:
            scores[parent] += prose
        if grand is not None:
            scores[grand] += prose / 2
    if not scores:
        return []
    for el in scores:
        depth[el] = sum(1 for _ in el.iterancestors())
    ranked = sorted(scores, key=lambda e: (scores[e], depth[e]), reverse=True)
    best = None
    for el in ranked[:8]:
        if _link_density(el) < _MAX_LINK_DENSITY:
            best = el
            break
    if best is None:
        return []
    parent = best.getparent()
    if parent is None:
        return [best]
    floor = scores[best] * _SIBLING_SHARE
    return [
        sib
        for sib in parent
        if sib is best or (scores.get(sib, 0) >= floor and _link_density(sib) < _MAX_LINK_DENSITY / 2)
    ]
