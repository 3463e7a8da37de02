"""Which copies fill which masked places: where one copy masks a name and another prints it.

Stored texts are never unmasked. For each mask in a member's text, the words
right before and after it (in the matching form, up to 8 characters each, at
least 4) are looked up in every other member; when they occur there with 1–12
characters between them and no mask, those characters fill the mask. The
result is a list on the work:

    {"content": <masked copy's hash>, "offset": <mask offset in its stored text>,
     "mask": "XX", "filled_by": [{"content": <hash>, "text": "青川"}]}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from archive.works.textform import BREAK, PLACEHOLDER, MappedForm, mapped_form

CONTEXT = 8
MIN_CONTEXT = 4
MAX_FILL = 12
MAX_ENTRIES = 500
"""Fills recorded per work at most (a long speech masking every name stays readable)."""


def _left(form: str, at: int) -> str:
    piece = form[max(0, at - CONTEXT) : at]
    cut = max(piece.rfind(PLACEHOLDER), piece.rfind(BREAK))
    return piece[cut + 1 :]


def _right(form: str, at: int) -> str:
    piece = form[at + 1 : at + 1 + CONTEXT]
    cuts = [i for i in (piece.find(PLACEHOLDER), piece.find(BREAK)) if i >= 0]
    return piece[: min(cuts)] if cuts else piece


def _fill(other: MappedForm, text: str, left: str, right: str) -> str | None:
    """The stored characters of ``other`` between the first occurrence of ``left`` … ``right``."""
    form = other.form
    start = form.find(left)
    while start >= 0:
        begin = start + len(left)
        end = form.find(right, begin + 1, begin + MAX_FILL + len(right))
        if end > begin:
            between = form[begin:end]
            if PLACEHOLDER in between or BREAK in between:
                return None
            return text[other.offsets[begin] : other.offsets[end - 1] + 1]
        start = form.find(left, start + 1)
    return None


def work_fills(texts: Mapping[str, str]) -> list[dict[str, Any]]:
    """The fills among a work's members, given their stored texts by content hash."""
    if len(texts) < 2:
        return []
    forms = {h: mapped_form(t) for h, t in texts.items()}
    out: list[dict[str, Any]] = []
    for masked, mf in forms.items():
        placeholders = [i for i, ch in enumerate(mf.form) if ch == PLACEHOLDER]
        for index, at in enumerate(placeholders):
            left, right = _left(mf.form, at), _right(mf.form, at)
            if len(left) < MIN_CONTEXT or len(right) < MIN_CONTEXT:
                continue
            filled_by = []
            for other, of in forms.items():
                if other == masked:
                    continue
                found = _fill(of, texts[other], left, right)
                if found:
                    filled_by.append({"content": other, "text": found})
            if filled_by:
                start, end = mf.masks[index]
                out.append(
                    {"content": masked, "offset": start, "mask": texts[masked][start:end], "filled_by": filled_by}
                )
                if len(out) >= MAX_ENTRIES:
                    return out
    return out
