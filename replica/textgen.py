"""Deterministic, speech-like Chinese text for the replica sites.

Why generated text: the tests need realistic bodies (salutation, numbered section heads,
80-400 character paragraphs, masked names, the odd GBK-only character) in any quantity,
reproducibly, without shipping anybody's real pages.  Same seed => same speech, always.

Generation happens in two cheap stages so a 5,000-article site builds instantly: the
headline (title, speaker, occasion) is derived on its own so list pages never generate a
body, and bodies are generated lazily and cached in their unmasked "raw" form; each site
then renders the raw text with its own mask style.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from functools import lru_cache

from replica import phrases as ph

PLACE = "\ue000"
PERSON = "\ue001"
LEADER = "\ue002"
NUM_OPEN = "\ue003"
NUM_CLOSE = "\ue004"

_SLOT = re.compile(r"\{([A-Z][A-Z0-9]*)\}")
_NUMBER = re.compile(NUM_OPEN + "([^" + NUM_CLOSE + "]*)" + NUM_CLOSE)
HEAD_RE = re.compile(r"^[一二三四五六七八九十]{1,3}、[^。！？]{2,60}$")
"""A numbered section head paragraph such as ``二、压紧压实责任，确保安全生产取得实效``."""


@dataclass(frozen=True)
class MaskStyle:
    """How a site writes the names it hides; None means the name is spelled out."""

    key: str
    place: str | None
    person: str | None
    leader: str
    numbers: str | None = None


MASK_STYLES: dict[str, MaskStyle] = {
    "**_": MaskStyle("**_", "**", "**", "_"),
    "**": MaskStyle("**", "**", "**", "习近平"),
    "*": MaskStyle("*", "*", "*", "习近平"),
    "XX": MaskStyle("XX", "XX", "×××", "习近平", numbers="XX"),
    "": MaskStyle("", None, None, "习近平"),
}


@dataclass(frozen=True)
class Headline:
    """The cheap part of a speech: enough to list it without generating the body."""

    seed: int
    title: str
    speaker: str
    occasion: str
    genre: str
    year: int
    unit: str


@dataclass
class Speech:
    """One generated speech, already rendered with a mask style."""

    seed: int
    title: str
    speaker: str
    occasion: str
    genre: str
    year: int
    mask: str
    paragraphs: list[str] = field(default_factory=list)
    outline: list[str] = field(default_factory=list)
    has_gbk_only: bool = False

    @property
    def text(self) -> str:
        """Paragraphs joined by newlines (convenient for hashing/containment checks)."""
        return "\n".join(self.paragraphs)


@dataclass(frozen=True)
class _Raw:
    headline: Headline
    place: str
    person: str
    has_gbk_only: bool
    paragraphs: tuple[str, ...]


@lru_cache(maxsize=65536)
def headline(seed: int) -> Headline:
    """Title, speaker, occasion and genre for a seed (no body work, cached)."""
    rng = random.Random(seed * 2 + 1)
    speaker, unit = rng.choice(ph.SPEAKERS)
    topic = rng.choice(ph.TOPICS)
    occasion = rng.choice(ph.OCCASIONS).format(U=unit, T=topic, K=rng.choice(ph.NUMERALS[:6]))
    genre = rng.choice(ph.GENRES)
    year = rng.randint(2019, 2025)
    roll = rng.random()
    if roll < 0.55:
        title = f"{speaker}在{occasion}上的{genre}"
    elif roll < 0.75:
        genre = "讲话"
        title = f"{speaker}在{occasion}上讲话"
    elif roll < 0.9:
        genre = "讲话"
        title = f"{year}年在{occasion}上讲话"
    else:
        genre = "讲话"
        occasion = f"调研{topic}工作"
        title = f"{speaker}在{occasion}时的讲话"
    return Headline(seed, title, speaker, occasion, genre, year, unit)


def speech_title(seed: int) -> str:
    """The title of the speech for ``seed`` (cheap, used by list pages)."""
    return headline(seed).title


_BANKS: dict[str, tuple[str, ...]] = {
    "V": ph.VERBS,
    "O": ph.WORK_AREAS,
    "O2": ph.WORK_AREAS,
    "I": ph.IDIOMS,
    "R": ph.RESULTS,
    "Q": ph.SLOGANS,
    "D": ph.PROBLEMS,
    "B": ph.BAD_HABITS,
    "C": ph.CONCEPTS,
    "H": ph.EXTRA_HOLDERS,
}
_SHARED = {"O2": "O"}  # O and O2 draw from one bank and must differ within a sentence


class _Filler:
    """Fills ``{X}`` slots of phrase templates from the banks with one seeded RNG.

    Within one template the same bank never yields the same phrase twice, which keeps
    sentences such as ``决不能…，决不能…，更不能…`` from repeating themselves.
    """

    def __init__(self, rng: random.Random, head: Headline, name: str) -> None:
        self.rng = rng
        self.head = head
        self.fixed = {
            "P": PLACE,
            "M": PERSON,
            "L": LEADER,
            "U": head.unit,
            "Y": str(head.year),
            "OCC": head.occasion,
            "NAME": name,
        }
        self.used: dict[str, set[str]] = {}

    def slot(self, key: str) -> str:
        rng = self.rng
        bank = _BANKS.get(key)
        if bank is not None:
            used = self.used.setdefault(_SHARED.get(key, key), set())
            choice = rng.choice(bank)
            while choice in used and len(used) < len(bank):
                choice = rng.choice(bank)
            used.add(choice)
            return choice
        if key == "N":
            return NUM_OPEN + str(rng.randint(2, 98)) + NUM_CLOSE
        if key == "F":
            return NUM_OPEN + f"{rng.uniform(1, 60):.1f}" + NUM_CLOSE
        return self.fixed[key]

    def fill(self, template: str) -> str:
        self.used = {}
        for _ in range(3):  # results may contain {P}/{U}: expand nested slots
            if "{" not in template:
                break
            template = _SLOT.sub(lambda m: self.slot(m.group(1)), template)
        return template

    def sentence(self, avoid: set[str]) -> str:
        template = self.rng.choice(ph.SENTENCES)
        while template in avoid:
            template = self.rng.choice(ph.SENTENCES)
        avoid.add(template)
        return self.fill(template)

    def body(self, low: int = 80, high: int = 400) -> str:
        """One body paragraph whose rendered length stays within [low, high]."""
        rng = self.rng
        target = rng.randint(low + 10, high - 60)
        text = ""
        if rng.random() < 0.2:
            text = self.fill(rng.choice(ph.SUBSECTION_LEADS))
        avoid: set[str] = set()
        while len(text) < target:
            sentence = self.sentence(avoid)
            if len(text) + len(sentence) > high - 20 and len(text) >= low:
                break
            text += sentence
        return text


def _section_layout(rng: random.Random, middle: int) -> list[int]:
    """Split ``middle`` paragraphs into sections; each entry = body paragraphs per head."""
    if middle < 2:
        return []
    sections = max(1, min(6, middle // 3))
    bodies = middle - sections
    counts = [1] * sections
    for _ in range(bodies - sections):
        counts[rng.randrange(sections)] += 1
    return counts


@lru_cache(maxsize=4096)
def _raw_speech(seed: int, paragraphs: int | None) -> _Raw:
    head = headline(seed)
    rng = random.Random(seed * 2 + 2)
    gbk_only = rng.random() < 0.25
    surname = rng.choice(ph.SURNAMES)
    given = rng.choice(ph.GIVEN_CHARS)
    if gbk_only:
        name = surname + rng.choice(ph.GBK_ONLY_CHARS)
    elif rng.random() < 0.5:
        name = PERSON
    else:
        name = surname + given
    filler = _Filler(rng, head, name)
    total = paragraphs if paragraphs is not None else rng.randint(10, 22)
    total = max(3, total)
    out: list[str] = [rng.choice(ph.SALUTATIONS[head.genre])]
    opening = (
        filler.fill(rng.choice(ph.OPENINGS))
        + filler.fill(rng.choice(ph.OPENING_MIDDLES))
        + filler.fill(rng.choice(ph.OPENING_ENDS))
    )
    out.append(opening)
    used_leads: set[str] = set()
    for numeral, count in enumerate(_section_layout(rng, total - 3)):
        lead = rng.choice([x for x in ph.HEAD_LEADS if x not in used_leads])
        used_leads.add(lead)
        out.append(f"{ph.NUMERALS[numeral]}、{lead}，{filler.fill(rng.choice(ph.HEAD_GOALS))}")
        out.extend(filler.body() for _ in range(count))
    while len(out) < total - 1:  # too few paragraphs for sections: plain bodies
        out.append(filler.body())
    out.append(filler.fill(rng.choice(ph.CLOSINGS)))
    return _Raw(head, rng.choice(ph.PLACE_NAMES), surname + given + given, gbk_only, tuple(out))


def render_masks(text: str, style: MaskStyle, place: str = "青川", person: str = "王某") -> str:
    """Replace the generator's placeholders by a site's masks (or spelled-out names)."""
    text = text.replace(PLACE, style.place if style.place is not None else place)
    text = text.replace(PERSON, style.person if style.person is not None else person)
    text = text.replace(LEADER, style.leader)
    if style.numbers is not None:
        return _NUMBER.sub(style.numbers, text)
    return text.replace(NUM_OPEN, "").replace(NUM_CLOSE, "")


def generate_speech(seed: int, paragraphs: int | None = None, mask: str = "**") -> Speech:
    """The speech for ``seed``; ``paragraphs`` fixes the total paragraph count (>= 3).

    ``mask`` is a key of ``MASK_STYLES``: ``"**_"`` (wm114), ``"**"``, ``"*"``, ``"XX"``
    (sanweiyuan, also hides numbers) or ``""`` (names spelled out).
    """
    raw = _raw_speech(seed, paragraphs)
    style = MASK_STYLES[mask]
    paras = [render_masks(p, style, raw.place, raw.person) for p in raw.paragraphs]
    head = raw.headline
    return Speech(
        seed=seed,
        title=head.title,
        speaker=head.speaker,
        occasion=head.occasion,
        genre=head.genre,
        year=head.year,
        mask=mask,
        paragraphs=paras,
        outline=[p for p in paras if HEAD_RE.match(p)],
        has_gbk_only=raw.has_gbk_only,
    )


def is_head(paragraph: str) -> bool:
    """True for a numbered section head paragraph (``一、…``)."""
    return HEAD_RE.match(paragraph) is not None


def edited_paragraph(text: str, edit_seed: int, mask: str = "**") -> str:
    """A visibly different version of ``text`` (deterministic in ``edit_seed``).

    Heads get a new goal phrase (so they stay heads and the outline follows); any other
    paragraph gets one sentence put in front, so the change shows even on pages that cut
    the end of a paragraph (paywall gaps, previews).
    """
    rng = random.Random(edit_seed)
    head = Headline(edit_seed, "", "", "", "讲话", 2024, "区")
    filler = _Filler(rng, head, PERSON)
    style = MASK_STYLES.get(mask, MASK_STYLES["**"])
    if is_head(text):
        prefix, rest = text.split("、", 1)
        lead = rest.split("，", 1)[0]
        for _ in range(20):
            new = render_masks(f"{prefix}、{lead}，{filler.fill(rng.choice(ph.HEAD_GOALS))}", style)
            if new != text:
                return new
        return text + "（修订）"
    return render_masks(filler.fill(rng.choice(ph.EDIT_SENTENCES)), style) + text
