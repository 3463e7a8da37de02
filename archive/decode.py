"""Bytes to text, right for GBK sites that mislabel their charset.

w3lib's ``html_to_unicode`` follows the browser order (BOM, HTTP header,
``<meta>``, detection) and maps gb2312/gbk to GB18030, its superset, so a page
declared gb2312 that uses GBK-only characters (翀, 堃) decodes correctly;
trafilatura fed raw bytes would produce mojibake there.
"""

from __future__ import annotations

import codecs

from w3lib.encoding import html_to_unicode

_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "gb_2312-80": "gb18030", "ascii": "utf-8"}


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Return (text, encoding name); undecodable bytes become U+FFFD, never an error."""
    header = content_type or ""
    encoding, text = html_to_unicode(header, body)
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        name = encoding
    return text, _SUPERSETS.get(name, name)


def replacement_ratio(text: str) -> float:
    """Share of U+FFFD in a decoded page: high means the bytes were not in its charset."""
    return text.count("\ufffd") / max(len(text), 1)
