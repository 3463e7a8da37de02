"""Cleaning stage by stage: decoding, hidden noise, paywall markers, metadata rules, the quality gate."""

from __future__ import annotations

import datetime as dt

import pytest

from archive.cleaning import GAP_MARKER, clean, extract_html
from archive.cleaning.decode import decode_html
from archive.cleaning.metadata import SHANGHAI, count_masks, find_category, find_published, fold, parse_title
from archive.cleaning.profiles import ProfileBook

BOOK = ProfileBook()
DEFAULT = BOOK.get("default")
PARA = "要坚持以新时代中国特色社会主义思想为指导，统筹推进各项工作，以实干实绩检验工作成效，确保全年目标任务圆满完成。"


def page(body: str, title: str = "县委书记在全县经济工作会议上的讲话", head: str = "") -> str:
    return (
        f"<html><head><meta charset='utf-8'><title>{title}_某某网</title>{head}</head><body>"
        f"<div class='nav'><a href='/'>首页</a><a href='/a/'>讲话稿</a></div><h1>{title}</h1>"
        f"<div class='art'>{body}</div><div class='foot'>版权所有：某某网 京ICP备12345678号</div></body></html>"
    )


# --- decoding ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "meta", "codec"),
    [
        (None, "gb2312", "gbk"),  # GBK-only 翀 on a page that says gb2312
        ("text/html; charset=utf-8", "gb2312", "gbk"),  # the server's header lies
        ("text/html; charset=iso-8859-1", None, "gbk"),  # a Western default on a Chinese page
        (None, "gbk", "utf-8"),  # a template copied from a GBK site, saved as UTF-8
        ("text/html; charset=gbk", "gbk", "gb18030"),  # a character outside GBK (4-byte GB18030)
        (None, None, "utf-8-sig"),  # a BOM, no declaration
    ],
)
def test_bytes_decode_right_whatever_the_page_declares(content_type: str | None, meta: str | None, codec: str) -> None:
    text = "同志们：张翀、李堃同志作了发言。𠀀" if codec == "gb18030" else "同志们：张翀、李堃同志作了发言。"
    head = f'<meta http-equiv="Content-Type" content="text/html; charset={meta}">' if meta else ""
    body = f"<html><head>{head}</head><body><p>{text}</p></body></html>".encode(codec)
    decoded, _encoding = decode_html(body, content_type)
    assert text in decoded and "\ufffd" not in decoded


def test_bytes_that_fit_no_charset_fail_extraction_with_a_reason() -> None:
    good = page(f"<p>{PARA * 3}</p>").encode("gbk")
    broken = good[:200] + b"\x81\x20\xfe\x7f\xff\xff\x80\x80" * 300 + good[200:]
    ext = clean(broken, DEFAULT, content_type="text/html; charset=gbk")
    assert ext.outcome == "extraction_failed" and "do not decode" in (ext.reason or "")


# --- hidden noise and boilerplate ----------------------------------------------------------------


def test_invisible_anti_copy_noise_is_dropped() -> None:
    noisy = (
        f"<p>同志们：</p><p>{PARA[:20]}<span style='display: none'>某某网版权所有</span>{PARA[20:]}</p>"
        f"<p>{PARA}<font class='jammer'>a1b2c3</font></p><p><span style='font-size:0px'>隐藏</span>{PARA}</p>"
        f"<p hidden>藏起来的段落，不是正文内容，读者看不见它。</p>"
    )
    ext = extract_html(page(noisy), DEFAULT)
    assert ext.outcome == "ok"
    assert ext.text == "\n".join(["同志们：", PARA, PARA, PARA])


def test_common_boilerplate_lines_go_and_full_width_punctuation_matches_ascii_patterns() -> None:
    body = (
        f"<p>当前位置：首页 ＞ 范文大全 ＞ 讲话稿</p><p>发布时间：2023年5月8日 10:10</p><p>来源：网友投稿</p>"
        f"<p>下面是小编为大家整理的县委书记讲话，供大家参考。</p><p>{PARA}</p><p>{PARA}</p>"
        f"<p>责任编辑：王某</p><p>推荐访问：讲话 范文</p><p>这一行在页脚之后，不算正文内容。</p>"
    )
    ext = extract_html(page(body), DEFAULT, site_title="某某网")
    assert ext.text == f"{PARA}\n{PARA}"
    assert ext.published_at == dt.datetime(2023, 5, 8, 10, 10, tzinfo=SHANGHAI)
    assert ext.category == ["范文大全", "讲话稿"]
    assert ext.source == "网友投稿"


# --- paywall markers -----------------------------------------------------------------------------


def test_a_gap_and_a_cut_off_tail_become_our_marker_with_their_numbers() -> None:
    body = (
        f"<p>同志们：</p><p>{PARA}用攻坚克</p><p>……（某某网http://www.x.cn省略778字，正式会员可完整阅读）…… </p>"
        f"<p>利的能量转化为信心。{PARA}</p>"
        f"<p>{PARA}纵深 ……（未完，全文共4149字，当前仅显示2186字，请阅读下面提示信息。</p>"
        "<p>收藏《县委书记在全县经济工作会议上的讲话》</p>"
    )
    ext = extract_html(page(body), DEFAULT)
    assert ext.partial and [g.omitted_chars for g in ext.gaps] == [778]
    assert (ext.declared_chars, ext.shown_chars) == (4149, 2186)
    assert ext.text.count(GAP_MARKER) == 2 and ext.text.endswith(f"纵深{GAP_MARKER}")
    gap = ext.gaps[0]
    assert ext.text[gap.offset : gap.offset + len(GAP_MARKER)] == GAP_MARKER
    assert ext.text.split("\n")[2] == GAP_MARKER
    assert "省略" not in ext.text and "收藏" not in ext.text


def test_a_preview_cut_with_dots_is_partial_without_gaps() -> None:
    ext = extract_html(page(f"<p>{PARA}{PARA}坚持对传统产业高位嫁接。持...</p>"), DEFAULT)
    assert ext.partial and ext.gaps == [] and ext.declared_chars is None
    assert ext.text.endswith(f"持{GAP_MARKER}")


# --- metadata ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "speaker", "occasion", "genre"),
    [
        ("区委书记在区委全会暨区委经济工作会议上讲话", "区委书记", "区委全会暨区委经济工作会议", "讲话"),
        ("区委书记在区“两会”人大会议闭幕时的讲话", "区委书记", "区“两会”人大会议闭幕", "讲话"),
        ("区委书记到现代科技产业园区调研时的讲话", "区委书记", "现代科技产业园区调研", "讲话"),
        ("2023年在高新区高质量发展大会上讲话", None, "高新区高质量发展大会", "讲话"),
        ("县委常委、组织部长在全县组织工作会议上的发言稿（2篇）", "县委常委、组织部长", "全县组织工作会议", "发言"),
        ("市长在全市招商引资大会上的致辞", "市长", "全市招商引资大会", "致辞"),
        ("在全区安全生产工作会议上的主持词", None, "全区安全生产工作会议", "主持词"),
        ("关于加强作风建设的专题党课讲稿", None, None, "党课"),
        ("2024年工作总结", None, None, None),
    ],
)
def test_title_parts(title: str, speaker: str | None, occasion: str | None, genre: str | None) -> None:
    parts = parse_title(title)
    assert (parts.speaker, parts.occasion, parts.genre) == (speaker, occasion, genre)


def test_masked_names_are_counted_in_every_style() -> None:
    text = "以_同志为核心，**区委，品质*，XX常委，×××同志，□□书记，某某镇，http://example.com/xbox"
    assert count_masks(text) == 7


def test_dates_and_breadcrumbs_read_full_width_forms() -> None:
    assert fold("发布时间：２０２３年") == "发布时间:2023年"
    lines = ["您的位置：新文秘网＞＞党委讲话＞＞正文", "发表时间：2025/3/9 12:57:44"]
    assert find_published(lines, DEFAULT) == dt.datetime(2025, 3, 9, 12, 57, 44, tzinfo=SHANGHAI)
    assert find_category(lines, DEFAULT, "新文秘网") == ["党委讲话"]


# --- quality gate --------------------------------------------------------------------------------


def test_a_page_without_enough_text_fails_with_the_reason() -> None:
    ext = extract_html(page("<p>同志们：</p><p>谢谢大家。</p>"), DEFAULT)
    assert ext.outcome == "extraction_failed"
    assert "below the minimum of 50" in (ext.reason or "")
    empty = clean(b"   ", DEFAULT)
    assert empty.outcome == "extraction_failed" and empty.reason == "empty response body"
