"""Property: whatever bytes arrive, ``clean`` returns a value and never raises (hypothesis).

Two generators: raw byte strings, and hostile HTML documents built from every
kind of node lxml knows (elements of every family, comments, processing
instructions, CDATA, entities known and unknown, doctypes in the body, frames),
unclosed and stray tags, invisible-element styles, control characters, and
encodings that may disagree with the page's own declaration. Each run makes
SPEECH_ARCHIVE_FUZZ_EXAMPLES cases per property (default 1,000, so `make test`
runs 2,000); set it higher to search longer locally.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive.cleaning import GAP_MARKER, Extraction, clean, content_hash
from archive.cleaning.profiles import ProfileBook
from archive.config import ProfileConfig

EXAMPLES = int(os.environ.get("SPEECH_ARCHIVE_FUZZ_EXAMPLES") or 1000)
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
DEFAULT = ProfileBook().get("default")
HINTED = ProfileBook({"hinted": ProfileConfig(body_xpath="//div[@id='main'] | //td[@class='content']")}).get("hinted")

TAGS = (
    "div", "p", "span", "a", "br", "table", "tr", "td", "th", "tbody", "font", "b", "center", "ul", "ol", "li", "h1",
    "h2", "section", "article", "aside", "nav", "header", "footer", "form", "input", "select", "option", "textarea",
    "button", "script", "style", "noscript", "template", "iframe", "frameset", "frame", "noframes", "svg", "math",
    "object", "pre", "blockquote", "dl", "dt", "dd", "marquee", "html", "head", "body", "title", "meta", "img", "hr",
)  # fmt: skip
ATTRS = (
    "", ' class="content"', ' id="main"', ' style="display:none"', ' style="font-size:0px"', " hidden",
    ' class="jammer"', ' href="/a.html"', ' style="visibility: hidden"', ' charset="gbk"',
)  # fmt: skip
PROSE = (
    "同志们：这次会议的主要任务是总结工作，部署任务。", "下面是小编为大家整理的讲话稿，供大家参考。",
    "……(新文秘网省略778字,正式会员可完整阅读)……", "……(未完,全文共4149字,当前仅显示2186字,请阅读下面提示信息。",
    "发布时间:2023-03-01 19:55:07", "当前位置:首页>范文>讲话", "上一篇:关于工作的报告", "作者:张三 浏览次数:123",
    "The quick brown fox, it said; jumps!", "持...", "XX同志", "**书记", GAP_MARKER, "目录/提纲:", "……",
)  # fmt: skip
NODES = (
    "<!-- comment -->", "<!--", "-->", "<?php echo 1; ?>", "<?xml version='1.0'?>", "<![CDATA[ x < y ]]>",
    "<!DOCTYPE html>", "&nbsp;", "&amp;", "&bogus;", "&#0;", "&#xD800;", "&#99999999;", "&#x110000;", "<", ">",
    "</div>", "</td></tr></table>", "<p", '"', "\x00", "\x0b", "\x1f", "\ufeff", "\u200b", "\r\n",
)  # fmt: skip
ENCODINGS = ("utf-8", "gbk", "gb18030", "big5", "latin-1", "utf-16", "shift_jis", "cp1252")

text = st.one_of(st.sampled_from(PROSE), st.sampled_from(NODES), st.text(max_size=40))


def _element(children: list[str], tag: str, attrs: str, close: bool) -> str:
    return f"<{tag}{attrs}>" + "".join(children) + (f"</{tag}>" if close else "")


markup = st.recursive(
    text,
    lambda inner: st.builds(
        _element, st.lists(inner, max_size=6), st.sampled_from(TAGS), st.sampled_from(ATTRS), st.booleans()
    ),
    max_leaves=60,
)


@st.composite
def documents(draw: st.DrawFn) -> tuple[bytes, str | None]:
    """A hostile document, encoded in some charset, with a declaration that may lie."""
    body = "".join(draw(st.lists(markup, min_size=0, max_size=5)))
    declared = draw(st.sampled_from((None, *ENCODINGS, "x-bogus")))
    head = f'<meta charset="{declared}">' if declared and draw(st.booleans()) else ""
    wrap = draw(st.sampled_from(("{}", "<html><head>{h}</head><body>{}</body></html>", "{h}{}")))
    page = wrap.replace("{h}", head).format(body)
    encoding = draw(st.sampled_from(ENCODINGS))
    errors = ("replace", "ignore", "xmlcharrefreplace") + (("surrogatepass",) if encoding.startswith("utf") else ())
    raw = page.encode(encoding, errors=draw(st.sampled_from(errors)))
    content_type = f"text/html; charset={draw(st.sampled_from(ENCODINGS))}" if draw(st.booleans()) else None
    return raw, content_type


def check(ext: Extraction) -> None:
    """What every result must be: a value with an outcome, a reason when it failed, a hashable text when not."""
    assert isinstance(ext, Extraction)
    assert not ext.cleaner_error, ext.reason
    assert ext.outcome in ("ok", "extraction_failed", "blocked", "not_html")
    if ext.ok:
        assert ext.text and ext.char_count == len(ext.text)
        assert len(content_hash(ext.text)) == 64
        for gap in ext.gaps:
            assert ext.text[gap.offset : gap.offset + len(GAP_MARKER)] == GAP_MARKER
    else:
        assert ext.reason


@FUZZ
@given(documents(), st.booleans())
def test_hostile_documents_never_raise(document: tuple[bytes, str | None], hinted: bool) -> None:
    body, content_type = document
    check(clean(body, HINTED if hinted else DEFAULT, content_type=content_type, url="fuzz://document"))


@FUZZ
@given(st.binary(max_size=4096), st.one_of(st.none(), st.sampled_from(ENCODINGS)))
def test_any_bytes_never_raise(body: bytes, charset: str | None) -> None:
    check(clean(body, DEFAULT, content_type=f"text/html; charset={charset}" if charset else None))
