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
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import trafilatura
from lxml import etree

from archive.cleaning.mainblock import Line, main_blocks, prose_len, read_lines
from archive.cleaning.normalize import squash
from archive.cleaning.profiles import Profile
from archive.cleaning.rules import is_boilerplate

_TABLE_CELL = re.compile(r"^\|\s*|\s*\|$")
_WRONG_BLOCK = 0.5
"""Below this share of trafilatura's prose held by the block, the block is not the body."""
_SMALL_BLOCK = 0.25
"""Below this share of the (non-link) text trafilatura keeps, the block is a stray paragraph beside a body
of short lines (lyrics, a programme, a table of figures)."""
CROSS_CHECK_CHARS = 1_000_000
"""Above this much visible text, trafilatura's cross-check is skipped: on a 10 MB page it costs 20 s."""
_PLAIN = 0.1
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


def _describe(el: etree._Element) -> str:
    """A short name of an element for the reason text: tag#id.class."""
    tag = el.tag if isinstance(el.tag, str) else "?"
    ident = f"#{el.get('id')}" if el.get("id") else ""
    cls = "." + ".".join((el.get("class") or "").split()[:2]) if el.get("class") else ""
    return f"{tag}{ident}{cls}"


class _Votes:
    """Per-line verdicts computed once: does trafilatura keep the line, is it the profile's boilerplate."""

    def __init__(self, page: list[Line], kept: _Kept, profile: Profile) -> None:
        self.kept = [kept.has(line.text) for line in page]
        self._page = page
        self._profile = profile
        self._boiler: dict[int, bool] = {}

    def boiler(self, i: int) -> bool:
        if i not in self._boiler:
            self._boiler[i] = is_boilerplate(self._page[i].text, self._profile)
        return self._boiler[i]


def _generic(root: etree._Element, page: list[Line], profile: Profile, *, cross_check: bool = True) -> Body:
    blocks = main_blocks(page)
    found = trafilatura_lines(root) if cross_check else None
    if not blocks:
        if not found:
            why = "no prose block and trafilatura found no text" if cross_check else "no prose block"
            return Body(None, "none", why)
        return Body(found, "trafilatura", "no prose block on the page (short lines, a list or a table): its lines kept")
    if not found:
        inside = {el for block in blocks for el in block.iter()}
        lines = [line.text for line in page if line.owner in inside and line.prose]
        where = " + ".join(_describe(b) for b in blocks)
        why = "trafilatura found nothing" if cross_check else "page too large for the trafilatura cross-check"
        return Body(lines, "prose-block", f"prose block {where}; {why}")
    votes = _Votes(page, _Kept(found), profile)
    blocks, grown = _grow(blocks, page, votes.kept)
    inside = {el for block in blocks for el in block.iter()}
    held = [line.owner in inside for line in page]
    where = " + ".join(_describe(b) for b in blocks)

    # The wrong block: a sidebar of summaries or an excerpt list out-scored a body trafilatura found elsewhere.
    block_prose = outside_prose = 0.0
    for i, line in enumerate(page):
        if line.prose and votes.kept[i]:
            if held[i]:
                block_prose += line.prose
            elif not votes.boiler(i):  # what the profile drops anyway is not missed
                outside_prose += line.prose
    if block_prose < _WRONG_BLOCK * (block_prose + outside_prose):
        share = block_prose / max(block_prose + outside_prose, 1)
        why = f"prose block {where} holds {share:.0%} of trafilatura's prose: not the body"
        return Body(_kept_lines(page, votes), "trafilatura", why)

    # A body of short lines (lyrics, a programme, a table of figures) beside a stray paragraph.
    plain = [i for i, line in enumerate(page) if line.link_share < _PLAIN and votes.kept[i] and not votes.boiler(i)]
    plain_chars = sum(page[i].chars for i in plain)
    block_chars = sum(page[i].chars for i in plain if held[i])
    if block_chars < _SMALL_BLOCK * plain_chars:
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
    return Body(body, "prose-block", f"prose block {where} ({span}), trimmed by trafilatura")


def _kept_lines(page: list[Line], votes: _Votes) -> list[str]:
    """trafilatura's choice of the page's lines, without link lines (navs, related-article lists)."""
    return [line.text for i, line in enumerate(page) if votes.kept[i] and not line.linked]


_GROW_LEVELS = 3
_GROW_AGREEMENT = 0.8
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


def find_body(root: etree._Element, profile: Profile, page: list[Line] | None = None) -> Body:
    """The body of a parsed page: the profile's hint, else the generic path (``page``: its lines, read once)."""
    if profile.body is None:
        lines = page if page is not None else read_lines(root)
        return _generic(root, lines, profile, cross_check=sum(len(line.text) for line in lines) <= CROSS_CHECK_CHARS)
    found = [el for el in profile.body(root) if isinstance(el, etree._Element)]
    if not found:
        return Body(None, "hint", f"body hint {profile.body_hint} matched nothing")
    return Body([line.text for el in found for line in read_lines(el)], "hint", f"body hint {profile.body_hint}")


__all__ = ["Body", "find_body", "prose_len", "trafilatura_lines"]
