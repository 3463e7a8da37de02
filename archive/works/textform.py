"""The matching form of a text: what two copies of one speech have in common, whatever the site did.

Used for matching only; stored texts are never rewritten. The steps, in order:

1. our gap marker ``[……]`` becomes a break (text the site withheld: nothing may
   straddle it);
2. every mask run (``**``, ``*``, ``XX``, ``×××``, ``_``, ``某某``, ``□□``: the
   cleaner's :data:`~archive.cleaning.metadata.MASK_PATTERN`) becomes one
   placeholder, so ``**`` on one site and ``XX`` on another read the same;
3. NFKC (full-width forms, compatibility characters), then traditional →
   simplified with OpenCC's ``t2s`` (a re-post in traditional characters is the
   same speech), then lower case;
4. digit runs become placeholders too: 三维园-style sites mask numbers as ``XX``,
   so a number is no evidence either way;
5. punctuation and white space are dropped, so a re-flowed paragraph or a
   different comma changes nothing.

Shingles are the character n-grams of this form that touch no placeholder and
no break: a masked name never makes or breaks a match.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from archive.cleaning.metadata import MASK_PATTERN
from archive.cleaning.result import GAP_MARKER

PLACEHOLDER = "\ue000"
"""Stands for one masked run (a private-use character: no text carries it, NFKC keeps it)."""
BREAK = "\ue001"
"""Stands for a gap the site left (paywall, cut tail)."""
FORM_VERSION = "1"
"""Bump when the matching form changes: stored sketches then need ``works rebuild``."""

_MASKS = re.compile("(?=[*＊XxＸ×□某_])(?:" + MASK_PATTERN.pattern + ")")
"""The cleaner's masks with a first-character lookahead: the same matches, six times faster to scan."""
_DIGITS = re.compile(r"\d+")
_DROP = re.compile(r"[^\w\ue000\ue001]|_")
_RUNS = re.compile(r"[\ue000\ue001]{2,}")
_SPLIT = re.compile(r"[\ue000\ue001]")


@functools.cache
def _converter() -> object:
    """OpenCC's traditional → simplified converter, made once per process (it loads its dictionaries)."""
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    return str(_converter().convert(text))  # type: ignore[attr-defined]


def _collapse(match: re.Match[str]) -> str:
    return BREAK if BREAK in match.group(0) else PLACEHOLDER


def matching_form(text: str) -> str:
    """The text as matching sees it: masks one placeholder each, gaps breaks, no punctuation or spaces."""
    text = text.replace(GAP_MARKER, BREAK)
    text = _MASKS.sub(PLACEHOLDER, text)
    # Punctuation goes before NFKC: full-width commas would send NFKC down its slow path.
    text = unicodedata.normalize("NFKC", _DROP.sub("", text))
    text = _DIGITS.sub(PLACEHOLDER, to_simplified(text).lower())
    text = _DROP.sub("", text)
    return _RUNS.sub(_collapse, text)


def shingle_sequence(form: str, size: int) -> list[str]:
    """Every ``size``-character shingle of the form, in order, skipping those that touch a placeholder or break."""
    return [run[i : i + size] for run in _SPLIT.split(form) for i in range(len(run) - size + 1)]


@dataclass(frozen=True)
class FormFacts:
    """What canonical choice reads off a text besides its shingles."""

    length: int
    """Characters of the matching form, placeholders and breaks not counted."""
    masks: int
    """Masked names in the stored text (the cleaner's count)."""


def form_facts(text: str, form: str) -> FormFacts:
    # The cleaner's count (count_masks), with the faster pattern: the same matches.
    return FormFacts(len(form) - form.count(PLACEHOLDER) - form.count(BREAK), len(_MASKS.findall(text)))


@dataclass(frozen=True)
class MappedForm:
    """A matching form with, for each of its characters, the offset of the stored character it came from.

    The slow path, for reading masked places back out of stored texts (fills.py):
    digits are kept here (a number one copy prints fills another copy's ``XX``).
    """

    form: str
    offsets: Sequence[int]
    masks: Sequence[tuple[int, int]]
    """(start, end) in the stored text of each mask run, in the order of the placeholders in ``form``."""


_MARKS = re.compile("(?P<gap>" + re.escape(GAP_MARKER) + ")|(?P<mask>" + _MASKS.pattern + ")")
_WORDS = re.compile(r"[^\W_]+")


def _normal(word: str) -> str:
    return to_simplified(unicodedata.normalize("NFKC", word)).lower()


def _add_segment(text: str, start: int, end: int, chars: list[str], offsets: list[int]) -> None:
    """The words of ``text[start:end]`` (no mask or gap inside), normalised, with their stored offsets.

    The segment is normalised at once; only a segment whose length NFKC changes (an
    ellipsis, a circled number) is walked word by word and, inside a changed word,
    character by character.
    """
    segment = text[start:end]
    normal = _normal(segment)
    if len(normal) == len(segment):
        for match in _WORDS.finditer(normal):
            a, b = match.span()
            chars.append(match.group(0))
            offsets.extend(range(start + a, start + b))
        return
    for match in _WORDS.finditer(text, start, end):
        a, b = match.span()
        word = _normal(match.group(0))
        if len(word) == b - a:
            chars.append(word)
            offsets.extend(range(a, b))
            continue
        for i in range(a, b):
            for ch in _normal(text[i]):
                if ch.isalnum():
                    chars.append(ch)
                    offsets.append(i)


def mapped_form(text: str) -> MappedForm:
    chars: list[str] = []
    offsets: list[int] = []
    masks: list[tuple[int, int]] = []
    position = 0
    for match in _MARKS.finditer(text):
        start, end = match.span()
        _add_segment(text, position, start, chars, offsets)
        position = end
        if match.lastgroup == "gap":
            chars.append(BREAK)
            offsets.append(start)
        elif chars and chars[-1] == PLACEHOLDER:
            masks[-1] = (masks[-1][0], end)
        else:
            chars.append(PLACEHOLDER)
            offsets.append(start)
            masks.append((start, end))
    _add_segment(text, position, len(text), chars, offsets)
    return MappedForm("".join(chars), offsets, masks)
