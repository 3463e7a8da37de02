"""The cleaning driver: one raw page in, the text and metadata a version stores out.

Stages, in order (one driver, like trafilatura's core), each in its own module:

    sniff.py       is it an HTML page at all? (Content-Type and magic bytes; else ``not_html``)
    decode.py      bytes -> text (charset checked against the bytes)
    (here)         parse; drop invisible noise (the profile's drop rules)
    metadata.py    title, date, breadcrumb, source, outline from the visible lines
    body.py        the body: the profile's hint, else the prose block cross-checked with trafilatura
    rules.py       profile rules: paywall markers, boilerplate lines, cut-off previews, title repeats
    (here)         quality gate: too short, blocked, undecodable -> a failed Extraction
    normalize.py   the normalised text and its content hash (the caller hashes what it stores)

A failed extraction is a value (outcome ``extraction_failed``), never an
exception: the capture is still recorded. docs/CLEANING.md describes every stage.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import lxml.html
from lxml import etree

from archive.cleaning import metadata
from archive.cleaning.body import find_body
from archive.cleaning.decode import decode_html, replacement_ratio
from archive.cleaning.mainblock import read_lines
from archive.cleaning.profiles import Profile
from archive.cleaning.result import EXTRACTOR_VERSION, GAP_MARKER, Extraction, Gap
from archive.cleaning.rules import apply_paywall, drop_boilerplate, mark_cut, strip_title
from archive.cleaning.sniff import not_html_reason

log = logging.getLogger(__name__)

_BLOCKED = re.compile(
    r"安全验证|访问过于频繁|访问频率过快|请输入验证码|人机验证|滑动验证|请完成验证|Access Denied|验证您是人类"
)
_TAG = re.compile(r"<[^>]+>")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""C0 control characters (NUL included): never text, and lxml refuses some of them."""
_REMOVED_LINES, _REMOVED_CHARS = 20, 100
"""How many boilerplate lines an Extraction reports, and how much of each (for cleaning health, not text)."""
_SAMPLE = 100_000
_MAX_CONTROL = 0.02
"""A text whose first _SAMPLE characters hold more control characters than this share (and more than
_FEW_CONTROLS of them) is binary data (an image, a zip), not a page."""
_FEW_CONTROLS = 32
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*>", re.IGNORECASE)
"""XHTML pages open with one; lxml refuses an encoding declaration in text it is given already decoded."""
_GAP = re.compile(re.escape(GAP_MARKER))
_NON_ELEMENTS = (etree.Comment, etree.ProcessingInstruction, etree.Entity)


def extractor_version(profile: Profile) -> str:
    """Which cleaner produced a text: our revision, trafilatura's, and the profile's settings."""
    return f"{EXTRACTOR_VERSION}+p{profile.digest}" if profile.digest else EXTRACTOR_VERSION


def _drop_noise(root: etree._Element, profile: Profile) -> None:
    """Remove what a reader never sees (hidden anti-copy noise, scripts) before anything reads the page."""
    for xpath in profile.drop:
        for el in xpath(root):
            if isinstance(el, etree._Element) and el.getparent() is not None:
                el.drop_tree()


@dataclass(frozen=True)
class Parsed:
    root: etree._Element
    too_deep: bool
    """The parser stopped descending (libxml2 keeps 255 levels): text nested deeper is not in the tree."""


def parse_page(html: str) -> Parsed | None:
    """The page as an element tree holding only elements and text; None when there is no document at all.

    Every later stage may then assume that a child is an element: comments,
    processing instructions and entity nodes are removed here, their tails kept
    (the pattern behind ``ValueError: Input object is not an XML element:
    HtmlComment`` on real pages). Control characters and an XML declaration are
    removed first, since lxml refuses both in text. Fragments without ``<html>``
    and framesets parse into a document like any page.
    """
    html = _XML_DECLARATION.sub("", _CONTROL.sub("", html), count=1)
    parser = lxml.html.HTMLParser()
    try:
        root = lxml.html.document_fromstring(html, parser=parser)
    except (etree.ParserError, ValueError):
        return None
    etree.strip_tags(root, *_NON_ELEMENTS)
    return Parsed(root, any("Excessive depth" in entry.message for entry in parser.error_log))


def extract_html(
    html: str, profile: Profile, *, site_title: str | None = None, encoding: str | None = None
) -> Extraction:
    """Clean a page already decoded to text (the stages after ``decode``)."""
    version = extractor_version(profile)
    parsed = parse_page(html)
    if parsed is None:
        return Extraction(
            "extraction_failed", "not an HTML page (no document in it)", encoding=encoding,
            extractor_version=version, profile=profile.name,
        )  # fmt: skip
    root = parsed.root
    _drop_noise(root, profile)
    page = read_lines(root)
    page_lines = [line.text for line in page]
    folded = [metadata.fold(line) for line in page_lines]  # once: folding costs more than matching
    outline, _span = metadata.find_outline(page_lines, folded)
    title = metadata.find_title(root, profile)
    published = metadata.find_published(page_lines, profile, folded)
    if published is None and profile.date_fallback:
        published = metadata.find_published_fallback(root)
    common: dict[str, object] = {
        "title": title,
        "published_at": published,
        "category": [c for c in metadata.find_category(page_lines, profile, site_title, folded) if c != title],
        "source": metadata.find_source(page_lines, profile, folded),
        "outline": outline,
        "encoding": encoding,
        "extractor_version": version,
        "profile": profile.name,
    }
    body = find_body(root, profile, page, title=title)
    common["method"] = body.method
    common["body_reason"] = body.reason
    lines = body.lines
    if lines is None:
        if body.method == "hint":
            reason = (
                f"body hint {profile.body_hint} matched nothing; the site's layout may have changed "
                f"(check profiles.{profile.name})"
            )
        else:
            reason = "no main text found"
            if parsed.too_deep:
                reason += " (the page nests elements more than 255 deep; the parser keeps no text below that)"
        return _failed_or_blocked(page_lines, reason, common)
    _items, span = metadata.find_outline(lines)
    if span:
        lines = lines[: span[0]] + lines[span[1] + 1 :]
    lines, paywall = apply_paywall(lines, profile)
    removed: list[str] = []
    lines = strip_title(drop_boilerplate(lines, profile, removed), title)
    common["boilerplate"] = [line[:_REMOVED_CHARS] for line in removed[:_REMOVED_LINES]]
    if mark_cut(lines, profile):
        paywall.partial = paywall.ended = True
    text = "\n".join(lines)
    if len(text) < profile.min_chars:
        reason = f"cleaned text has {len(text)} characters, below the minimum of {profile.min_chars}"
        return _failed_or_blocked(page_lines, reason, common)
    markers = [m.start() for m in _GAP.finditer(text)]
    in_text = markers[:-1] if paywall.ended and text.endswith(GAP_MARKER) else markers
    gaps = [Gap(pos, n) for pos, n in zip(in_text, paywall.omitted, strict=False)]
    parts = metadata.parse_title(title)
    return Extraction(
        "ok",
        text=text,
        partial=paywall.partial,
        gaps=gaps,
        declared_chars=paywall.declared,
        shown_chars=paywall.shown,
        masked_count=metadata.count_masks(text),
        char_count=len(text),
        speaker=parts.speaker,
        occasion=parts.occasion,
        genre=parts.genre,
        **common,  # type: ignore[arg-type]
    )


def _failed_or_blocked(page_lines: list[str], reason: str, common: dict[str, object]) -> Extraction:
    page_text = "\n".join(page_lines[:80])
    if _BLOCKED.search(page_text):
        return Extraction("blocked", "the site served a block or challenge page", **common)  # type: ignore[arg-type]
    return Extraction("extraction_failed", reason, **common)  # type: ignore[arg-type]


def _clean(body: bytes, profile: Profile, content_type: str | None, site_title: str | None) -> Extraction:
    version = extractor_version(profile)
    if not body.strip():
        return Extraction("extraction_failed", "empty response body", extractor_version=version, profile=profile.name)
    not_html = not_html_reason(body, content_type)
    if not_html is not None:  # kept as a raw capture, never cleaned into a "text"
        return Extraction("not_html", not_html, extractor_version=version, profile=profile.name)
    html, encoding = decode_html(body, content_type)
    if replacement_ratio(html) > 0.05:
        return Extraction(
            "extraction_failed", f"bytes do not decode as {encoding}", encoding=encoding,
            extractor_version=version, profile=profile.name,
        )  # fmt: skip
    sample = html[:_SAMPLE]
    controls = len(_CONTROL.findall(sample))
    if controls > _MAX_CONTROL * len(sample) and controls > _FEW_CONTROLS:
        return Extraction(
            "extraction_failed", f"binary data, not a page ({controls / len(sample):.0%} control characters)",
            encoding=encoding, extractor_version=version, profile=profile.name,
        )  # fmt: skip
    if len(html) < 20_000 and _BLOCKED.search(html) and len(_TAG.sub("", html)) < 3000:
        return Extraction(
            "blocked", "the site served a block or challenge page", encoding=encoding,
            extractor_version=version, profile=profile.name,
        )  # fmt: skip
    return extract_html(html, profile, site_title=site_title, encoding=encoding)


def clean(
    body: bytes,
    profile: Profile,
    *,
    content_type: str | None = None,
    site_title: str | None = None,
    url: str | None = None,
) -> Extraction:
    """Clean raw bytes as fetched: the one entry point of the cleaning stage, and it never raises.

    Whatever a page does to a stage (or a library under it), the result is a
    value: a bug shows as ``extraction_failed`` with ``cleaner_error`` set and
    the reason naming the exception, logged with the page's URL, and the crawl
    records the capture and counts the error for the site.
    """
    try:
        return _clean(body, profile, content_type, site_title)
    except Exception as exc:  # the stage's contract: no exception escapes the cleaning package
        log.warning("cleaning %s raised %s: %s (a cleaner bug; -v logs the traceback)", url or "a page",
                    type(exc).__name__, exc)  # fmt: skip
        log.debug("traceback of the cleaner error on %s", url or "a page", exc_info=True)
        return Extraction(
            "extraction_failed",
            f"the cleaner raised {type(exc).__name__}: {exc}"[:500],
            extractor_version=extractor_version(profile),
            profile=profile.name,
            cleaner_error=True,
        )
