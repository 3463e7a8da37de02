"""Is this body an HTML page at all? Content-Type and the body's first bytes decide.

Article URLs sometimes answer with a PDF, an image, a Word file or JSON (an
attachment, a moved page, an API behind the same path). Run through the HTML
cleaner such a body becomes thousands of characters of mojibake stored as a
"version". The rule, in order:

1. magic bytes of a known binary format (PDF, PNG, JPEG, GIF, WebP, ZIP/Office,
   old Office, gzip, RAR, 7z, MP4) mean *not HTML*, whatever the header says;
2. a body that starts like HTML (``<!doctype html``, ``<html``, ``<head``,
   ``<body``, ``<meta``, ``<title``, …) *is* HTML, whatever the header says
   (servers mislabel pages as ``text/plain`` or ``application/octet-stream``);
3. a body that parses as JSON is *not HTML*;
4. a declared type that is neither HTML nor generic (``image/*``,
   ``application/pdf``, ``application/json``, ``video/*``, …) is *not HTML*;
5. anything else goes to the cleaner, whose own gates judge it.

The first two rules are what browsers' MIME sniffing does (WHATWG "MIME Sniffing",
the HTML and binary signatures), cut down to what matters for an archive of
text pages; a library for it would bring libmagic, and these few signatures are
the whole need.
"""

from __future__ import annotations

import json
import re

_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"%PDF-", 0, "a PDF document"),
    (b"\x89PNG\r\n\x1a\n", 0, "a PNG image"),
    (b"\xff\xd8\xff", 0, "a JPEG image"),
    (b"GIF87a", 0, "a GIF image"),
    (b"GIF89a", 0, "a GIF image"),
    (b"WEBP", 8, "a WebP image"),
    (b"PK\x03\x04", 0, "a ZIP archive or Office document"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 0, "an Office 97-2003 document"),
    (b"\x1f\x8b", 0, "gzip data"),
    (b"Rar!\x1a\x07", 0, "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", 0, "a 7-Zip archive"),
    (b"ftyp", 4, "an MP4/QuickTime video"),
    (b"{\\rtf", 0, "an RTF document"),
)
_HTML_START = re.compile(
    rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|title|link|script|div|p|table)\b",
    re.I | re.S,
)
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_GENERIC_TYPES = frozenset(
    {"", "text/plain", "application/octet-stream", "text/xml", "application/xml", "binary/octet-stream"}
)
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
JSON_SNIFF_LIMIT = 5_000_000
"""Bodies larger than this are not parsed to see whether they are JSON (a declared JSON type still counts)."""


def media_type(content_type: str | None) -> str:
    """``text/html; charset=gbk`` -> ``text/html``."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def _looks_like_json(body: bytes) -> bool:
    stripped = body.lstrip()
    if stripped[:1] not in (b"{", b"[") or len(body) > JSON_SNIFF_LIMIT:
        return False
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


def not_html_reason(body: bytes, content_type: str | None) -> str | None:
    """Why ``body`` is not an HTML page (for the capture's reason), or None when it may be one."""
    for magic, offset, what in _MAGIC:
        if body[offset : offset + len(magic)] == magic:
            return f"{what} (by its first bytes), not an HTML page"
    declared = media_type(content_type)
    head = body[:4096]
    for bom in _BOMS:
        head = head.removeprefix(bom)
    if _HTML_START.match(head):
        return None
    if _looks_like_json(body):
        return f"JSON (Content-Type {declared or 'none'}), not an HTML page"
    if declared not in _HTML_TYPES and declared not in _GENERIC_TYPES:
        return f"Content-Type {declared}, not an HTML page"
    return None
