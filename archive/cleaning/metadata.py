"""Metadata read from a page's visible lines, its title elements and its cleaned title.

Site patterns come first (they are exact on the sites we know); htmldate is
the fallback for the publish time. Pure functions over strings (and, for the
title, the parsed tree), so each rule is testable on one line of a real page.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from lxml import etree

from archive.cleaning.normalize import unfold_full_width
from archive.cleaning.profiles import Profile

SHANGHAI = ZoneInfo("Asia/Shanghai")

_FOLD_MEMO_CHARS = 4096
"""Lines up to this long are folded once and remembered (see :func:`fold`); longer ones each time."""


def fold(text: str) -> str:
    """Full-width ASCII forms to ASCII (：→:, （→(, ，→,, ２→2), one character for one.

    Every profile pattern is matched against the folded line, so a pattern written
    with ASCII punctuation matches both forms the sites use, and a match's span is
    also a span of the original line.

    These are the characters' NFKC forms (normalize.unfold_full_width). The stages
    ask for the same line's folded form several times (metadata, the body's votes,
    each rule), so a line's folded form is remembered (a pure function of the line,
    so nothing leaks between pages but time), for lines short enough that the memo
    stays small.
    """
    return _fold_memo(text) if len(text) <= _FOLD_MEMO_CHARS else unfold_full_width(text)


@functools.lru_cache(maxsize=2048)
def _fold_memo(text: str) -> str:
    return unfold_full_width(text)


_DATE_PARTS = re.compile(r"(\d{4})[-/年](\d{1,2})[-/月](\d{1,2})日?(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?")
_CRUMB_SPLIT = re.compile(r"\s*(?:>>|»|›|>|→|＞)\s*")
_CRUMB_NOISE = {"正文", "首页", "网站首页", "主页", "内容", "阅读正文"}
_OUTLINE_START = re.compile(r"^目录/?提纲:")
_OUTLINE_END = re.compile(r"^[…\.。]+$")
MASK_PATTERN = re.compile(
    r"[*＊]{1,4}|(?<![A-Za-z])[XxＸ]{2,}(?![A-Za-z])|×{2,}|□{2,}|某某"
    r"|(?<=[\u4e00-\u9fff，。、“])_+|_+(?=[\u4e00-\u9fff])"
)
"""Masked names: ``**`` / ``*`` (also numbers), ``XX``, ``×××``, ``□□``, ``某某`` and ``_`` standing for a name.
Also for other stages (archive/works matches copies whatever their masking)."""
_MASKS = re.compile("(?=[*＊XxＸ×□某_])(?:" + MASK_PATTERN.pattern + ")")
"""The same matches, found ~6x faster: a position that cannot start a mask is skipped after one character test
(the alternatives start with look-behinds, so the regex engine cannot skip them by itself)."""
_GENRE_WORDS = "|".join((
    "讲话稿", "讲话", "发言稿", "发言", "致辞", "致词", "主持词", "主持稿", "报告", "讲稿", "党课",
    "开幕词", "闭幕词", "欢迎词", "贺词", "讲评", "总结讲话", "动员讲话", "表态发言",
))  # fmt: skip
_TITLE = re.compile(
    r"^(?:\d{4}年度?)?(?P<speaker>[^在到]{2,24}?)?(?:同志)?(?:在|到)(?P<occasion>.+?)(?:上|时|中|之际)?的?"
    rf"(?P<genre>{_GENRE_WORDS})(?:材料|范文|提纲|全文)?$"
)
_TITLE_NOISE = re.compile(r"\s*(?:[（(【\[][^）)】\]]{0,20}[）)】\]]|范文|精选|完整版|\d+篇)\s*$")
_GENRE_BASE = {
    "讲话稿": "讲话",
    "动员讲话": "讲话",
    "总结讲话": "讲话",
    "发言稿": "发言",
    "表态发言": "发言",
    "致词": "致辞",
    "开幕词": "致辞",
    "闭幕词": "致辞",
    "欢迎词": "致辞",
    "贺词": "致辞",
    "主持稿": "主持词",
    "讲稿": "讲话",
}
_GENRE_KEYWORDS = ("主持词", "致辞", "党课", "发言", "报告", "讲话", "讲稿")


@dataclass(frozen=True)
class TitleParts:
    speaker: str | None
    occasion: str | None
    genre: str | None


def parse_datetime(text: str) -> dt.datetime | None:
    """A Chinese site date (2025/3/9 12:57:44, 2023-03-01, 2023年5月8日) as Asia/Shanghai time."""
    match = _DATE_PARTS.search(text)
    if not match:
        return None
    y, mo, d, h, mi, s = (int(g) if g else 0 for g in match.groups())
    try:
        return dt.datetime(y, mo, d, h, mi, s, tzinfo=SHANGHAI)
    except ValueError:
        return None


def find_published(lines: Sequence[str], profile: Profile, folded: Sequence[str] | None = None) -> dt.datetime | None:
    """The first date a site pattern finds (``folded``: the lines already folded, to fold them once)."""
    for line in folded if folded is not None else map(fold, lines):
        for pattern in profile.date_patterns:
            match = pattern.search(line)
            if match:
                found = parse_datetime(match.group(1) if match.groups() else match.group(0))
                if found:
                    return found
    return None


def find_published_fallback(root: etree._Element) -> dt.datetime | None:
    """htmldate on the whole page: slower and less exact, only when no site pattern matched.

    ``original_date`` asks for the publication rather than the last-modified date.
    Given our parsed tree, htmldate works on a copy of it instead of parsing the page again.
    """
    from htmldate import find_date

    try:
        found = find_date(root, extensive_search=False, original_date=True, outputformat="%Y-%m-%d")
    except Exception:  # htmldate raises assorted errors on odd pages; a date is optional
        return None
    return parse_datetime(found) if found else None


def find_category(
    lines: Sequence[str], profile: Profile, site_title: str | None, folded: Sequence[str] | None = None
) -> list[str]:
    """The breadcrumb trail without the site's name, 首页/正文 and empty parts."""
    if profile.breadcrumb_pattern is None:
        return []
    for line, flat in zip(lines, folded if folded is not None else map(fold, lines), strict=False):
        match = profile.breadcrumb_pattern.search(flat)
        if match:
            trail = line[match.start(1) : match.end(1)]
            parts = [p.strip() for p in _CRUMB_SPLIT.split(trail) if p.strip()]
            if parts and (parts[0] == site_title or parts[0].endswith(("网", "网站"))):
                parts = parts[1:]
            parts = [p.strip("/ ") for p in parts if p.strip("/ ") not in _CRUMB_NOISE]
            return [p for p in parts if p]
    return []


def find_source(lines: Sequence[str], profile: Profile, folded: Sequence[str] | None = None) -> str | None:
    if profile.source_pattern is None:
        return None
    for line, flat in zip(lines, folded if folded is not None else map(fold, lines), strict=False):
        match = profile.source_pattern.search(flat)
        if match:
            return line[match.start(1) : match.end(1)].strip()
    return None


def find_outline(lines: Sequence[str], folded: Sequence[str] | None = None) -> tuple[list[str], tuple[int, int] | None]:
    """Outline items of a ``目录/提纲:……`` block and the block's line span."""
    for i, flat in enumerate(folded if folded is not None else map(fold, lines)):
        if _OUTLINE_START.match(flat):
            items: list[str] = []
            for j in range(i + 1, min(len(lines), i + 40)):
                if _OUTLINE_END.match(lines[j]):
                    return items, (i, j)
                items.append(lines[j].strip())
            return [], None
    return [], None


def count_masks(text: str) -> int:
    return len(_MASKS.findall(text))


def mask_spans(text: str) -> list[tuple[int, int]]:
    """Where the masks of a text are (``**``, ``XX``, ``×××``, ``某某``, a ``_`` standing for a name), as spans.

    Found in the whole text, since a ``_`` is a mask only beside Chinese characters.
    """
    return [m.span() for m in _MASKS.finditer(text)]


def parse_title(title: str | None) -> TitleParts:
    """Speaker, occasion and genre from the usual title pattern (区委书记在…上的讲话).

    The genre is reduced to its base (讲话稿 -> 讲话, 开幕词 -> 致辞) so genres can be
    counted; a title outside the pattern still gets a genre when it names one.
    """
    if not title:
        return TitleParts(None, None, None)
    text = title.strip()
    for _ in range(3):  # "…讲话（2篇）范文" has more than one trailing decoration
        text = _TITLE_NOISE.sub("", text)
    match = _TITLE.match(text)
    if match:
        speaker = (match.group("speaker") or "").strip(" ,，、") or None
        genre = match.group("genre")
        return TitleParts(speaker, match.group("occasion"), _GENRE_BASE.get(genre, genre))
    genre = next((g for g in _GENRE_KEYWORDS if g in text), None)
    return TitleParts(None, None, _GENRE_BASE.get(genre, genre) if genre else None)


_TITLE_SPLIT = re.compile(r"\s*(?:[_|–—]|-{2,})\s*|\s+-\s+|-(?=[^-]{2,12}$)")


def find_title(root: etree._Element, profile: Profile) -> str | None:
    """The article's title: the profile's title element, else <h1>, else <title> before the site name."""
    candidates: list[str] = []
    if profile.title is not None:
        candidates += ["".join(el.itertext()) for el in profile.title(root) if isinstance(el, etree._Element)]
    candidates += ["".join(h.itertext()) for h in root.xpath("//h1")]
    head_title = root.findtext(".//title") or ""
    if head_title:
        candidates.append(_TITLE_SPLIT.split(head_title.strip())[0])
    for cand in candidates:
        cand = re.sub(r"\s+", " ", cand).strip()
        for pattern in profile.title_strip:
            while match := pattern.search(fold(cand)):
                cand = (cand[: match.start()] + cand[match.end() :]).strip()
        if 4 <= len(cand) <= 120:
            return cand
    return None
