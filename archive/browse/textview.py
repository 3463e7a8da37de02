"""A stored text as paragraphs of parts, with the gap markers turned into visible gaps.

Text a site withheld is stored as our marker ``[……]`` (docs/ARCHITECTURE.md,
"The gap marker"): a gap inside the text is listed in the version's ``gaps``
with the characters the site said it left out; a marker that ends the text and
is not listed is a cut-off tail, whose length is ``declared_chars -
shown_chars - sum(omitted)`` when the site printed those numbers. Parts are
plain strings; templates escape them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from archive.cleaning import GAP_MARKER


def tail_chars(version: Mapping[str, Any]) -> int | None:
    declared, shown = version.get("declared_chars"), version.get("shown_chars")
    if declared is None or shown is None:
        return None
    omitted = sum(int(g.get("omitted_chars") or 0) for g in version.get("gaps") or [])
    return max(0, int(declared) - int(shown) - omitted)


def paragraphs(text: str, version: Mapping[str, Any]) -> list[list[dict[str, Any]]]:
    """Paragraphs (lines) of parts: ``{"text": …}`` or ``{"gap": "inside"|"tail", "omitted": n|None}``."""
    gaps: Sequence[Mapping[str, Any]] = version.get("gaps") or []
    by_offset = {int(g["offset"]): g.get("omitted_chars") for g in gaps if "offset" in g}
    out: list[list[dict[str, Any]]] = []
    offset = 0
    for line in text.split("\n"):
        parts: list[dict[str, Any]] = []
        pos = 0
        while (found := line.find(GAP_MARKER, pos)) >= 0:
            if found > pos:
                parts.append({"text": line[pos:found]})
            at = offset + found
            if at in by_offset:
                parts.append({"gap": "inside", "omitted": by_offset[at]})
            elif at + len(GAP_MARKER) == len(text):
                parts.append({"gap": "tail", "omitted": tail_chars(version)})
            else:
                parts.append({"gap": "inside", "omitted": None})
            pos = found + len(GAP_MARKER)
        if pos < len(line):
            parts.append({"text": line[pos:]})
        out.append(parts)
        offset += len(line) + 1
    return out
