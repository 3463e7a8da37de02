"""How much of an article body a replica site shows.

The real sites truncate in two ways, and the archive must record both honestly:

* wm114 shows about half of some articles: a gap in the middle (``省略{N}字``) and a tail
  cut (``全文共{FULL}字,当前仅显示{SHOWN}字``).  The numbers printed on the page are
  computed here from the real text so tests can check ``SHOWN + N + tail == FULL``.
* biganzi shows a .docx preview: all paragraphs run together, cut mid-sentence.

Characters are counted as Python ``len`` over the paragraph texts (no separators).
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from replica.model import BodyPlan

_PUNCT = set("，。、；：！？“”（）《》…")


def full_plan(paragraphs: Sequence[str]) -> BodyPlan:
    """Everything shown."""
    return BodyPlan(blocks=tuple(("p", p) for p in paragraphs))


def _pieces(paragraphs: Sequence[str], ranges: list[tuple[int, int]]) -> list[tuple[str, str]]:
    """Shown pieces of paragraphs for half-open char ranges; a gap slot between ranges."""
    blocks: list[tuple[str, str]] = []
    for number, (lo, hi) in enumerate(ranges):
        if number:
            blocks.append(("gap", ""))
        start = 0
        for text in paragraphs:
            end = start + len(text)
            a, b = max(lo, start), min(hi, end)
            if a < b:
                blocks.append(("p", text[a - start : b - start]))
            start = end
    return blocks


def _nudge(text: str, pos: int, limit: int) -> int:
    """Move a cut forward off punctuation so it falls mid-phrase like the real sites."""
    while pos < limit and (text[pos - 1] in _PUNCT or text[pos] in _PUNCT):
        pos += 1
    return pos


def paywall_plan(paragraphs: Sequence[str], rng: random.Random) -> BodyPlan:
    """wm114's member paywall: first part, a gap, a second part, then the tail is cut.

    The gap never starts before the end of the opening paragraph so the speech's first
    lines (and any GBK-only name in them) stay visible.  Short bodies are shown whole.
    """
    full = sum(len(p) for p in paragraphs)
    if full < 600 or len(paragraphs) < 3:
        return full_plan(paragraphs)
    text = "".join(paragraphs)
    opening_end = len(paragraphs[0]) + len(paragraphs[1])
    g0 = max(opening_end + 5, int(full * rng.uniform(0.18, 0.3)))
    shown_target = int(full * rng.uniform(0.45, 0.6))
    gap = int(full * rng.uniform(0.12, 0.22))
    if g0 + 60 >= full - 60:
        return full_plan(paragraphs)
    g0 = _nudge(text, g0, full - 80)
    gap = max(20, min(gap, full - g0 - 80))
    g1 = _nudge(text, g0 + gap, full - 50)
    t0 = max(shown_target + (g1 - g0), g1 + 30)
    t0 = _nudge(text, min(t0, full - 20), full - 10)
    ranges = [(0, g0), (g1, t0)]
    blocks = _pieces(paragraphs, ranges)
    shown = g0 + (t0 - g1)
    return BodyPlan(blocks=tuple(blocks), partial=True, gaps=(g1 - g0,), declared=full, shown=shown)


def preview_plan(paragraphs: Sequence[str], rng: random.Random) -> BodyPlan:
    """biganzi's .docx preview: one run-on paragraph cut mid-sentence (always partial).

    The page prints no counts, so ``declared``/``shown`` stay None.
    """
    text = "".join(paragraphs)
    full = len(text)
    opening_end = sum(len(p) for p in paragraphs[:2])
    cut = max(opening_end + 10, int(full * rng.uniform(0.35, 0.6)))
    cut = _nudge(text, min(cut, full - 5), full - 2) if full > 20 else max(1, full - 1)
    return BodyPlan(blocks=(("p", text[:cut]),), partial=True)


def kept_plan(paragraphs: Sequence[str], keep: float, rng: random.Random, *, gap: bool = True) -> BodyPlan:
    """A wm114-style paywall that shows about ``keep`` of the text (benchmarks choose the share).

    With ``gap`` the shown text is a first part, a gap, then a second part, as on the
    real site; the tail is always cut. ``keep >= 1`` shows everything.
    """
    full = sum(len(p) for p in paragraphs)
    if keep >= 1 or full < 200:
        return full_plan(paragraphs)
    text = "".join(paragraphs)
    shown = max(40, int(full * keep))
    first = int(shown * rng.uniform(0.45, 0.75)) if gap else shown
    first = _nudge(text, max(20, first), full - 30)
    hole = int(full * rng.uniform(0.05, 0.2)) if gap else 0
    if first + hole + (shown - first) > full - 20:
        hole = max(0, full - 20 - shown)
    if hole < 20:
        t0 = _nudge(text, min(shown, full - 20), full - 10)
        return BodyPlan(blocks=tuple(_pieces(paragraphs, [(0, t0)])), partial=True, gaps=(), declared=full, shown=t0)
    g1 = _nudge(text, first + hole, full - 20)
    t0 = _nudge(text, min(g1 + (shown - first), full - 15), full - 10)
    blocks = _pieces(paragraphs, [(0, first), (g1, t0)])
    return BodyPlan(blocks=tuple(blocks), partial=True, gaps=(g1 - first,), declared=full, shown=first + t0 - g1)


def cut_plan(paragraphs: Sequence[str], keep: float) -> BodyPlan:
    """A biganzi-style preview cut mid-sentence after about ``keep`` of the text."""
    text = "".join(paragraphs)
    full = len(text)
    cut = _nudge(text, min(max(20, int(full * keep)), full - 5), full - 2) if full > 40 else max(1, full - 1)
    return BodyPlan(blocks=(("p", text[:cut]),), partial=True)
