"""Finding the body: the profile's hint when it has one, else the prose block decided with trafilatura.

The generic path decides *with* trafilatura rather than falling back to it
blindly. Both read the same page; the verdict is taken line by line over the
page's own lines (mainblock.read_lines), so whichever path wins, the text is cut
into lines the same way. In order (docs/CLEANING.md has the pattern behind each):

1. no prose block on the page: trafilatura's lines (a list, a table of figures);
2. the block grows into its container while trafilatura keeps what that adds
   (a table after the text, text after an inline wrapper);
3. the block holds under half of trafilatura's prose: it is the wrong block (an
   excerpt list, a sidebar of summaries) and trafilatura's lines win;
4. the block holds under a quarter of the plain text trafilatura keeps: the body
   is short lines beside a stray paragraph, and trafilatura's lines win;
5. else the body is the best-scoring run of lines around the block (BTE): prose
   adds, link lines and boilerplate cost, and in it a line stays when it is prose
   or trafilatura kept that line; link lines never stay.

``Body.method`` says which path won (``hint`` / ``prose-block`` /
``prose-block+trafilatura`` / ``trafilatura`` / ``none``) and ``Body.reason`` why.

trafilatura is asked once, at the smallest scope that decides the page
(crosscheck.py): not at all when the block is unambiguous, about the block's
container when only the lines there need its verdict, else about the whole page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import trafilatura
from lxml import etree

from archive.cleaning.crosscheck import (
    GROW_AGREEMENT,
    GROW_LEVELS,
    PAGE,
    PLAIN,
    SMALL_BLOCK,
    Scope,
    describe,
    scope_for,
    standalone,
)
from archive.cleaning.mainblock import Line, main_blocks, prose_len, read_lines
from archive.cleaning.normalize import squash
from archive.cleaning.profiles import Profile
from archive.cleaning.rules import is_boilerplate

_TABLE_CELL = re.compile(r"^\|\s*|\s*\|$")
_WRONG_BLOCK = 0.5
"""Below this share of trafilatura's prose held by the block, the block is not the body."""
_SMALL_BLOCK = SMALL_BLOCK
"""Below this share of the (non-link) text trafilatura keeps, the block is a stray paragraph beside a body
of short lines (lyrics, a programme, a table of figures)."""
CROSS_CHECK_CHARS = 1_000_000
"""Above this much visible text, trafilatura's cross-check is skipped: on a 10 MB page it costs 20 s."""
_PLAIN = PLAIN
"""A line with less than this share of link text is plain text (a reply-list entry is not)."""
_MIN_SUBSTRING = 4
"""A short line counts as kept by trafilatura inside a longer line of it only from this length."""


@dataclass(frozen=True)
class Body:
    """The body's lines (None: none found), which path produced them and why."""

    lines: list[str] | None
    method: str
    reason: str


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


class _Kept:
    """What trafilatura kept, for line-by-line lookups: its lines, their cells, and all of it as one string."""

    def __init__(self, found: list[str]) -> None:
        self.lines = {squash(cell) for line in found for cell in (line, *line.split("|"))}
        self.text = "\n".join(squash(line) for line in found)

    def has(self, line: str) -> bool:
        flat = squash(line)
        return flat in self.lines or (len(flat) >= _MIN_SUBSTRING and flat in self.text)


class _Votes:
    """Per-line verdicts computed once: does trafilatura keep the line, is it the profile's boilerplate.

    ``asked``: the lines trafilatura read (None: all of them, or none was needed). A line it was not
    asked about (outside the block's container) is not kept, except in the wrong-block and
    short-lines checks, which then take their worst case: that it would have been.
    """

    def __init__(self, page: list[Line], kept: list[bool], profile: Profile, asked: list[bool] | None = None) -> None:
        self.kept = kept
        self.asked = asked
        self._page = page
        self._profile = profile

    def boiler(self, i: int) -> bool:
        return is_boilerplate(self._page[i].text, self._profile)  # remembered by the profile (rules._verdict)

    def kept_or_unasked(self, i: int) -> bool:
        return self.kept[i] or (self.asked is not None and not self.asked[i])


def _votes(
    root: etree._Element, page: list[Line], profile: Profile, blocks: list[etree._Element], scope: Scope
) -> _Votes | None:
    """trafilatura's verdict on each line, asked at ``scope``; None when it found no text at all."""
    if scope.kind == "none":  # unambiguous: the block's own plain lines are what any verdict keeps
        inside = {el for block in blocks for el in block.iter()}
        return _Votes(page, [line.owner in inside and not line.linked for line in page], profile)
    if scope.kind == "container":
        assert scope.element is not None
        found = trafilatura_lines(standalone(scope.element))
        if not found:
            return None
        family = set(scope.element.iter())
        asked = [line.owner in family for line in page]
        kept = _Kept(found)
        flags = [was_asked and kept.has(line.text) for was_asked, line in zip(asked, page, strict=True)]
        return _Votes(page, flags, profile, asked)
    found = trafilatura_lines(root)
    if not found:
        return None
    kept = _Kept(found)
    return _Votes(page, [kept.has(line.text) for line in page], profile)


def _generic(
    root: etree._Element, page: list[Line], profile: Profile, *, cross_check: bool = True, title: str | None = None
) -> Body:
    blocks = main_blocks(page)
    if not cross_check:  # too large to ask trafilatura at all
        if not blocks:
            return Body(None, "none", "no prose block")
        return _block_alone(page, blocks, "page too large for the trafilatura cross-check")
    if not blocks:
        found = trafilatura_lines(root)
        if not found:
            return Body(None, "none", "no prose block and trafilatura found no text")
        return Body(found, "trafilatura", "no prose block on the page (short lines, a list or a table): its lines kept")
    body = _decide(root, page, profile, blocks, scope_for(page, blocks, profile, title))
    if body is None:  # trafilatura's verdict on the container did not settle the page: ask about all of it
        body = _decide(root, page, profile, blocks, PAGE)
    assert body is not None, "asked about the whole page, the decision is always taken"
    return body


def _block_alone(page: list[Line], blocks: list[etree._Element], why: str) -> Body:
    """The block's prose lines, when trafilatura has no verdict to give."""
    inside = {el for block in blocks for el in block.iter()}
    lines = [line.text for line in page if line.owner in inside and line.prose]
    where = " + ".join(describe(b) for b in blocks)
    return Body(lines, "prose-block", f"prose block {where}; {why}")


def _decide(
    root: etree._Element, page: list[Line], profile: Profile, blocks: list[etree._Element], scope: Scope
) -> Body | None:
    """The body, with trafilatura asked at ``scope``; None when a narrower scope than the page cannot settle it."""
    votes = _votes(root, page, profile, blocks, scope)
    if votes is None:
        return None if scope.kind == "container" else _block_alone(page, blocks, "trafilatura found nothing")
    blocks, grown = _grow(blocks, page, votes.kept)
    inside = {el for block in blocks for el in block.iter()}
    held = [line.owner in inside for line in page]
    where = " + ".join(describe(b) for b in blocks)

    # The wrong block: a sidebar of summaries or an excerpt list out-scored a body trafilatura found elsewhere.
    block_prose = outside_prose = 0.0
    for i, line in enumerate(page):
        if not line.prose:
            continue
        if held[i]:
            block_prose += line.prose if votes.kept[i] else 0.0
        elif votes.kept_or_unasked(i) and not votes.boiler(i):  # what the profile drops anyway is not missed
            outside_prose += line.prose
    if block_prose < _WRONG_BLOCK * (block_prose + outside_prose):
        if scope.kind == "container":
            return None
        share = block_prose / max(block_prose + outside_prose, 1)
        why = f"prose block {where} holds {share:.0%} of trafilatura's prose: not the body"
        return Body(_kept_lines(page, votes), "trafilatura", why)

    # A body of short lines (lyrics, a programme, a table of figures) beside a stray paragraph.
    plain = [
        i for i, line in enumerate(page)
        if line.link_share < _PLAIN and votes.kept_or_unasked(i) and not votes.boiler(i)
    ]  # fmt: skip
    plain_chars = sum(page[i].chars for i in plain)
    block_chars = sum(page[i].chars for i in plain if held[i] and votes.kept[i])
    if block_chars < _SMALL_BLOCK * plain_chars:
        if scope.kind == "container":
            return None
        why = f"prose block {where} holds {block_chars / max(plain_chars, 1):.0%} of the text trafilatura keeps"
        return Body(_kept_lines(page, votes), "trafilatura", why + ": a body of short lines")

    scores = [_line_score(line, held[i], votes, i) for i, line in enumerate(page)]
    first, last = _best_span(scores)
    body = [
        line.text
        for i, line in enumerate(page[first : last + 1], first)
        if held[i] and not line.linked and (line.prose or votes.kept[i])
    ]
    span = f"lines {first + 1}-{last + 1} of {len(page)}"
    if grown:
        why = f"prose block grown to {where} ({span}): trafilatura keeps what the container adds"
        return Body(body, "prose-block+trafilatura", why)
    if scope.kind == "none":
        return Body(body, "prose-block", f"prose block {where} ({span}), {scope.why}: trafilatura not asked")
    checked = f" ({scope.why})" if scope.kind == "container" else ""
    return Body(body, "prose-block", f"prose block {where} ({span}), trimmed by trafilatura{checked}")


def _kept_lines(page: list[Line], votes: _Votes) -> list[str]:
    """trafilatura's choice of the page's lines, without link lines (navs, related-article lists)."""
    return [line.text for i, line in enumerate(page) if votes.kept[i] and not line.linked]


_GROW_LEVELS = GROW_LEVELS
_GROW_AGREEMENT = GROW_AGREEMENT
"""Share of what a parent adds to the block that trafilatura must keep (as non-link text) to grow into it."""


def _grow(blocks: list[etree._Element], page: list[Line], kept: list[bool]) -> tuple[list[etree._Element], bool]:
    """Widen a single block to its container while trafilatura keeps what the container adds.

    The pattern: a body's own material next to its prose block in one container
    (a table of figures after the text, text that continues after an inline
    wrapper, the standfirst above it). A container that adds link lists or text
    trafilatura drops stops the growth.
    """
    if len(blocks) != 1:
        return blocks, False
    block, grown = blocks[0], False
    inside = set(block.iter())
    for _ in range(_GROW_LEVELS):
        parent = block.getparent()
        if parent is None or parent.tag in ("body", "html"):
            break
        family = set(parent.iter())
        added = [i for i, line in enumerate(page) if line.owner in family and line.owner not in inside]
        total = sum(page[i].chars for i in added)
        agreed = sum(page[i].chars for i in added if not page[i].linked and kept[i])
        if total and agreed < _GROW_AGREEMENT * total:
            break
        block, inside, grown = parent, family, grown or bool(total)
    return [block], grown


def _line_score(line: Line, in_block: bool, votes: _Votes, i: int) -> float:
    """What one line adds to the body's span: prose someone vouches for adds, links and stray text cost."""
    if line.linked:
        return -float(line.chars)
    if line.prose:
        if in_block or votes.kept[i]:
            return line.prose
        return -line.prose / 2  # prose neither we nor trafilatura place in the body: a sidebar summary
    if votes.boiler(i):
        return -float(line.chars)
    if votes.kept[i]:
        return line.chars / 4 if in_block else -1.0  # a short line both place in the body: weak evidence
    return -line.chars / 2


def _best_span(scores: list[float]) -> tuple[int, int]:
    """The run of lines with the largest total score (Kadane): the body, as in BTE (Finn et al. 2001)."""
    best, best_span = float("-inf"), (0, -1)
    total, start = 0.0, 0
    for i, score in enumerate(scores):
        if total <= 0:
            total, start = 0.0, i
        total += score
        if total > best:
            best, best_span = total, (start, i)
    return best_span


def find_body(
    root: etree._Element, profile: Profile, page: list[Line] | None = None, *, title: str | None = None
) -> Body:
    """The body of a parsed page: the profile's hint, else the generic path.

    ``page``: its lines, read once; ``title``: the page's title (its repeats are removed by the rules).
    """
    if profile.body is None:
        lines = page if page is not None else read_lines(root)
        checked = sum(len(line.text) for line in lines) <= CROSS_CHECK_CHARS
        return _generic(root, lines, profile, cross_check=checked, title=title)
    found = [el for el in profile.body(root) if isinstance(el, etree._Element)]
    if not found:
        return Body(None, "hint", f"body hint {profile.body_hint} matched nothing")
    return Body([line.text for el in found for line in read_lines(el)], "hint", f"body hint {profile.body_hint}")


__all__ = ["Body", "find_body", "prose_len", "trafilatura_lines"]
