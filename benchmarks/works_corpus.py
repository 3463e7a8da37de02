"""The labelled corpus of the works benchmark: copies of replica speeches as the five sites show them.

Each work is one generated speech posted 2–6 times on randomly chosen replica
sites. A copy is masked the site's way, another site's way or with the names
spelled out; its paragraphs may be re-flowed (joined or split); wm114 paywalls
half its copies (20–90 % of the text shown, a gap in the middle) and biganzi
shows every copy as a preview cut mid-sentence (20–90 %). Each copy is rendered
by the site's own template and cleaned by our cleaner, exactly as a crawl
would store it. Hard negatives are different speeches of the same genre that
take one to three whole paragraphs (the opening among them half the time) from
a speech of a work. The truth: which copies belong together, how much of the
speech each shows, and which copy the canonical rule should pick.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass

from archive.cleaning import ProfileBook
from archive.cleaning.metadata import count_masks
from archive.works.textform import form_facts, matching_form
from crawler.workers import PageJob, process_page
from replica.model import ArticleView, BodyPlan
from replica.paywall import cut_plan, full_plan, kept_plan
from replica.sites import SITE_NAMES, SITES
from replica.textgen import MASK_STYLES, generate_speech, headline, is_head

BASE_URL = "http://127.0.0.1:8800"
T0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Doc:
    """One cleaned copy and the truth about it."""

    key: int
    site: str
    url: str
    work: int
    """True work: copies of one speech share it; every hard negative has its own."""
    keep: float
    """Share of the speech the copy shows (1.0 = complete)."""
    masks: int
    text: str
    title: str | None
    partial: bool
    negative: bool = False
    length: int = 0
    """Matching length of the text the page truly shows (before cleaning): what "longest" should compare."""


def true_length(text: str) -> int:
    return form_facts(text, matching_form(text)).length


def _reflow(paragraphs: list[str], rng: random.Random) -> list[str]:
    """Join two neighbouring paragraphs or split one at a full stop: the same text, other line breaks."""
    out = list(paragraphs)
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(1, len(out) - 1)
        if rng.random() < 0.5 and not is_head(out[i]) and not is_head(out[i + 1]):
            out[i : i + 2] = [out[i] + out[i + 1]]
        else:
            cut = out[i].find("。", len(out[i]) // 3) + 1
            if 0 < cut < len(out[i]):
                out[i : i + 1] = [out[i][:cut], out[i][cut:]]
    return out


def _plan(site: str, paragraphs: list[str], rng: random.Random) -> tuple[BodyPlan, float]:
    keep = round(rng.uniform(0.2, 0.9), 3)
    if site == "biganzi":
        return cut_plan(paragraphs, keep), keep
    if site == "wm114" and rng.random() < 0.5:
        return kept_plan(paragraphs, keep, rng), keep
    return full_plan(paragraphs), 1.0


def _render(site: str, key: int, title: str, paragraphs: list[str], *, plan: BodyPlan, when: dt.datetime) -> bytes:
    template = SITES[site]
    view = ArticleView(
        aid=key,
        path=template.article_path(key, when.replace(tzinfo=None)),
        title=title,
        published=when.replace(tzinfo=None),
        paragraphs=tuple(paragraphs),
        outline=tuple(p for p in paragraphs if is_head(p)),
        plan=plan,
        base_url=BASE_URL,
        noise=0,
        page_kb=0,
    )
    return template.encode(template.render_article(view))


class CorpusBuilder:
    """Renders and cleans copies one by one (cleaning is the slow part: ~10 ms a page)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(f"works-bench:{seed}")
        self.book = ProfileBook()
        self.seed_base = 7_000_000 + seed * 100_000
        self.keys = 0

    def copy(self, speech_seed: int, work: int, site: str, style: str, *, reflow: bool, negative: bool = False,
             paragraphs: list[str] | None = None) -> Doc | None:  # fmt: skip
        rng = self.rng
        body = paragraphs if paragraphs is not None else generate_speech(speech_seed, mask=style).paragraphs
        if reflow and site != "biganzi" and len(body) > 4:
            body = _reflow(body, rng)
        plan, keep = _plan(site, body, rng)
        self.keys += 1
        key = SITES[site].id_start + self.keys
        when = T0 + dt.timedelta(minutes=self.keys)
        title = headline(speech_seed).title
        page = _render(site, key, title, body, plan=plan, when=when)
        template = SITES[site]
        processed = process_page(self.book, PageJob(site, page, template.content_type, template.title))
        if processed.extraction is None or not processed.extraction.ok:
            return None
        ext = processed.extraction
        return Doc(
            key, site, BASE_URL + f"/{site}" + template.article_path(key, when.replace(tzinfo=None)), work, keep,
            count_masks("\n".join(body)), ext.text, ext.title, ext.partial, negative,
            true_length("\n".join(plan.shown_paragraphs)),
        )  # fmt: skip

    def _style(self, site: str) -> str:
        roll = self.rng.random()
        if roll < 0.6:
            return SITES[site].mask
        if roll < 0.8:
            return self.rng.choice(list(MASK_STYLES))
        return ""

    def work(self, index: int) -> Iterator[Doc]:
        speech_seed = self.seed_base + index
        for _ in range(self.rng.randint(2, 6)):
            site = self.rng.choice(SITE_NAMES)
            doc = self.copy(speech_seed, index, site, self._style(site), reflow=self.rng.random() < 0.3)
            if doc is not None:
                yield doc

    def negative(self, index: int, works: int) -> Doc | None:
        """A different speech of the same genre that takes 1–3 paragraphs from work ``target``'s speech."""
        target = self.rng.randrange(works)
        source_seed = self.seed_base + target
        genre = headline(source_seed).genre
        seed = self.seed_base + 50_000 + index * 7
        while headline(seed).genre != genre:
            seed += 1
        site = self.rng.choice(SITE_NAMES)
        style = self._style(site)
        mine = generate_speech(seed, mask=style).paragraphs
        theirs = generate_speech(source_seed, mask=style).paragraphs
        body = list(mine)
        slots = [i for i in range(2, min(len(mine), len(theirs)) - 1) if not is_head(theirs[i])]
        picks = self.rng.sample(slots, min(len(slots), self.rng.randint(1, 3)))
        if self.rng.random() < 0.5:
            picks = [1, *picks[:2]]
        for i in picks:
            body[i] = theirs[i]
        return self.copy(seed, -1 - index, site, style, reflow=False, negative=True, paragraphs=body)


def build(works: int, negatives: int, seed: int = 0) -> list[Doc]:
    """The corpus, shuffled into the order a crawl might bring it."""
    builder = CorpusBuilder(seed)
    docs = [doc for i in range(works) for doc in builder.work(i)]
    docs += [doc for i in range(negatives) if (doc := builder.negative(i, works)) is not None]
    random.Random(seed).shuffle(docs)
    return docs
