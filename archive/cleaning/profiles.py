"""Cleaning profiles: per-site (or per-CMS-family) knowledge, as data.

A built-in ``default`` profile knows the boilerplate common to this family of
sites (intro lines, footers, ICP numbers, docx-preview labels, paywall markers
and the numbers they carry); named built-ins add what one site or CMS template
shows. A config file can extend or add profiles (``[profiles.NAME]``, optionally
``extends``), so a new site needs a config entry, never code. Patterns, XPaths
and CSS selectors are compiled once here; a profile's ``digest`` fingerprints
its settings so the extractor version changes when a profile does.

The body hints of the site profiles follow the replica's model of each
template (replica/site_*.py); see docs/CLEANING.md for what to do when a live
site's markup differs.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from archive.cleaning.needle import Needled
from archive.config import Config, ProfileConfig
from archive.errors import ConfigError

# Lines that are never content on these sites, whichever site they come from.
_DEFAULT_BOILERPLATE = [
    r"下面是小编为大家整理的.{0,120}供大家参考",
    r"^(您的|当前|您现在的|您当前的)位置:",
    r"^(发布|发表|更新)?(时间|日期):\s*\d{4}",
    r"^来源:",
    r"^(浏览|阅读|点击)(次数|量|数)?:?\s*\(?\d+\)?\s*次?$",
    r"^阅读:?\s*\d+\s*次$",
    r"\.docx?_第\d+页$",
    r"^第\s*\d+\s*页\s*/\s*共\s*\d+\s*页$",
    r"VIP专享|VIP免费",
    r"^(电脑桌面|碎片内容|确认删除\??|回到顶部|QQ|QQ点击这里给我发消息|加入收藏|设为首页|展开全文|知道了)$",
    r"^添加.{0,30}到电脑桌面$",
    r"^安装后可以?在桌面.{0,8}(访问|打开)$",
    r"由互联网用户分享整理。?\s*文章地址:",
    r"^收藏《.*》$",
    r"^【(广告|推广|导读)】",
    r"^(上一篇|下一篇|前一篇|后一篇):",
    r"^(相关|热门|推荐|最新)(文章|范文|阅读|新闻|文档):?$",
    r"^(标签|关键词|责任编辑|编辑|审核|校对):",
    r"^(分享到|分享):",
    r"^Powered by",
    r"(ICP备|ICP证)\d*号",
    r"^版权所有:",
    r"^(Copyright|©)",
    r"^【(打印本页|打印|关闭窗口|关闭)】",
    r"^字号:",
    r"^(微信)?扫一扫",
    r"点击(上方)?蓝字.{0,6}关注",
    r"^[-—(\[【]*\s*(END|完|全文完)\s*[-—)\]】]*$",
    r"^(本文来源:.{0,120})?转载请注明出处",
    r"^本文来源:\s*https?://",
    r"^声明:.{0,40}(版权|侵权)",
    r"^(下载本文|打印本文|免费下载本文档|下载文档|打开APP)",
]

# Lines after which nothing is content: footers, download disclaimers, tag clouds.
_DEFAULT_TRUNCATE = [
    r"^推荐访问:",
    r"^版权所有:",
    r"^Powered by",
    r"^1、当您付费下载文档后",
    r"^(相关|热门|推荐)(文章|范文):?$",
    r"^温馨提示:",
]

_DATE = r"(\d{4}[-/年]\d{1,2}[-/月]\d{1,2}日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?)"
_DEFAULT_DATES = [rf"(?:发布|发表|更新)?时间:\s*{_DATE}", rf"(?:发布|发表)?日期:\s*{_DATE}"]

# Invisible anti-copy noise, in one pass over the tree: inline styles that hide, Discuz's jammer class, @hidden.
_HIDDEN_STYLE = [f'contains(translate(@style, " ", ""), "{s}")' for s in
                 ("display:none", "visibility:hidden", "font-size:0px", "font-size:0;")]  # fmt: skip
_DEFAULT_DROP_XPATH = [
    f"//*[@style and ({' or '.join(_HIDDEN_STYLE)})]"
    ' | //*[contains(concat(" ", normalize-space(@class), " "), " jammer ")] | //*[@hidden]',
    "//script | //style | //noscript | //template | //iframe",
]

# Paywall markers of this family of sites, with the numbers they carry.
# A gap starts at "…" or "(" so the regex engine skips every other position cheaply.
_DEFAULT_GAPS = [r"(?:…{1,2}\(?|\()[^()\n]{0,40}省略(?P<omitted>\d+)字[^()\n]{0,30}\)?…{0,2}"]
_DEFAULT_TAILS = [
    r"\s*…{0,2}\(?未完,\s*全文共(?P<declared>\d+)字,\s*当前仅显示(?P<shown>\d+)字.*$",
]
_DEFAULT_CUTS = [r"(?:\.{3,}|…{1,2})$"]
_DEFAULT_TITLE_STRIP = [r"\.(?:docx?|pdf|pptx?|wps|txt)(?=VIP|_|\s|$).*$", r"VIP专享|VIP免费"]

_BUILTIN: dict[str, dict[str, Any]] = {
    "default": {
        "boilerplate": _DEFAULT_BOILERPLATE,
        "truncate_after": _DEFAULT_TRUNCATE,
        "date_patterns": _DEFAULT_DATES,
        "drop_xpath": _DEFAULT_DROP_XPATH,
        "gap_patterns": _DEFAULT_GAPS,
        "tail_patterns": _DEFAULT_TAILS,
        "cut_patterns": _DEFAULT_CUTS,
        "title_strip": _DEFAULT_TITLE_STRIP,
        "breadcrumb_pattern": r"^(?:您的|当前|您现在的|您当前的)位置:\s*(.+)$",
        "source_pattern": r"来源:\s*(\S+)",
        "min_chars": 50,
        "date_fallback": True,
    },
    "wm114": {
        "extends": "default",
        "recognise": [r"wm114\.cn", r"新文秘网"],
        "boilerplate": [r"正式会员可完整阅读", r"^成为正式会员", r"请阅读下面提示信息"],
    },
    # 众一秘书网 and 力信秘书网 run the same CMS template.
    # No built-in body hints: the real sites' markup is unverified from here, and a hint that
    # matches nothing fails every page. The replica's config adds hints for its known markup.
    "zhongyi-cms": {"extends": "default"},
    "zhongyi": {"extends": "zhongyi-cms", "recognise": [r"众一秘书网"]},
    "lixin": {"extends": "zhongyi-cms", "recognise": [r"力信秘书网"]},
    "biganzi": {
        "extends": "default",
        "recognise": [r"笔杆子家园网"],
        "truncate_after": [r"^\d、本站所有内容均由合作方或网友上传"],
        "date_fallback": False,
    },
    "sanweiyuan": {
        "extends": "default",
        "recognise": [r"sanweiyuan\.com", r"三维园"],
        "date_fallback": False,
    },
}

LEARNED_SUFFIX = ".learned"
"""A profile named ``SITE.learned`` (written by ``learn-profile``) is the one SITE is cleaned with."""

_LIST_KEYS = (
    "boilerplate", "truncate_after", "date_patterns", "drop_xpath", "drop_css", "recognise",
    "gap_patterns", "tail_patterns", "cut_patterns", "title_strip",
)  # fmt: skip
_ALTERNATIVES = {
    "body_xpath": "body_css", "body_css": "body_xpath", "title_xpath": "title_css", "title_css": "title_xpath",
}  # fmt: skip
# Identity, not behaviour: a profile is recognised by its own patterns only.
_NOT_INHERITED = {"recognise"}


def _css(selector: str) -> str:
    from cssselect import GenericTranslator

    return str(GenericTranslator().css_to_xpath(selector))


def _xpath(expr: str, where: str) -> etree.XPath:
    try:
        return etree.XPath(expr)
    except etree.XPathSyntaxError as exc:
        raise ConfigError(f"{where}: {expr!r} is not a valid XPath expression ({exc})") from None


def _regexes(values: Sequence[str]) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(v) for v in values)


def _one(value: str | None) -> Needled | None:
    return Needled(re.compile(value)) if value else None


def _needled(values: Sequence[str]) -> tuple[Needled, ...]:
    """Patterns searched line by line, each skipping the lines that lack its fixed text (needle.py)."""
    return tuple(Needled(re.compile(v)) for v in values)


def _any_of(values: Sequence[str]) -> tuple[re.Pattern[str], ...] | None:
    """At most two regexes matching where any of ``values`` matches: two searches per line instead of one per rule.

    Patterns anchored at the start (``^…``) share one regex and those that can match anywhere another: a
    single alternation of both kinds makes the regex engine try every unanchored alternative at every
    position of the line *and* every anchored one there too (~7x slower on prose lines). None when there
    are none, or when they cannot share a regex (the same group name twice): the rules are then tried one
    by one.
    """
    if not values:
        return None
    anchored = [v for v in values if v.startswith("^")]
    anywhere = [v for v in values if not v.startswith("^")]
    try:
        return tuple(re.compile("|".join(f"(?:{v})" for v in group)) for group in (anchored, anywhere) if group)
    except re.error:
        return None


@dataclass(frozen=True)
class Profile:
    """A resolved profile: inherited lists concatenated, patterns compiled."""

    name: str
    boilerplate: tuple[re.Pattern[str], ...] = ()
    truncate_after: tuple[re.Pattern[str], ...] = ()
    boilerplate_any: tuple[re.Pattern[str], ...] | None = None
    """``boilerplate`` as one or two regexes (None: try them one by one)."""
    truncate_any: tuple[re.Pattern[str], ...] | None = None
    date_patterns: tuple[Needled, ...] = ()
    recognise: tuple[re.Pattern[str], ...] = ()
    gap_patterns: tuple[Needled, ...] = ()
    tail_patterns: tuple[Needled, ...] = ()
    cut_patterns: tuple[Needled, ...] = ()
    title_strip: tuple[Needled, ...] = ()
    drop: tuple[etree.XPath, ...] = ()
    body: etree.XPath | None = None
    body_hint: str | None = None
    """The body hint as written (XPath or ``css:`` selector), for messages."""
    title: etree.XPath | None = None
    breadcrumb_pattern: Needled | None = None
    source_pattern: Needled | None = None
    min_chars: int = 50
    date_fallback: bool = True
    chain: tuple[str, ...] = ()
    digest: str = ""
    """Fingerprint of the settings (not the name): part of the extractor version."""
    settings: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    verdicts: dict[str, int] = field(default_factory=dict, compare=False, repr=False)
    """What the boilerplate rules said about lines seen lately (rules.py): each stage asks about a line again."""

    @classmethod
    def build(cls, name: str, spec: Mapping[str, Any], chain: tuple[str, ...]) -> Profile:
        """Compile a merged spec of plain strings (as the config and built-ins write it)."""
        where = f"profiles.{name}"
        body_hint = spec.get("body_xpath") or (f"css:{spec['body_css']}" if spec.get("body_css") else None)
        body_expr = spec.get("body_xpath") or (_css(spec["body_css"]) if spec.get("body_css") else None)
        title_expr = spec.get("title_xpath") or (_css(spec["title_css"]) if spec.get("title_css") else None)
        drops = [*spec.get("drop_xpath", ()), *(_css(c) for c in spec.get("drop_css", ()))]
        behaviour = {k: v for k, v in spec.items() if k not in _NOT_INHERITED}
        digest = hashlib.sha256(json.dumps(behaviour, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
        return cls(
            name=name,
            boilerplate=_regexes(spec.get("boilerplate", ())),
            truncate_after=_regexes(spec.get("truncate_after", ())),
            boilerplate_any=_any_of(spec.get("boilerplate", ())),
            truncate_any=_any_of(spec.get("truncate_after", ())),
            date_patterns=_needled(spec.get("date_patterns", ())),
            recognise=_regexes(spec.get("recognise", ())),
            gap_patterns=_needled(spec.get("gap_patterns", ())),
            tail_patterns=_needled(spec.get("tail_patterns", ())),
            cut_patterns=_needled(spec.get("cut_patterns", ())),
            title_strip=_needled(spec.get("title_strip", ())),
            drop=tuple(_xpath(x, f"{where}.drop_xpath") for x in drops),
            body=_xpath(body_expr, f"{where}.body_xpath") if body_expr else None,
            body_hint=body_hint,
            title=_xpath(title_expr, f"{where}.title_xpath") if title_expr else None,
            breadcrumb_pattern=_one(spec.get("breadcrumb_pattern")),
            source_pattern=_one(spec.get("source_pattern")),
            min_chars=int(spec.get("min_chars") or 0) if spec.get("min_chars") is not None else 50,
            date_fallback=bool(spec.get("date_fallback", True)),
            chain=chain,
            digest=digest[:8],
            settings=dict(spec),
        )


class ProfileBook:
    """Every known profile (built-ins overlaid with the config's) by name."""

    def __init__(self, configured: Mapping[str, ProfileConfig] | None = None) -> None:
        self._raw: dict[str, dict[str, Any]] = {k: dict(v) for k, v in _BUILTIN.items()}
        for name, prof in (configured or {}).items():
            data = prof.model_dump(exclude_none=True, exclude_defaults=True)
            if name in self._raw and "extends" not in data:
                base = self._raw[name]
                for key, value in data.items():
                    base[key] = [*base.get(key, []), *value] if key in _LIST_KEYS else value
            else:
                self._raw[name] = {"extends": "default", **data} if name != "default" else data
        self._cache: dict[str, Profile] = {}

    def names(self) -> list[str]:
        return sorted(self._raw)

    def __contains__(self, name: str) -> bool:
        return name in self._raw

    def get(self, name: str) -> Profile:
        if name not in self._cache:
            spec, chain = self._merged(name, ())
            self._cache[name] = Profile.build(name, spec, chain)
        return self._cache[name]

    def _merged(self, name: str, seen: tuple[str, ...]) -> tuple[dict[str, Any], tuple[str, ...]]:
        """The profile's settings with its parents' merged in (lists appended, scalars overridden)."""
        if name not in self._raw:
            raise ConfigError(f"profile {name!r} is not defined; known profiles: {', '.join(self.names())}")
        if name in seen:
            raise ConfigError(f"profiles.{name}.extends makes a cycle: {' -> '.join((*seen, name))}")
        raw = self._raw[name]
        merged: dict[str, Any] = {}
        chain: tuple[str, ...] = ()
        if raw.get("extends"):
            parent, chain = self._merged(raw["extends"], (*seen, name))
            merged = {k: v for k, v in parent.items() if k not in _NOT_INHERITED}
        for key, value in raw.items():
            if key == "extends":
                continue
            if key in _ALTERNATIVES:  # a child's CSS hint replaces its parent's XPath hint, and back
                merged.pop(_ALTERNATIVES[key], None)
            merged[key] = [*merged.get(key, []), *value] if key in _LIST_KEYS else value
        if merged.get("body_xpath") == "" or merged.get("body_css") == "":  # "" switches an inherited hint off
            merged.pop("body_xpath", None)
            merged.pop("body_css", None)
        return merged, (*chain, name)

    def for_site(self, site_name: str | None, profile_name: str | None, *, learned: bool = True) -> Profile:
        """The profile a site uses: its learned one, else its configured one, else one named like it, else default.

        ``learned=False`` skips the learned profile (what ``learn-profile`` learns on top of).
        """
        if learned and site_name and f"{site_name}{LEARNED_SUFFIX}" in self._raw:
            return self.get(f"{site_name}{LEARNED_SUFFIX}")
        if profile_name:
            return self.get(profile_name)
        if site_name and site_name in self._raw:
            return self.get(site_name)
        return self.get("default")

    def recognise(self, html: str) -> Profile:
        """Pick a profile from the places a page names its own site (canonical link, title, footer)."""
        identity = page_identity(html).text
        best, score = "default", 0
        for name in self.names():
            profile = self.get(name)
            hits = sum(1 for pat in profile.recognise if pat.search(identity))
            if hits > score or (hits == score and hits and len(profile.chain) > len(self.get(best).chain)):
                best, score = name, hits
        return self.get(best)


def check_profiles(config: Config) -> ProfileBook:
    """Resolve every configured profile and every site's profile now, when the configuration loads.

    A profile that names no profile (or an ``extends`` cycle, or a bad hint) is
    a configuration error with the key that says it, not a failure inside a crawl.
    """
    book = ProfileBook(config.profiles)
    for name in config.profiles:
        try:
            book.get(name)
        except ConfigError as exc:
            raise ConfigError(f"{config.source}: profiles.{name}: {exc}") from None
    for index, site in enumerate(config.sites):
        if site.profile is not None and site.profile not in book:
            raise ConfigError(
                f"{config.source}: sites[{index}] ({site.name}).profile: {site.profile!r} is not a profile; "
                f"use one of {', '.join(book.names())} or define [profiles.{site.profile}]"
            )
    return book


@dataclass(frozen=True)
class PageIdentity:
    """Where a page names its own site: its canonical/og URLs, its <title> and its footer text."""

    urls: tuple[str, ...]
    title: str
    footer: str

    @property
    def text(self) -> str:
        return "\n".join((*self.urls, self.title, self.footer))


def page_identity(html: str, footer_chars: int = 1500) -> PageIdentity:
    """Read the identity places of a page (a cheap parse; used when no site is named)."""
    import lxml.html

    try:
        root = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return PageIdentity((), "", "")
    urls = root.xpath("//link[@rel='canonical']/@href | //meta[@property='og:url']/@content | //base/@href")
    title = " ".join((root.findtext(".//title") or "").split())
    for el in root.xpath("//script | //style | //noscript"):
        el.drop_tree()
    body = root.find("body")
    text = " ".join("".join(body.itertext()).split()) if body is not None else ""
    return PageIdentity(tuple(str(u) for u in urls), title, text[-footer_chars:])
