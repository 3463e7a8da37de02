"""The character diff and the text view: what a reader sees as changed, hidden, or withheld."""

from __future__ import annotations

import random

from archive.browse.diff import diff_versions
from archive.browse.textview import paragraphs, tail_chars
from archive.cleaning import GAP_MARKER


def changed_text(diff_rows: list[dict], side: str) -> str:
    rows = [r for row in diff_rows for r in ([row] if "skip" not in row else row["rows"])]
    return "".join(s["text"] for r in rows for s in r[side] if s["op"] in ("del", "ins"))


def test_an_edited_phrase_is_one_change_and_masking_is_told_apart() -> None:
    a = "同志们：\n今天我们召开会议，以**同志为核心。\n第二段没有变化。\n第三段内容是旧的说法。\n  空格  段。"
    b = "同志们：\n今天我们召开会议，以张三同志为核心。\n第二段没有变化。\n第三段内容是全新的提法和要求。\n空格 段。"
    shown = diff_versions(a, b)
    assert shown.counts == {"edit": 1, "mask": 1, "space": 1}
    assert "**" in changed_text(shown.rows, "left") and "旧的说法" in changed_text(shown.rows, "left")
    assert "全新的提法和要求" in changed_text(shown.rows, "right")
    quiet = diff_versions(a, b, hide={"mask", "space"})
    assert quiet.hidden == 2
    right = changed_text(quiet.rows, "right")  # only the edit is highlighted; the name and the spaces are not
    assert "全新的提法和要求" in right and "张三" not in right and "空格" not in right
    assert "**" not in changed_text(quiet.rows, "left")


def test_mask_styles_and_names_are_masking_but_other_words_are_not() -> None:
    base = "坚决拥护以{}同志为核心的党中央，坚决落实各项部署。"
    for old, new in (("**", "XX"), ("××", "**"), ("*", "×××"), ("**", "某某"), ("XX", "王小明")):
        result = diff_versions(base.format(old), base.format(new))
        assert result.counts["mask"] == 1 and result.counts["edit"] == 0, (old, new, result.counts)
    assert diff_versions(base.format("张三"), base.format("李四")).counts["edit"] == 1  # two names: a real edit
    assert diff_versions("落实部署。", "落实**部署，抓好落实。").counts["edit"] >= 1


def test_unchanged_paragraphs_fold_and_a_long_speech_diffs_whole() -> None:
    rng = random.Random(5)
    paras = ["".join(chr(rng.randint(0x4E00, 0x7FFF)) for _ in range(300)) + "。" for _ in range(100)]
    a = "\n".join(paras)
    assert len(a) > 30_000
    edited = list(paras)
    edited[40] = edited[40][:100] + "新增的一句话，" + edited[40][100:]
    edited[77] = "整段改写。"
    result = diff_versions(a, "\n".join(edited))
    assert result.counts["edit"] == 2
    skips = [row["skip"] for row in result.rows if "skip" in row]
    assert sum(skips) + sum(1 for row in result.rows if "skip" not in row) == 100
    assert changed_text(result.rows, "right").startswith("新增的一句话，")


def test_gap_markers_become_gaps_with_their_lengths() -> None:
    text = f"第一段。\n前半{GAP_MARKER}后半。\n最后一段{GAP_MARKER}"
    version = {
        "gaps": [{"offset": text.index(GAP_MARKER), "omitted_chars": 778}],
        "declared_chars": 4149,
        "shown_chars": 2186,
    }
    paras = paragraphs(text, version)
    assert paras[0] == [{"text": "第一段。"}]
    assert paras[1] == [{"text": "前半"}, {"gap": "inside", "omitted": 778}, {"text": "后半。"}]
    assert paras[2] == [{"text": "最后一段"}, {"gap": "tail", "omitted": 4149 - 2186 - 778}]
    assert tail_chars({"gaps": [], "declared_chars": None, "shown_chars": 10}) is None
