"""Finding the body: the profile's hint when it has one, else the prose block cross-checked with trafilatura.

The generic path decides *with* trafilatura rather than falling back to it
blindly: the prose block (mainblock.py) wins when it holds what trafilatura
found, and is trimmed by it; otherwise trafilatura's lines are the body. The
returned method (``hint`` / ``prose-block`` / ``trafilatura``) says which path won.
"""

from __future__ import annotations

import re

import trafilatura
from lxml import etree

from archive.cleaning.mainblock import main_blocks, prose_len, visible_lines
from archive.cleaning.profiles import Profile
from archive.cleaning.rules import drop_boilerplate

_TABLE_CELL = re.compile(r"^\|\s*|\s*\|$")
_SENTENCE_END = re.compile(r"[。！？；!?;]")
_CLAUSE = re.compile(r"[，、,]")
_COVERAGE = 0.9
"""Share of trafilatura's sentences the prose block must hold to be preferred (never lose text to it)."""


def trafilatura_lines(root: etree._Element) -> list[str] | None:
    """trafilatura's text of the page as lines (table cells unwrapped); None when it finds nothing."""
    text = trafilatura.extract(
        root,
        output_format="txt",
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_links=False,
        deduplicate=False,  # its dedup cache is module-global and leaks between pages (STYLE.md)
        favor_recall=True,
    )
    if not text:
        return None
    return [s for s in (_TABLE_CELL.sub("", line.strip()) for line in text.split("\n")) if s and s != "---"]


def _sentences(lines: list[str]) -> list[str]:
    """Prose sentences of extracted lines (table cells split apart): what must not be lost."""
    cells = ("".join(cell.split()) for line in lines for cell in line.split("|"))
    return [s for cell in cells for s in _SENTENCE_END.split(cell) if len(s) >= 12 and _CLAUSE.search(s)]


def _squash(text: str) -> str:
    return "".join(text.split())


def _generic_lines(root: etree._Element, profile: Profile) -> tuple[list[str] | None, str]:
    """The prose block's lines, trimmed by trafilatura; trafilatura's own lines when the block misses text.

    The block keeps its prose lines; a short line or a link (a head, a salutation,
    or an in-body ad, pager or link box) stays only if trafilatura kept it too, so
    the result holds what trafilatura found without the page around the block.
    """
    blocks = main_blocks(root)
    block = [line for el in blocks for line in visible_lines(el)]
    links = {_squash("".join(a.itertext())) for el in blocks for a in el.iter("a")}
    found = trafilatura_lines(root)
    if not block:
        return found, "trafilatura"
    if not found:
        return block, "prose-block"
    held = _squash("".join(block))
    wanted = _sentences(drop_boilerplate(found, profile))  # what the profile drops anyway is not missed
    covered = sum(len(s) for s in wanted if s in held)
    if covered < _COVERAGE * sum(len(s) for s in wanted):
        return found, "trafilatura"
    kept = _squash("".join(found))
    return [
        line for line in block if (prose_len(line) and _squash(line) not in links) or _squash(line) in kept
    ], "prose-block"


def find_body(root: etree._Element, profile: Profile) -> tuple[list[str] | None, str]:
    """(the body's lines or None, the method that found them)."""
    if profile.body is None:
        return _generic_lines(root, profile)
    found = [el for el in profile.body(root) if isinstance(el, etree._Element)]
    if not found:
        return None, "hint"
    return [line for el in found for line in visible_lines(el)], "hint"
