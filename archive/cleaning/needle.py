"""A profile regex with the literal text every match of it must contain, so lines without that text are skipped.

Profile patterns are searched on every line of a page, and a pattern that
starts with something optional (``\\s*…{0,2}\\(?未完,…``, ``(?:发布|发表)?时间:…``)
gives Python's regex engine no first character to scan for: it tries the
pattern at every position, ~6 µs for a 200-character line. Most lines cannot
match anyway: they lack the pattern's fixed text (``未完``, ``时间:``), and
``needle in line`` answers that in a fraction of a microsecond.

The needle is the longest run of literal characters at the pattern's top level
(a concatenation: every one of its parts is in every match), read from the
regex engine's own parse of the pattern. A pattern with no such run (a top-level
alternation, a case-insensitive one), or one the parser cannot read, has no
needle and is searched as before. Hand-written because no library answers
"which literal must every match contain" for Python regexes; it reads
``re._parser``, CPython's parser of the very patterns it compiles.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

MIN_NEEDLE = 2
"""A single character is in too many lines to be worth the test."""


def required_literal(regex: re.Pattern[str]) -> str | None:
    """The longest literal every match of ``regex`` contains (None when there is none worth testing)."""
    if regex.flags & re.IGNORECASE:
        return None
    try:
        from re import _constants as constants  # type: ignore[attr-defined]
        from re import _parser as parser  # type: ignore[attr-defined]

        items = parser.parse(regex.pattern, regex.flags).data
    except Exception:  # a parser that changed shape: no needle, the pattern still works
        return None
    best, run = "", ""
    for op, value in items:
        if op is constants.LITERAL:
            run += chr(value)
            best = max(best, run, key=len)
        else:
            run = ""
    return best if len(best) >= MIN_NEEDLE else None


class Needled:
    """A compiled regex that is not searched in a text lacking its needle (same matches, fewer searches)."""

    __slots__ = ("needle", "pattern", "regex")

    def __init__(self, regex: re.Pattern[str]) -> None:
        self.regex = regex
        self.pattern = regex.pattern
        self.needle = required_literal(regex)

    def search(self, text: str) -> re.Match[str] | None:
        if self.needle is not None and self.needle not in text:
            return None
        return self.regex.search(text)

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        if self.needle is not None and self.needle not in text:
            return iter(())
        return self.regex.finditer(text)

    def __repr__(self) -> str:
        return f"Needled({self.pattern!r}, needle={self.needle!r})"
