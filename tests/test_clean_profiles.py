"""Profiles are data: a new site needs a config entry, never code; bad entries are one-line errors."""

from __future__ import annotations

from typing import Any

import pytest

from archive.cleaning import EXTRACTOR_VERSION, GAP_MARKER, clean, extract_html, extractor_version
from archive.cleaning.profiles import ProfileBook
from archive.config import parse_config
from archive.errors import ConfigError
from replica.catalogue import Catalogue
from replica.sites import SITE_NAMES, SITES

PARA = "要坚持以新时代中国特色社会主义思想为指导，统筹推进各项工作，以实干实绩检验工作成效，确保全年目标任务圆满完成。"
NEW_SITE = {
    "body_css": "div.post-body",
    "title_css": "div.headline > b",
    "drop_css": ["span.watermark"],
    "title_strip": [r"^【精品范文】"],
    "boilerplate": [r"^本文由.{0,20}整理发布$"],
    "date_patterns": [r"刊发于(\d{4}年\d{1,2}月\d{1,2}日)"],
    "breadcrumb_pattern": r"^导航:(.+)$",
    "source_pattern": r"出处:(\S+)",
    "gap_patterns": [r"【此处隐藏(?P<omitted>\d+)字】"],
    "tail_patterns": [r"【剩余内容共(?P<declared>\d+)字,已显示(?P<shown>\d+)字】.*$"],
    "recognise": [r"新站范文网"],
}
NEW_PAGE = f"""<html><head><meta charset="utf-8"><title>新站范文网</title></head><body>
<div class="bar">导航：首页 &gt; 领导讲话 &gt; 正文</div>
<div class="headline"><b>【精品范文】镇长在全镇春耕生产动员会上的讲话</b></div>
<div class="info">刊发于2022年3月15日 出处：镇政府办</div>
<div class="post-body"><p>同志们：</p><p>{PARA}<span class="watermark">新站范文网</span></p>
<p>【此处隐藏1200字】</p><p>{PARA}</p><p>{PARA}【剩余内容共3000字，已显示500字】登录后阅读全文</p></div>
<div class="side"><p>本文由新站范文网整理发布</p></div></body></html>"""


def book_with(profiles: dict[str, Any]) -> ProfileBook:
    return ProfileBook(parse_config({"profiles": profiles}, source="cfg.toml").profiles)


def test_a_new_site_is_one_config_entry() -> None:
    profile = book_with({"newsite": NEW_SITE}).get("newsite")
    assert profile.chain == ("default", "newsite")
    ext = extract_html(NEW_PAGE, profile)
    assert ext.outcome == "ok" and ext.method == "hint"
    assert ext.title == "镇长在全镇春耕生产动员会上的讲话"
    assert (ext.speaker, ext.occasion, ext.genre) == ("镇长", "全镇春耕生产动员会", "讲话")
    assert ext.published_at is not None and ext.published_at.date().isoformat() == "2022-03-15"
    assert ext.category == ["领导讲话"] and ext.source == "镇政府办"
    assert ext.text == "\n".join(["同志们：", PARA, GAP_MARKER, PARA, PARA + GAP_MARKER])
    assert [g.omitted_chars for g in ext.gaps] == [1200]
    assert (ext.partial, ext.declared_chars, ext.shown_chars) == (True, 3000, 500)
    assert book_with({"newsite": NEW_SITE}).recognise(NEW_PAGE).name == "newsite"


def test_a_config_profile_named_like_a_built_in_extends_it() -> None:
    book = book_with({"wm114": {"boilerplate": [r"^同志们:$"]}, "mycms": {"extends": "zhongyi-cms"}})
    wm114 = book.get("wm114")
    patterns = {p.pattern for p in wm114.boilerplate}
    assert "正式会员可完整阅读" in patterns and "^同志们:$" in patterns
    assert book.get("mycms").body_hint == book.get("zhongyi").body_hint
    assert book.get("mycms").chain == ("default", "zhongyi-cms", "mycms")


def test_an_empty_body_hint_switches_an_inherited_hint_off() -> None:
    book = book_with({"lixin": {"body_xpath": ""}})
    template = SITES["lixin"]
    catalogue = Catalogue(template, 1, 3, SITE_NAMES.index("lixin"))
    aid = catalogue.ids()[0]
    html = template.relayout(template.render_article(catalogue.article_view(aid, "http://x", 10)), "v2")
    ext = clean(html.encode(), book.get("lixin"), site_title="力信秘书网")
    assert ext.outcome == "ok" and ext.method == "prose-block"
    assert ext.text.replace(GAP_MARKER, "") == catalogue.expected(aid, "http://x").text


def test_the_extractor_version_names_the_profile_settings() -> None:
    plain = ProfileBook()
    assert plain.get("zhongyi").digest == plain.get("lixin").digest, "one template, one behaviour"
    assert extractor_version(plain.get("wm114")).startswith(EXTRACTOR_VERSION + "+p")
    assert len(extractor_version(plain.get("wm114"))) <= 40, "fits versions.extractor_version"
    changed = book_with({"wm114": {"boilerplate": ["^x$"]}})
    assert extractor_version(changed.get("wm114")) != extractor_version(plain.get("wm114"))
    assert extractor_version(changed.get("sanweiyuan")) == extractor_version(plain.get("sanweiyuan"))


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"body_xpath": "//div["}, r"profiles\.x\.body_xpath: '//div\[' is not a valid XPath expression"),
        ({"drop_css": ["div["]}, r"profiles\.x\.drop_css: 'div\[' is not a valid CSS selector"),
        ({"gap_patterns": ["(省略"]}, r"profiles\.x\.gap_patterns\[0\]: '\(省略' is not a valid regular expression"),
        ({"min_chars": -1}, r"profiles\.x\.min_chars: Input should be greater than or equal to 0"),
        ({"body_hint": "x"}, r"profiles\.x\.body_hint: unknown key"),
    ],
)
def test_bad_profile_entries_name_the_key(entry: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config({"profiles": {"x": entry}}, source="cfg.toml")


def test_unknown_parents_and_cycles_are_config_errors() -> None:
    with pytest.raises(ConfigError, match=r"profile 'nope' is not defined; known profiles: .*default"):
        book_with({"x": {"extends": "nope"}}).get("x")
    with pytest.raises(ConfigError, match=r"profiles\.a\.extends makes a cycle: a -> b -> a"):
        book_with({"a": {"extends": "b"}, "b": {"extends": "a"}}).get("a")


def test_min_chars_is_configurable() -> None:
    ext = extract_html(NEW_PAGE, book_with({"newsite": {**NEW_SITE, "min_chars": 5000}}).get("newsite"))
    assert ext.outcome == "extraction_failed" and "below the minimum of 5000" in (ext.reason or "")


@pytest.mark.parametrize("site", SITE_NAMES)
def test_each_replica_site_is_recognised_from_its_own_page(site: str) -> None:
    template = SITES[site]
    catalogue = Catalogue(template, 1, 5, SITE_NAMES.index(site))
    html = template.render_article(catalogue.article_view(catalogue.ids()[0], "http://127.0.0.1:1", 20))
    assert ProfileBook().recognise(html).name == site
    assert ProfileBook().recognise("<html><title>无名小站</title><body><p>正文</p></body></html>").name == "default"
