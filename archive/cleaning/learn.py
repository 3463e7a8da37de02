"""Learning a site's template from its stored pages, deterministically, into a profile a person can edit.

A single-page cleaner sees one page; a crawler sees hundreds of one site. A line
that repeats on a large share of a site's pages is that site's template, not
content (site-level noise detection, as in Yi, Liu & Li 2003, "Eliminating noisy
information in web pages"). The learner reads the site's raw pages, cleans each
with the site's current profile, and counts, over pages, the lines the cleaner
still keeps:

- **repeated lines**: the same line (digit runs generalised, so a counter or a
  date does not make it new) on at least ``min_share`` of the pages: a box heading,
  a font-size bar, a disclaimer;
- **field lines**: lines made of two or more ``label: value`` fields whose labels
  repeat (``作者：… 更新时间：… 浏览次数：…``): the info line, whatever its values.

Guards keep speech text out: a line ending in sentence punctuation (。！？) is a
sentence; a line ending in a colon is a salutation or a heading of what follows,
unless what follows it is link text (a box of other articles' titles); a line
found on fewer than ``min_pages`` pages proves nothing; our own gap marker is not the
site's.

The result is written as ``[profiles."SITE.learned"]`` extending the profile the
site used (learned profiles are found by name, see profiles.ProfileBook.for_site);
the text of a page stays a function of (raw page, profile), and the new profile's
digest makes a new extractor version, applied to stored pages by ``reclean``.
"""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from archive.cleaning.core import clean, parse_page
from archive.cleaning.decode import decode_html
from archive.cleaning.mainblock import read_lines
from archive.cleaning.metadata import fold
from archive.cleaning.profiles import LEARNED_SUFFIX, Profile
from archive.cleaning.result import GAP_MARKER

_DIGITS = re.compile(r"\d+")
_SENTENCE_END = re.compile(r"[。！？!?；;]$")
_FIELD = re.compile(r"([^\W\d_][^\s:|【】\[\]]{0,7}):\s*(?=\S)")
_MAX_LINE = 120


@dataclass(frozen=True)
class RawPage:
    """One stored page of the site, as fetched."""

    url: str
    body: bytes
    content_type: str | None = None


@dataclass(frozen=True)
class LearnedRule:
    pattern: str
    """A regex on the folded line, as profile boilerplate rules are written."""
    pages: int
    """Pages on which the current profile kept a line it matches."""
    kind: str
    """``repeated line`` or ``field line``."""
    example: str


@dataclass
class Learned:
    """What the learner found for one site."""

    site: str
    base: str
    """The profile the site was cleaned with, which the learned profile extends."""
    pages: int
    rules: list[LearnedRule] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.site}{LEARNED_SUFFIX}"

    def to_toml(self, learned_at: str) -> str:
        """The profile as a TOML file with a comment per rule (how many pages, an example)."""
        out = [
            f"# Learned by `speech-archive learn-profile {self.site}` on {learned_at} from {self.pages} stored pages.",
            "# Lines the site's profile kept on many of its pages: its template, not content. Edit or delete",
            f"# rules freely, then run `speech-archive reclean --site {self.site}`; delete this file to stop using it.",
            f'[profiles."{self.name}"]',
            f"extends = {json.dumps(self.base)}",
            "boilerplate = [",
        ]
        for rule in self.rules:
            example = json.dumps(rule.example, ensure_ascii=False)
            out.append(f"    # {rule.kind} on {rule.pages} of {self.pages} pages, e.g. {example}")
            out.append(f"    {json.dumps(rule.pattern, ensure_ascii=False)},")
        out.append("]")
        return "\n".join(out) + "\n"


def _shape(folded: str) -> str:
    """The line with digit runs generalised and white space flexible, as an anchored regex."""
    tokens = (r"\d+".join(re.escape(part) for part in _DIGITS.split(token)) for token in folded.split())
    return "^" + r"\s*".join(tokens) + "$"


def _fields(folded: str) -> tuple[str, ...]:
    """The labels of a ``label: value label: value`` line (two or more), else ()."""
    labels = tuple(m.group(1) for m in _FIELD.finditer(folded))
    return labels if len(labels) >= 2 and folded.startswith(labels[0]) else ()


def _field_pattern(labels: tuple[str, ...]) -> str:
    return "^" + ".*?".join(re.escape(label) + r":" for label in labels)


def _page_lines(page: RawPage, profile: Profile, site_title: str | None) -> tuple[set[str], dict[str, str]] | None:
    """(folded lines the profile keeps, folded line -> the next page line) for one page; None if it fails."""
    ext = clean(page.body, profile, content_type=page.content_type, site_title=site_title, url=page.url)
    if not ext.ok:
        return None
    html, _encoding = decode_html(page.body, page.content_type)
    parsed = parse_page(html)
    following: dict[str, str] = {}
    if parsed is not None:
        lines = read_lines(parsed.root)
        for line, after in itertools.pairwise(lines):
            following.setdefault(fold(line.text), "link" if after.linked else after.text)
    kept = {fold(line) for line in ext.text.split("\n") if 0 < len(line) <= _MAX_LINE}
    return kept, following


def _may_be_template(folded: str, nexts: Counter[str]) -> bool:
    """The guards: no sentence, no salutation or heading of content (see the module docstring)."""
    if _SENTENCE_END.search(folded) or GAP_MARKER in folded:  # a sentence; our own marker of withheld text
        return False
    if folded.endswith(":"):
        return nexts["link"] > sum(nexts.values()) / 2  # the heading of a box of links
    return True


def learn(
    pages: Iterable[RawPage],
    profile: Profile,
    *,
    site: str,
    site_title: str | None = None,
    min_share: float = 0.25,
    min_pages: int = 3,
) -> Learned:
    """Learn the lines ``profile`` keeps on many of the site's pages (deterministic: same pages, same rules)."""
    shapes: Counter[str] = Counter()
    field_sets: Counter[tuple[str, ...]] = Counter()
    examples: dict[str, str] = {}
    nexts: dict[str, Counter[str]] = {}
    count = 0
    for page in pages:
        seen = _page_lines(page, profile, site_title)
        if seen is None:
            continue
        count += 1
        kept, following = seen
        page_shapes, page_fields = set(), set()
        for folded in kept:
            shape = _shape(folded)
            page_shapes.add(shape)
            examples.setdefault(shape, folded)
            nexts.setdefault(shape, Counter())[_kind_of(following.get(folded))] += 1
            labels = _fields(folded)
            if labels:
                page_fields.add(labels)
                examples.setdefault(_field_pattern(labels), folded)
        shapes.update(page_shapes)
        field_sets.update(page_fields)
    floor = max(min_pages, min_share * count)
    rules: list[LearnedRule] = []
    covered: set[str] = set()
    for labels, n in sorted(field_sets.items(), key=lambda item: (-item[1], item[0])):
        if n >= floor:
            pattern = _field_pattern(labels)
            rules.append(LearnedRule(pattern, n, "field line", examples[pattern]))
            covered.update(s for s in shapes if re.search(pattern, examples[s]))
    for shape, n in sorted(shapes.items(), key=lambda item: (-item[1], item[0])):
        if n >= floor and shape not in covered and _may_be_template(examples[shape], nexts[shape]):
            rules.append(LearnedRule(shape, n, "repeated line", examples[shape]))
    return Learned(site=site, base=profile.name, pages=count, rules=rules)


def _kind_of(after: str | None) -> str:
    return "link" if after == "link" else "text"
