"""Metadata read from a page's visible lines and its cleaned title.

Site patterns come first (they are exact on the sites we know); htmldate is
the fallback for the publish time. Pure functions over strings, so each rule
is testable on one line of a real page.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from archive.profiles import Profile

SHANGHAI = ZoneInfo("Asia/Shanghai")

_DATE_PARTS = re.compile(r"(\d{4})[-/年](\d{1,2})[-/月](\d{1,2})日?(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?")
_CRUMB_SPLIT = re.compile(r"\s*(?:>>|»|›|>|→)\s*")
_CRUMB_NOISE = {"正文", "首页", "网站首页", "主页", "内容", "阅读正文"}
_OUTLINE_START = re.compile(r"^目录/?提纲[::]")
_OUTLINE_END = re.compile(r"^[…\.。]+$")
_MASKS = re.compile(r"\*{1,4}|X{2,}|x{2,}|×{2,}|_(?=同志|书记|市|区|县|省)|某某")
_TITLE = re.compile(
    r"^(?:\d{4}年度?)?(?P<speaker>[^在到]{2,24}?)?(?:同志)?(?:在|到)(?P<occasion>.+?)(?:上|时|中|之际)?的?"
    r"(?P<genre>讲话稿|讲话|发言稿|发言|致辞|主持词|报告|讲稿|动员讲话|表态发言)(?:材料|范文|提纲)?$"
)
_GENRE_KEYWORDS = ("主持词", "致辞", "发言", "报告", "讲话", "讲稿", "党课")


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


def find_published(lines: Sequence[str], profile: Profile) -> dt.datetime | None:
    for line in lines:
        for pattern in profile.date_patterns:
            match = pattern.search(line)
            if match:
                found = parse_datetime(match.group(1) if match.groups() else match.group(0))
                if found:
                    return found
    return None


def find_published_fallback(html: str) -> dt.datetime | None:
    """htmldate on the whole page: slower and less exact, only when no site pattern matched."""
    from htmldate import find_date

    try:
        found = find_date(html, extensive_search=False, original_date=True, outputformat="%Y-%m-%d")
    except Exception:  # htmldate raises assorted errors on odd pages; a date is optional
        return None
    return parse_datetime(found) if found else None


def find_category(lines: Sequence[str], profile: Profile, site_title: str | None) -> list[str]:
    if profile.breadcrumb_pattern is None:
        return []
    for line in lines:
        match = profile.breadcrumb_pattern.search(line)
        if match:
            parts = [p.strip() for p in _CRUMB_SPLIT.split(match.group(1)) if p.strip()]
            if parts and (parts[0] == site_title or parts[0].endswith(("网", "网站"))):
                parts = parts[1:]
            parts = [p.strip("/ ") for p in parts if p.strip("/ ") not in _CRUMB_NOISE]
            return [p for p in parts if p]
    return []


def find_source(lines: Sequence[str], profile: Profile) -> str | None:
    if profile.source_pattern is None:
        return None
    for line in lines:
        match = profile.source_pattern.search(line)
        if match:
            return match.group(1).strip()
    return None


def find_outline(lines: Sequence[str]) -> tuple[list[str], tuple[int, int] | None]:
    """Outline items of a ``目录/提纲:……`` block and the block's line span."""
    for i, line in enumerate(lines):
        if _OUTLINE_START.match(line):
            items: list[str] = []
            for j in range(i + 1, min(len(lines), i + 40)):
                if _OUTLINE_END.match(lines[j]):
                    return items, (i, j)
                items.append(lines[j].strip())
            return [], None
    return [], None


def count_masks(text: str) -> int:
    return len(_MASKS.findall(text))


def parse_title(title: str | None) -> TitleParts:
    """Speaker, occasion and genre from the usual title pattern (区委书记在…上的讲话)."""
    if not title:
        return TitleParts(None, None, None)
    match = _TITLE.match(title.strip())
    if match:
        speaker = match.group("speaker")
        return TitleParts(speaker.strip() if speaker else None, match.group("occasion"), match.group("genre"))
    genre = next((g for g in _GENRE_KEYWORDS if g in title), None)
    return TitleParts(None, None, genre)
