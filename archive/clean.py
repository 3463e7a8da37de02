"""Cleaning: one raw page in, the text and metadata a version stores out.

Stages, in order (one driver, like trafilatura's core): decode -> parse ->
drop invisible noise -> read metadata from the visible lines -> find the body
(the profile's hint when it has one, else the prose block cross-checked with
trafilatura) -> paywall markers -> boilerplate lines -> quality gate. A failed
extraction is a value (outcome ``extraction_failed``), never an exception: the
capture is still recorded. docs/CLEANING.md describes every stage.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

import lxml.html
import trafilatura
from lxml import etree

from archive import metadata
from archive.decode import decode_html, replacement_ratio
from archive.mainblock import main_blocks, prose_len, visible_lines
from archive.profiles import Profile

EXTRACTOR_REV = "2"
"""Bump when the cleaning output changes for the same page and profile (docs/CLEANING.md)."""
EXTRACTOR_VERSION = f"sa{EXTRACTOR_REV}+trafilatura{trafilatura.__version__}"

GAP_MARKER = "[……]"
"""Our own marker for text the site withheld (paywall, truncated preview); see docs/CLEANING.md."""

_LIST_BULLET = re.compile(r"^[-*•]\s+")
_TABLE_CELL = re.compile(r"^\|\s*|\s*\|$")
_SENTENCE_END = re.compile(r"[。！？；!?;]")
_CLAUSE = re.compile(r"[，、,]")
_COVERAGE = 0.9
"""Share of trafilatura's sentences the prose block must hold to be preferred (never lose text to it)."""
_BLOCKED = re.compile(
    r"安全验证|访问过于频繁|访问频率过快|请输入验证码|人机验证|滑动验证|请完成验证|Access Denied|验证您是人类"
)


def extractor_version(profile: Profile) -> str:
    """Which cleaner produced a text: our revision, trafilatura's, and the profile's settings."""
    return f"{EXTRACTOR_VERSION}+p{profile.digest}" if profile.digest else EXTRACTOR_VERSION


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
    profile: str | None = None
    method: str | None = None
    """Where the body came from: ``hint``, ``prose-block`` or ``trafilatura``."""

    def version_fields(self) -> dict[str, Any]:
        """The metadata a version stores, by column name: one mapping for ingest, extract and tests."""
        return {
            "title": self.title,
            "published_at": self.published_at,
            "category": list(self.category),
            "source": self.source,
            "outline": list(self.outline),
            "partial": self.partial,
            "gaps": [{"offset": g.offset, "omitted_chars": g.omitted_chars} for g in self.gaps],
            "declared_chars": self.declared_chars,
            "shown_chars": self.shown_chars,
            "masked_count": self.masked_count,
            "char_count": self.char_count,
            "speaker": self.speaker,
            "occasion": self.occasion,
            "genre": self.genre,
            "extractor_version": self.extractor_version,
        }


@dataclass
class _Paywall:
    omitted: list[int | None] = field(default_factory=list)
    declared: int | None = None
    shown: int | None = None
    partial: bool = False
    ended: bool = False
    """The text ends in GAP_MARKER because the site cut it off (tail or preview): not one of the gaps."""


def _title(root: etree._Element, profile: Profile) -> str | None:
    candidates: list[str] = []
    if profile.title is not None:
        candidates += ["".join(el.itertext()) for el in profile.title(root) if isinstance(el, etree._Element)]
    candidates += ["".join(h.itertext()) for h in root.xpath("//h1")]
    head_title = root.findtext(".//title") or ""
    if head_title:
        candidates.append(re.split(r"\s*(?:[_|–—]|-{2,})\s*|\s+-\s+|-(?=[^-]{2,12}$)", head_title.strip())[0])
    for cand in candidates:
        cand = re.sub(r"\s+", " ", cand).strip()
        for pattern in profile.title_strip:
            while match := pattern.search(metadata.fold(cand)):
                cand = (cand[: match.start()] + cand[match.end() :]).strip()
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


def _trafilatura_lines(root: etree._Element) -> list[str] | None:
    text = trafilatura.extract(
        root,
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
    return [s for s in (_TABLE_CELL.sub("", line.strip()) for line in text.split("\n")) if s and s != "---"]


def _sentences(lines: list[str]) -> list[str]:
    """Prose sentences of extracted lines (table cells split apart): what must not be lost."""
    cells = ("".join(cell.split()) for line in lines for cell in line.split("|"))
    return [s for cell in cells for s in _SENTENCE_END.split(cell) if len(s) >= 12 and _CLAUSE.search(s)]


def _squash(text: str) -> str:
    return "".join(text.split())


def _generic_lines(root: etree._Element, profile: Profile) -> tuple[list[str] | None, str]:
    """The prose block's lines, trimmed by trafilatura; trafilatura's own lines when the block misses text.

    The block keeps its prose lines; a short line or a link (a head, a salutation,
    or an in-body ad, pager or link box) stays only if trafilatura kept it too, so
    the result holds what trafilatura found without the page around the block.
    """
    blocks = main_blocks(root)
    block = [line for el in blocks for line in visible_lines(el)]
    links = {_squash("".join(a.itertext())) for el in blocks for a in el.iter("a")}
    found = _trafilatura_lines(root)
    if not block:
        return found, "trafilatura"
    if not found:
        return block, "prose-block"
    held = _squash("".join(block))
    wanted = _sentences(_drop_boilerplate(found, profile))  # what the profile drops anyway is not missed
    covered = sum(len(s) for s in wanted if s in held)
    if covered < _COVERAGE * sum(len(s) for s in wanted):
        return found, "trafilatura"
    kept = _squash("".join(found))
    return [
        line for line in block if (prose_len(line) and _squash(line) not in links) or _squash(line) in kept
    ], "prose-block"


def _body_lines(root: etree._Element, profile: Profile) -> tuple[list[str] | None, str]:
    if profile.body is None:
        return _generic_lines(root, profile)
    found = [el for el in profile.body(root) if isinstance(el, etree._Element)]
    if not found:
        return None, "hint"
    return [line for el in found for line in visible_lines(el)], "hint"


def _apply_paywall(lines: list[str], profile: Profile) -> tuple[list[str], _Paywall]:
    """Replace the site's paywall markers by GAP_MARKER.

    An in-text gap records the characters it says it omits. A cut-off tail ends
    the text (with GAP_MARKER) and records the declared and shown lengths; it
    is not one of the gaps: its length is declared - shown - sum(gaps).
    """
    out: list[str] = []
    state = _Paywall()

    def gaps_in(line: str) -> str:
        folded = metadata.fold(line)  # spans of the folded line are spans of the line
        hits = sorted(
            (m for pattern in profile.gap_patterns for m in pattern.finditer(folded) if m.end() > m.start()),
            key=lambda m: m.start(),
        )
        pieces: list[str] = []
        pos = 0
        for m in hits:
            if m.start() < pos:
                continue
            pieces += [line[pos : m.start()], GAP_MARKER]
            state.omitted.append(_number(m, "omitted", first=True))
            pos = m.end()
        state.partial = state.partial or bool(hits)
        return "".join(pieces) + line[pos:]

    for line in lines:
        folded = metadata.fold(line)
        tail = next((m for pattern in profile.tail_patterns if (m := pattern.search(folded))), None)
        if tail:
            state.declared, state.shown = _number(tail, "declared"), _number(tail, "shown")
            out.append(gaps_in(line[: tail.start()].rstrip()) + GAP_MARKER)
            state.partial = state.ended = True
            break
        out.append(gaps_in(line))
    return out, state


def _number(match: re.Match[str], name: str, first: bool = False) -> int | None:
    value = match.groupdict().get(name) or (match.group(1) if first and match.re.groups else None)
    return int(value) if value and value.isdigit() else None


def _drop_boilerplate(lines: list[str], profile: Profile) -> list[str]:
    out: list[str] = []
    for line in lines:
        bare = _LIST_BULLET.sub("", metadata.fold(line))  # trafilatura renders <li> as "- item"
        if any(p.search(bare) for p in profile.truncate_after):
            break
        if any(p.search(bare) for p in profile.boilerplate):
            continue
        out.append(line)
    return out


def _mark_cut(lines: list[str], profile: Profile) -> bool:
    """A preview cut off mid-sentence (``持...``) ends in GAP_MARKER; True when the text was cut."""
    if not lines or lines[-1].endswith(GAP_MARKER):
        return False
    for pattern in profile.cut_patterns:
        match = pattern.search(metadata.fold(lines[-1]))
        if match and match.end() == len(lines[-1]):
            lines[-1] = lines[-1][: match.start()].rstrip() + GAP_MARKER
            return True
    return False


def clean_html(
    html: str, profile: Profile, *, site_title: str | None = None, encoding: str | None = None
) -> Extraction:
    """Clean a decoded page with a profile."""
    version = extractor_version(profile)
    try:
        root = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError) as exc:
        return Extraction("extraction_failed", f"not an HTML page ({exc})", encoding=encoding, profile=profile.name)
    for xpath in profile.drop:
        for el in xpath(root):
            if isinstance(el, etree._Element) and el.getparent() is not None:
                el.drop_tree()
    page_lines = visible_lines(root)
    folded = [metadata.fold(line) for line in page_lines]  # once: folding costs more than matching
    outline, _span = metadata.find_outline(page_lines, folded)
    title = _title(root, profile)
    published = metadata.find_published(page_lines, profile, folded)
    if published is None and profile.date_fallback:
        published = metadata.find_published_fallback(html)
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
    lines, method = _body_lines(root, profile)
    common["method"] = method
    if lines is None:
        if method == "hint":
            reason = (
                f"body hint {profile.body_hint} matched nothing; the site's layout may have changed "
                f"(check profiles.{profile.name})"
            )
        else:
            reason = "no main text found"
        return _failed_or_blocked(page_lines, reason, common)
    _items, span = metadata.find_outline(lines)
    if span:
        lines = lines[: span[0]] + lines[span[1] + 1 :]
    lines, paywall = _apply_paywall(lines, profile)
    lines = _strip_title(_drop_boilerplate(lines, profile), title)
    if _mark_cut(lines, profile):
        paywall.partial = paywall.ended = True
    text = "\n".join(lines)
    if len(text) < profile.min_chars:
        reason = f"cleaned text has {len(text)} characters, below the minimum of {profile.min_chars}"
        return _failed_or_blocked(page_lines, reason, common)
    markers = [m.start() for m in re.finditer(re.escape(GAP_MARKER), text)]
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


def clean_page(
    body: bytes, profile: Profile, *, content_type: str | None = None, site_title: str | None = None
) -> Extraction:
    """Decode and clean raw bytes as fetched."""
    version = extractor_version(profile)
    if not body.strip():
        return Extraction("extraction_failed", "empty response body", extractor_version=version, profile=profile.name)
    html, encoding = decode_html(body, content_type)
    if replacement_ratio(html) > 0.05:
        return Extraction(
            "extraction_failed", f"bytes do not decode as {encoding}", encoding=encoding,
            extractor_version=version, profile=profile.name,
        )  # fmt: skip
    if len(html) < 20_000 and _BLOCKED.search(html) and len(re.sub(r"<[^>]+>", "", html)) < 3000:
        return Extraction(
            "blocked", "the site served a block or challenge page", encoding=encoding,
            extractor_version=version, profile=profile.name,
        )  # fmt: skip
    return clean_html(html, profile, site_title=site_title, encoding=encoding)
