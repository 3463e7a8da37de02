"""Profile rules over the body's lines: paywall markers, boilerplate lines, cut-off previews, the title.

Each rule is data in the profile (docs/CLEANING.md); this module applies them.
Patterns are matched against the folded line (full-width ASCII forms folded),
whose spans are spans of the original line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from archive.cleaning.metadata import fold
from archive.cleaning.profiles import Profile
from archive.cleaning.result import GAP_MARKER

_LIST_BULLET = re.compile(r"^[-*•]\s+")


@dataclass
class Paywall:
    """What the paywall markers of one page said."""

    omitted: list[int | None] = field(default_factory=list)
    declared: int | None = None
    shown: int | None = None
    partial: bool = False
    ended: bool = False
    """The text ends in GAP_MARKER because the site cut it off (tail or preview): not one of the gaps."""


def _number(match: re.Match[str], name: str, first: bool = False) -> int | None:
    value = match.groupdict().get(name) or (match.group(1) if first and match.re.groups else None)
    return int(value) if value and value.isdigit() else None


def apply_paywall(lines: list[str], profile: Profile) -> tuple[list[str], Paywall]:
    """Replace the site's paywall markers by GAP_MARKER.

    An in-text gap records the characters it says it omits. A cut-off tail ends
    the text (with GAP_MARKER) and records the declared and shown lengths; it
    is not one of the gaps: its length is declared - shown - sum(gaps).
    """
    out: list[str] = []
    state = Paywall()

    def gaps_in(line: str) -> str:
        folded = fold(line)  # spans of the folded line are spans of the line
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
        folded = fold(line)
        tail = next((m for pattern in profile.tail_patterns if (m := pattern.search(folded))), None)
        if tail:
            state.declared, state.shown = _number(tail, "declared"), _number(tail, "shown")
            out.append(gaps_in(line[: tail.start()].rstrip()) + GAP_MARKER)
            state.partial = state.ended = True
            break
        out.append(gaps_in(line))
    return out, state


def _matches(bare: str, combined: tuple[re.Pattern[str], ...] | None, each: tuple[re.Pattern[str], ...]) -> bool:
    return any(p.search(bare) for p in (combined if combined is not None else each))


def _truncates(bare: str, profile: Profile) -> bool:
    return _matches(bare, profile.truncate_any, profile.truncate_after)


def _drops(bare: str, profile: Profile) -> bool:
    return _matches(bare, profile.boilerplate_any, profile.boilerplate)


def _bare(line: str) -> str:
    return _LIST_BULLET.sub("", fold(line))  # trafilatura renders <li> as "- item"


_TRUNCATES, _DROPS = 1, 2
_VERDICTS_KEPT = 4096
"""Lines whose verdicts a profile remembers; then it forgets them all (a page has a few hundred)."""


def _verdict(line: str, profile: Profile) -> int:
    """The rules' verdict on a line (_TRUNCATES | _DROPS bits), found once however many stages ask.

    The body's votes, the cross-check's scope and the rules each ask about the same
    lines, and matching a prose line against a profile's patterns costs a few
    microseconds each time; the verdict is a pure function of the line and the
    profile, so the profile remembers it.
    """
    memo = profile.verdicts
    found = memo.get(line)
    if found is None:
        bare = _bare(line)
        found = (_TRUNCATES if _truncates(bare, profile) else 0) | (_DROPS if _drops(bare, profile) else 0)
        if len(memo) >= _VERDICTS_KEPT:
            memo.clear()
        memo[line] = found
    return found


def is_boilerplate(line: str, profile: Profile) -> bool:
    """The line is one of the profile's boilerplate or end-of-text lines."""
    return _verdict(line, profile) != 0


def truncates(line: str, profile: Profile) -> bool:
    """The line is one after which nothing is content (a footer, 推荐访问:)."""
    return bool(_verdict(line, profile) & _TRUNCATES)


def drops(line: str, profile: Profile) -> bool:
    """The line is one of the profile's boilerplate lines (removed where it stands)."""
    return bool(_verdict(line, profile) & _DROPS)


def drop_boilerplate(lines: list[str], profile: Profile, removed: list[str] | None = None) -> list[str]:
    """Drop the profile's boilerplate lines; stop at the first line after which nothing is content.

    ``removed`` collects the lines dropped (a truncating line, not what follows it):
    the per-site "lines most often removed as boilerplate" of ``status``.
    """
    out: list[str] = []
    for line in lines:
        verdict = _verdict(line, profile)
        if verdict & _TRUNCATES:
            if removed is not None:
                removed.append(line)
            break
        if verdict & _DROPS:
            if removed is not None:
                removed.append(line)
            continue
        out.append(line)
    return out


def mark_cut(lines: list[str], profile: Profile) -> bool:
    """A preview cut off mid-sentence (``持...``) ends in GAP_MARKER; True when the text was cut."""
    if not lines or lines[-1].endswith(GAP_MARKER):
        return False
    for pattern in profile.cut_patterns:
        match = pattern.search(fold(lines[-1]))
        if match and match.end() == len(lines[-1]):
            lines[-1] = lines[-1][: match.start()].rstrip() + GAP_MARKER
            return True
    return False


def strip_title(lines: list[str], title: str | None) -> list[str]:
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
