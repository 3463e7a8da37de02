"""Bytes to text, right for GBK sites that mislabel their charset.

Browsers trust the declaration (BOM, HTTP header, ``<meta>``); these sites often
lie in it. So the declaration is a hint, checked against the bytes:

1. a BOM wins;
2. bytes that are valid UTF-8 (and not plain ASCII) are UTF-8, whatever the page
   says: GBK text essentially never forms valid UTF-8 sequences;
3. else the declared charset, with gb2312/gbk widened to GB18030 (their
   superset: a page "in gb2312" that uses 翀 or 堃 decodes right), when the
   bytes decode under it without error;
4. else GB18030 when they decode under it (the usual truth for a page declared
   utf-8 or latin-1 by a misconfigured server);
5. else whichever candidate leaves the fewest undecodable bytes (U+FFFD).

Plain trafilatura fed raw bytes of a mislabelled page returns mojibake; this
module is why we never hand it bytes.
"""

from __future__ import annotations

import codecs

from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom

_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "gb_2312-80": "gb18030", "hz": "gb18030", "ascii": "utf-8"}
_WESTERN = {"latin-1", "iso8859-1", "cp1252", "iso8859-15", "utf-8"}
"""Declarations that are not a reason to doubt GB18030 bytes (server defaults, copied templates)."""


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        found = codecs.lookup(name).name
    except LookupError:
        return None
    return _SUPERSETS.get(found, found)


def _decoded(body: bytes, encoding: str) -> str | None:
    """The text when every byte decodes under ``encoding``, else None (one pass: try, not check then decode)."""
    try:
        return body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def declared_encoding(body: bytes, content_type: str | None = None) -> str | None:
    """What the page says it is: the HTTP header, else the ``<meta>`` tag (widened to a superset)."""
    return _codec(http_content_type_encoding(content_type or "")) or _codec(html_body_declared_encoding(body))


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Return (text, encoding name); undecodable bytes become U+FFFD, never an error."""
    bom, raw = read_bom(body)
    if bom and raw:
        name = _codec(bom) or "utf-8"
        return body[len(raw) :].decode(name, errors="replace"), name
    declared = declared_encoding(body, content_type)
    if body.isascii():
        return body.decode("ascii"), declared or "utf-8"
    order = ["utf-8"]
    if declared and declared not in _WESTERN:
        order.append(declared)
    order.append("gb18030")
    if declared:
        order.append(declared)
    for encoding in dict.fromkeys(order):
        text = _decoded(body, encoding)
        if text is not None:
            return text, encoding
    candidates = [c for c in (declared, "gb18030", "utf-8", "big5") if c]
    decoded = {c: body.decode(c, errors="replace") for c in dict.fromkeys(candidates)}
    best = min(decoded, key=lambda c: decoded[c].count("\ufffd"))
    return decoded[best], best


def replacement_ratio(text: str) -> float:
    """Share of U+FFFD in a decoded page: high means the bytes were not in its charset."""
    return text.count("\ufffd") / max(len(text), 1)
