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


def normalise_text(text: str) -> str:
    """Return the canonical form the content hash is taken over.

    Lines are kept (paragraph breaks are structure), but white space inside
    and around lines is folded, and empty lines are dropped, so re-flowing a
    paragraph or adding blank lines is not an edit.
    """
    text = unicodedata.normalize("NFKC", text)
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
