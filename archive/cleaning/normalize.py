"""Normalised text and the content hash that decides what is a new version.

DESIGN.md fixes the rule: NFKC, zero-width characters removed, white space
folded. Anything that survives cleaning but is not content (a re-flowed
paragraph, a full-width space used for indentation) must not change the hash,
and any real edit must.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

# Zero-width and invisible format characters sites sprinkle into text
# (anti-copy noise, BOMs, soft hyphens, word joiners).
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_SPACES = re.compile(r"[^\S\n]+")
_SPACE_OR_INVISIBLE = re.compile(r"[\s\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]+")
_BLANK_LINES = re.compile(r"\n{2,}")


_FULL_WIDTH = re.compile("[\uff01-\uff5e\u3000]+")
_FULL_WIDTH_NFKC = {c: unicodedata.normalize("NFKC", chr(c)) for c in (*range(0xFF01, 0xFF5F), 0x3000)}
_COMMON_FULL_WIDTH = tuple((c, unicodedata.normalize("NFKC", c)) for c in "，：；！？（）\u3000")
"""The full-width forms of Chinese prose: replaced with ``str.replace`` (a C scan each), the rare rest by runs."""


def _run_to_ascii(match: re.Match[str]) -> str:
    return match.group().translate(_FULL_WIDTH_NFKC)


def unfold_full_width(text: str) -> str:
    """Full-width ASCII forms (U+FF01-FF5E) and the ideographic space to ASCII, one character for one.

    Their NFKC forms. Chinese text has a full-width comma every dozen characters:
    ``str.translate`` with a mapping (~60 ns a character) or a regex callback per
    run cost more than the matching they serve, a few ``str.replace`` do not.
    """
    for wide, narrow in _COMMON_FULL_WIDTH:
        if wide in text:
            text = text.replace(wide, narrow)
    return _FULL_WIDTH.sub(_run_to_ascii, text) if _FULL_WIDTH.search(text) else text


def nfkc(text: str) -> str:
    """``unicodedata.normalize("NFKC", text)``, exactly, at a fraction of its cost on Chinese text.

    Chinese text is NFKC except for its full-width punctuation (，：；！？（）and the
    ideographic space), and one such character makes CPython normalise the whole
    string (~1 ms for 10,000 characters). Each of them is a starter whose NFKC form is one
    ASCII character, so replacing them by it gives a text compatibility-equivalent
    to the input; when that text is already NFKC (a quick check), it *is* the
    input's NFKC form. Otherwise (a combining mark after a full-width letter, any
    other compatibility character) the input is normalised as a whole.
    """
    folded = unfold_full_width(text)
    return folded if unicodedata.is_normalized("NFKC", folded) else unicodedata.normalize("NFKC", text)


def normalise_text(text: str) -> str:
    """Return the canonical form the content hash is taken over.

    Lines are kept (paragraph breaks are structure), but white space inside
    and around lines is folded, and empty lines are dropped, so re-flowing a
    paragraph or adding blank lines is not an edit.
    """
    text = nfkc(text)
    text = _INVISIBLE.sub("", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n", "\n".join(line for line in lines if line)).strip()


def squash(text: str) -> str:
    """The text without white space and invisible characters: the form two extractions are compared in."""
    return _SPACE_OR_INVISIBLE.sub("", text)


def content_hash(text: str) -> str:
    """SHA-256 (hex) of the normalised text."""
    return hashlib.sha256(normalise_text(text).encode("utf-8")).hexdigest()
