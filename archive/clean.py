"""Cleaning: one raw page in, the text and metadata a version stores out.

Stages, in order (one driver, like trafilatura's core): decode -> parse ->
drop invisible noise -> read metadata from the visible lines -> trafilatura
main-text extraction (narrowed by a profile's body hint when it has one) ->
line-level boilerplate and paywall handling -> quality gate. A failed
extraction is a value (outcome ``extraction_failed``), never an exception:
the capture is still recorded.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import lxml.html
import trafilatura
from lxml import etree

from archive import metadata
from archive.decode import decode_html, replacement_ratio
from archive.profiles import Profile

EXTRACTOR_REV = "1"
EXTRACTOR_VERSION = f"sa{EXTRACTOR_REV}+trafilatura{trafilatura.__version__}"

GAP_MARKER = "[……]"
"""Our own marker for text the site withheld (paywall, truncated preview); see docs/ARCHITECTURE.md."""

_GAP = re.compile(r"…{0,2}[((]?[^()()\n]{0,40}省略(\d+)字[^()()\n]{0,30}[))]?…{0,2}")
_TAIL = re.compile(r"\s*…{0,2}[((]?未完[,,]\s*全文共(\d+)字[,,]\s*当前仅显示(\d+)字.*$")
_LIST_BULLET = re.compile(r"^[-*•]\s+")
_TITLE_SUFFIX = re.compile(r"\.(docx?|pdf|pptx?|wps)(VIP|_|\s|$).*$", re.IGNORECASE)
_TRUNCATED_END = re.compile(r"(\.{3,}|…)$")
_BLOCKED = re.compile(
    r"安全验证|访问过于频繁|访问频率过快|请输入验证码|人机验证|滑动验证|请完成验证|Access Denied|验证您是人类"
)
_BLOCK_TAGS = {
    "p",
    "div",
    "br",
    "li",
    "tr",
    "td",
    "th",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "section",
    "article",
    "header",
    "footer",
    "table",
    "ul",
    "ol",
    "dd",
    "dt",
    "blockquote",
    "pre",
    "center",
}


@dataclass(frozen=True)
class Gap:
    offset: int
    """Character offset of the gap marker in the stored text."""
    omitted_chars: int | None
    """Characters the site said it left out, when it said."""


@dataclass(frozen=True)
class Extraction:
    outcome: str
    """ok / extraction_failed / blocked."""
    reason: str | None = None
    text: str = ""
    title: str | None = None
    published_at: dt.datetime | None = None
    category: list[str] = field(default_factory=list)
    source: str | None = None
    outline: list[str] = field(default_factory=list)
    partial: bool = False
    gaps: list[Gap] = field(default_factory=list)
    declared_chars: int | None = None
    shown_chars: int | None = None
    masked_count: int = 0
    char_count: int = 0
    speaker: str | None = None
    occasion: str | None = None
    genre: str | None = None
    encoding: str | None = None
    extractor_version: str = EXTRACTOR_VERSION


def visible_lines(root: etree._Element) -> list[str]:
    """The page's text as a reader sees its lines (block elements break lines).

    Written by hand (a dozen lines) because it must run on our already
    de-noised tree; html-text would re-parse and re-clean the page.
    """
    parts: list[str] = []
    for event, el in etree.iterwalk(root, events=("start", "end")):
        tag = el.tag if isinstance(el.tag, str) else ""
        if event == "start":
            if tag in _BLOCK_TAGS:
                parts.append("\n")
            if el.text and tag:
                parts.append(el.text)
        else:
            if tag in _BLOCK_TAGS:
                parts.append("\n")
            if el.tail and el is not root:
                parts.append(el.tail)
    lines = ("".join(parts)).replace("\xa0", " ").split("\n")
    return [s for s in (line.strip() for line in lines) if s]


def _title(root: etree._Element, profile: Profile) -> str | None:
    candidates: list[str] = []
    if profile.title_xpath:
        candidates += [
            "".join(el.itertext()) for el in root.xpath(profile.title_xpath) if isinstance(el, etree._Element)
        ]
    candidates += ["".join(h.itertext()) for h in root.xpath("//h1")]
    head_title = root.findtext(".//title") or ""
    if head_title:
        candidates.append(re.split(r"\s*[_|\-–—]\s*", head_title.strip())[0])
    for cand in candidates:
        cand = _TITLE_SUFFIX.sub("", re.sub(r"\s+", " ", cand)).strip()
        if 4 <= len(cand) <= 120:
            return cand
    return None


def _strip_title(lines: list[str], title: str | None) -> list[str]:
    """Drop repeats of the title; cut it off a run-on first line that starts with it."""
    if not title:
        return lines
    out: list[str] = []
    for line in lines:
        if line == title or line.rstrip("。") == title:
            continue
        if not out and line.startswith(title) and len(line) > len(title) + 10:
            line = line[len(title) :].lstrip()
        out.append(line)
    return out


def _body_lines(root: etree._Element, profile: Profile) -> list[str] | None:
    target = root
    if profile.body_xpath:
        found = root.xpath(profile.body_xpath)
        if found and isinstance(found[0], etree._Element):
            target = found[0]
    text = trafilatura.extract(
        target,
        output_format="txt",
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_links=False,
        deduplicate=False,
        favor_recall=True,
    )
    if not text:
        return None
    return [s for s in (line.strip() for line in text.split("\n")) if s]


def _apply_paywall(lines: list[str]) -> tuple[list[str], list[int], int | None, int | None, bool]:
    """Replace site paywall markers by GAP_MARKER.

    Returns the lines, the characters omitted at each in-text gap, the declared
    and shown lengths of a cut-off tail, and whether the text is partial. A
    cut-off tail also ends in GAP_MARKER but is not one of the gaps: its length
    is declared - shown - sum(gaps).
    """
    out: list[str] = []
    omitted: list[int] = []
    declared = shown = None
    partial = False

    def gap(match: re.Match[str]) -> str:
        omitted.append(int(match.group(1)))
        return GAP_MARKER

    for line in lines:
        tail = _TAIL.search(line)
        if tail:
            declared, shown = int(tail.group(1)), int(tail.group(2))
            head = _GAP.sub(gap, line[: tail.start()].rstrip())
            out.append(f"{head}{GAP_MARKER}")
            partial = True
            break
        line, n = _GAP.subn(gap, line)
        partial = partial or n > 0
        out.append(line)
    return out, omitted, declared, shown, partial


def _drop_boilerplate(lines: list[str], profile: Profile) -> list[str]:
    out: list[str] = []
    for line in lines:
        bare = _LIST_BULLET.sub("", line)  # trafilatura renders <li> as "- item"
        if any(p.search(bare) for p in profile.truncate_after):
            break
        if any(p.search(bare) for p in profile.boilerplate):
            continue
        out.append(line)
    return out


def clean_html(
    html: str, profile: Profile, *, site_title: str | None = None, encoding: str | None = None
) -> Extraction:
    """Clean a decoded page with a profile."""
    try:
        root = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError) as exc:
        return Extraction("extraction_failed", f"not an HTML page ({exc})", encoding=encoding)
    for xp in profile.drop_xpath:
        for el in root.xpath(xp):
            if el.getparent() is not None:
                el.drop_tree()
    page_lines = visible_lines(root)
    outline, _span = metadata.find_outline(page_lines)
    title = _title(root, profile)
    published = metadata.find_published(page_lines, profile) or metadata.find_published_fallback(html)
    common = {
        "title": title,
        "published_at": published,
        "category": metadata.find_category(page_lines, profile, site_title),
        "source": metadata.find_source(page_lines, profile),
        "outline": outline,
        "encoding": encoding,
    }
    lines = _body_lines(root, profile)
    if lines is None:
        return _failed_or_blocked(page_lines, "no main text found", common)
    _items, span = metadata.find_outline(lines)
    if span:
        lines = lines[: span[0]] + lines[span[1] + 1 :]
    lines, omitted, declared, shown, partial = _apply_paywall(lines)
    lines = _drop_boilerplate(lines, profile)
    lines = _strip_title(lines, title)
    if lines and _TRUNCATED_END.search(lines[-1]) and not lines[-1].endswith(GAP_MARKER):
        lines[-1] = _TRUNCATED_END.sub("", lines[-1]) + GAP_MARKER  # a preview cut off mid-sentence
        partial = True
    text = "\n".join(lines)
    if len(text) < profile.min_chars:
        return _failed_or_blocked(
            page_lines, f"cleaned text has {len(text)} characters, below the minimum of {profile.min_chars}", common
        )
    gaps = [Gap(m.start(), n) for m, n in zip(re.finditer(re.escape(GAP_MARKER), text), omitted, strict=False)]
    common["category"] = [c for c in common["category"] if c != title]  # type: ignore[union-attr]
    parts = metadata.parse_title(title)
    return Extraction(
        "ok",
        text=text,
        partial=partial,
        gaps=gaps,
        declared_chars=declared,
        shown_chars=shown,
        masked_count=metadata.count_masks(text),
        char_count=len(text),
        speaker=parts.speaker,
        occasion=parts.occasion,
        genre=parts.genre,
        **common,
    )


def _failed_or_blocked(page_lines: list[str], reason: str, common: dict[str, object]) -> Extraction:
    page_text = "\n".join(page_lines[:80])
    if _BLOCKED.search(page_text):
        return Extraction("blocked", "the site served a block or challenge page", **common)  # type: ignore[arg-type]
    return Extraction("extraction_failed", reason, **common)  # type: ignore[arg-type]


def clean_page(
    body: bytes, profile: Profile, *, content_type: str | None = None, site_title: str | None = None
) -> Extraction:
    """Decode and clean raw bytes as fetched."""
    if not body.strip():
        return Extraction("extraction_failed", "empty response body")
    html, encoding = decode_html(body, content_type)
    if replacement_ratio(html) > 0.05:
        return Extraction("extraction_failed", f"bytes do not decode as {encoding}", encoding=encoding)
    if len(html) < 20_000 and _BLOCKED.search(html) and len(re.sub(r"<[^>]+>", "", html)) < 3000:
        return Extraction("blocked", "the site served a block or challenge page", encoding=encoding)
    return clean_html(html, profile, site_title=site_title, encoding=encoding)
