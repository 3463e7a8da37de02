"""Character-level diff of two versions, read by phrase, with masking and white space told apart.

Chinese has no spaces, so a word diff sees one changed "word" per paragraph;
this diffs characters with Google's diff-match-patch (line mode first, so a
long speech with a few edits costs little), then its semantic clean-up, which
merges the scattered one-character matches inside a rewritten phrase into one
change. Each change (hunk) is then classified:

- ``mask``: only masking differs: ``**`` vs ``XX`` vs ``×××`` vs a name of 1-4
  characters (the masks are archive.cleaning's, found in each whole text);
- ``space``: only white space differs;
- ``edit``: anything else.

Hidden kinds are shown as unchanged text (the newer side), so the toggle
leaves only the edits that matter.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from diff_match_patch import diff_match_patch

from archive.cleaning.metadata import mask_spans

DIFF_TIMEOUT = 2.0
"""Seconds diff-match-patch may spend before it settles for a coarser (still correct) diff."""
CONTEXT_ROWS = 1
"""Unchanged paragraphs kept around a change; longer unchanged runs are folded."""
_NAME = re.compile(r"[\u3400-\u9fff]{1,4}")
EQUAL, DELETE, INSERT = 0, -1, 1


@dataclass
class Hunk:
    kind: str
    a: tuple[int, int]
    b: tuple[int, int]


@dataclass
class Diff:
    rows: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    hidden: int = 0


def _covered(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    """Whether [start, end) is non-empty and every character of it lies inside a mask span."""
    if start >= end:
        return False
    pos = start
    for lo, hi in spans:
        if hi <= pos:
            continue
        if lo > pos:
            return False
        pos = hi
        if pos >= end:
            return True
    return False


def classify(
    a: str, b: str, ra: tuple[int, int], rb: tuple[int, int], masks: tuple[list[tuple[int, int]], list[tuple[int, int]]]
) -> str:
    """The kind of one change: ``space``, ``mask`` or ``edit``."""
    old, new = a[ra[0] : ra[1]], b[rb[0] : rb[1]]
    if "".join(old.split()) == "".join(new.split()):
        return "space"
    mask_a, mask_b = _covered(masks[0], *ra), _covered(masks[1], *rb)
    if (mask_a or not old) and (mask_b or not new) and (mask_a or mask_b):
        return "mask"
    if (mask_a and _NAME.fullmatch(new)) or (mask_b and _NAME.fullmatch(old)):
        return "mask"
    return "edit"


def compute(a: str, b: str) -> list[tuple[int, str]]:
    dmp = diff_match_patch()
    dmp.Diff_Timeout = DIFF_TIMEOUT
    ops = dmp.diff_main(a, b, True)
    dmp.diff_cleanupSemantic(ops)
    return [(op, s) for op, s in ops if s]


def diff_versions(a: str, b: str, hide: Collection[str] = ()) -> Diff:
    """Rows (paragraph-aligned) of segments for side-by-side and inline views, and counts per kind."""
    ops = compute(a, b)
    masks_a, masks_b = mask_spans(a), mask_spans(b)
    out = Diff(counts={"edit": 0, "mask": 0, "space": 0})
    segments: list[tuple[str, str]] = []  # (op, text): eq / del / ins, quiet-old / quiet-new for hidden changes
    pa = pb = 0
    i = 0
    while i < len(ops):
        op, s = ops[i]
        if op == EQUAL:
            segments.append(("eq", s))
            pa, pb = pa + len(s), pb + len(s)
            i += 1
            continue
        old = new = ""
        while i < len(ops) and ops[i][0] != EQUAL:
            if ops[i][0] == DELETE:
                old += ops[i][1]
            else:
                new += ops[i][1]
            i += 1
        kind = classify(a, b, (pa, pa + len(old)), (pb, pb + len(new)), (masks_a, masks_b))
        out.counts[kind] += 1
        if kind in hide:
            out.hidden += 1
            segments += [("quiet-old", old), ("quiet-new", new)]
        else:
            if old:
                segments.append(("del", old))
            if new:
                segments.append(("ins", new))
        pa, pb = pa + len(old), pb + len(new)
    out.rows = _rows(segments)
    return out


def _rows(segments: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Split at line breaks of unchanged text: each row is one paragraph of both sides (or a changed run)."""
    rows: list[dict[str, Any]] = []
    current: list[tuple[str, str]] = []
    for op, s in segments:
        if op == "eq" and "\n" in s:
            pieces = s.split("\n")
            for piece in pieces[:-1]:
                if piece:
                    current.append((op, piece))
                rows.append(_row(current))
                current = []
            if pieces[-1]:
                current.append((op, pieces[-1]))
        else:
            current.append((op, s))
    rows.append(_row(current))
    return _fold(rows)


def _row(parts: list[tuple[str, str]]) -> dict[str, Any]:
    changed = any(op in ("del", "ins") for op, _ in parts)
    quiet = any(op.startswith("quiet") for op, _ in parts)
    left = [{"op": op.removesuffix("-old"), "text": s} for op, s in parts if op in ("eq", "del", "quiet-old") and s]
    right = [{"op": op.removesuffix("-new"), "text": s} for op, s in parts if op in ("eq", "ins", "quiet-new") and s]
    inline = [{"op": op.removesuffix("-new"), "text": s} for op, s in parts if op != "quiet-old" and s]
    return {"changed": changed, "quiet": quiet, "left": left, "right": right, "inline": inline}


def _fold(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fold runs of unchanged rows beyond ``CONTEXT_ROWS`` around each change into one ``skip`` row."""
    keep = [False] * len(rows)
    for n, row in enumerate(rows):
        if row["changed"]:
            for m in range(max(0, n - CONTEXT_ROWS), min(len(rows), n + CONTEXT_ROWS + 1)):
                keep[m] = True
    out: list[dict[str, Any]] = []
    for n, row in enumerate(rows):
        if keep[n]:
            out.append(row)
        elif out and "skip" in out[-1]:
            out[-1]["skip"] += 1
            out[-1]["rows"].append(row)
        else:
            out.append({"skip": 1, "rows": [row]})
    return out
