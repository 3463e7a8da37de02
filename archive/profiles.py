"""Cleaning profiles: per-site (or per-CMS-family) knowledge, as data.

A built-in ``default`` profile knows the boilerplate common to this family of
sites; named built-ins add what one site or CMS template shows. A config file
can override or add profiles (``[profiles.NAME]``, optionally ``extends``), so
a new site needs a config entry, never code. Patterns are compiled once here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from archive.config import ProfileConfig
from archive.errors import ConfigError

# Lines that are never content on these sites, whichever site they come from.
_DEFAULT_BOILERPLATE = [
    r"下面是小编为大家整理的.{0,120}供大家参考",
    r"^(您的|当前)位置[::]",
    r"^(发布|发表|更新)?(时间|日期)[::]\s*\d{4}",
    r"^来源[::]",
    r"^(浏览|阅读|点击)(次数|量)?[::]?\s*\d+\s*次?$",
    r"^阅读[::]?\s*\d+\s*次$",
    r"\.docx?_第\d+页$",
    r"VIP专享|VIP免费",
    r"^(电脑桌面|碎片内容|确认删除[??]?|回到顶部|QQ|QQ点击这里给我发消息|加入收藏|设为首页)$",
    r"^添加.{0,30}到电脑桌面$",
    r"^安装后可以在桌面快捷访问$",
    r"由互联网用户分享整理。?\s*文章地址[::]",
    r"^收藏《.*》$",
    r"^【广告】",
    r"^(上一篇|下一篇)[::]",
    r"^(相关|热门|推荐|最新)(文章|范文|阅读)[::]?$",
    r"^标签[::]",
    r"^Powered by",
    r"(ICP备|ICP证)\d*号",
    r"^版权所有[::]",
    r"^(Copyright|©)",
]

# Lines after which nothing is content: footers, download disclaimers, tag clouds.
_DEFAULT_TRUNCATE = [
    r"^推荐访问[::]",
    r"^版权所有[::]",
    r"^Powered by",
    r"^1、当您付费下载文档后",
    r"^(相关|热门|推荐)(文章|范文)[::]?$",
    r"^温馨提示[::]",
]

_DEFAULT_DATES = [
    r"(?:发布|发表|更新)?时间[::]\s*(\d{4}[-/年]\d{1,2}[-/月]\d{1,2}日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?)",
    r"(?:发布|发表)?日期[::]\s*(\d{4}[-/年]\d{1,2}[-/月]\d{1,2}日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?)",
]

_DEFAULT_DROP_XPATH = [
    '//*[contains(translate(@style, " ", ""), "display:none")]',
    '//*[contains(translate(@style, " ", ""), "visibility:hidden")]',
    '//*[contains(concat(" ", normalize-space(@class), " "), " jammer ")]',
    "//*[@hidden]",
    "//script | //style | //noscript | //template | //iframe",
]

_BUILTIN: dict[str, dict[str, Any]] = {
    "default": {
        "boilerplate": _DEFAULT_BOILERPLATE,
        "truncate_after": _DEFAULT_TRUNCATE,
        "date_patterns": _DEFAULT_DATES,
        "drop_xpath": _DEFAULT_DROP_XPATH,
        "breadcrumb_pattern": r"^(?:您的|当前)位置[::]\s*(.+)$",
        "source_pattern": r"来源[::]\s*(\S+)",
        "min_chars": 50,
    },
    "wm114": {
        "extends": "default",
        "recognise": [r"wm114\.cn", r"新文秘网"],
        "boilerplate": [r"正式会员可完整阅读", r"^成为正式会员", r"请阅读下面提示信息"],
    },
    # 众一秘书网 and 力信秘书网 run the same CMS template.
    "zhongyi-cms": {"extends": "default"},
    "zhongyi": {"extends": "zhongyi-cms", "recognise": [r"众一秘书网"]},
    "lixin": {"extends": "zhongyi-cms", "recognise": [r"力信秘书网"]},
    "biganzi": {
        "extends": "default",
        "recognise": [r"笔杆子家园网"],
        "truncate_after": [r"^\d、本站所有内容均由合作方或网友上传"],
    },
    "sanweiyuan": {
        "extends": "default",
        "recognise": [r"sanweiyuan\.com", r"三维园"],
    },
}

_LIST_KEYS = ("boilerplate", "truncate_after", "date_patterns", "drop_xpath", "recognise")
# Identity, not behaviour: a profile is recognised by its own patterns only.
_NOT_INHERITED = {"recognise"}


@dataclass(frozen=True)
class Profile:
    """A resolved profile: inherited lists concatenated, regexes compiled."""

    name: str
    boilerplate: tuple[re.Pattern[str], ...] = ()
    truncate_after: tuple[re.Pattern[str], ...] = ()
    date_patterns: tuple[re.Pattern[str], ...] = ()
    drop_xpath: tuple[str, ...] = ()
    recognise: tuple[re.Pattern[str], ...] = ()
    body_xpath: str | None = None
    title_xpath: str | None = None
    breadcrumb_pattern: re.Pattern[str] | None = None
    source_pattern: re.Pattern[str] | None = None
    min_chars: int = 50
    chain: tuple[str, ...] = field(default=())


class ProfileBook:
    """Every known profile (built-ins overlaid with the config's) by name."""

    def __init__(self, configured: Mapping[str, ProfileConfig] | None = None) -> None:
        self._raw: dict[str, dict[str, Any]] = {k: dict(v) for k, v in _BUILTIN.items()}
        for name, prof in (configured or {}).items():
            data = prof.model_dump(exclude_defaults=True)
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
            self._cache[name] = self._resolve(name, ())
        return self._cache[name]

    def _resolve(self, name: str, seen: tuple[str, ...]) -> Profile:
        if name not in self._raw:
            raise ConfigError(f"profile {name!r} is not defined; known profiles: {', '.join(self.names())}")
        if name in seen:
            raise ConfigError(f"profiles.{name}.extends makes a cycle: {' -> '.join((*seen, name))}")
        raw = self._raw[name]
        merged: dict[str, Any] = {}
        chain: tuple[str, ...] = ()
        if raw.get("extends"):
            parent = self._resolve(raw["extends"], (*seen, name))
            chain = parent.chain
            merged = {
                k: getattr(parent, k)
                for k in Profile.__dataclass_fields__
                if k not in {"name", "chain", *_NOT_INHERITED}
            }
        for key, value in raw.items():
            if key == "extends":
                continue
            if key in _LIST_KEYS:
                new = tuple(re.compile(v) if key != "drop_xpath" else v for v in value)
                merged[key] = (*merged.get(key, ()), *new)
            elif key in {"breadcrumb_pattern", "source_pattern"}:
                merged[key] = re.compile(value) if value else None
            else:
                merged[key] = value
        return Profile(name=name, chain=(*chain, name), **merged)

    def for_site(self, site_name: str | None, profile_name: str | None) -> Profile:
        """The profile a site uses: its configured one, else one named like it, else default."""
        if profile_name:
            return self.get(profile_name)
        if site_name and site_name in self._raw:
            return self.get(site_name)
        return self.get("default")

    def recognise(self, html: str) -> Profile:
        """Pick a profile from a page's own text (canonical link, title, footer)."""
        best, score = "default", 0
        for name in self.names():
            hits = sum(1 for pat in self.get(name).recognise if pat.search(html))
            if hits > score:
                best, score = name, hits
        return self.get(best)
