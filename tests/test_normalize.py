import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from archive.cleaning.normalize import content_hash, nfkc, normalise_text


def test_nfkc_zero_width_and_whitespace_do_not_change_the_hash() -> None:
    a = "同志们:\n今天我们召开会议,意义重大。"
    b = "同志们:\n\n  今天我们\u200b召开会议,意义重大。  \n\n"
    assert content_hash(a) == content_hash(b)


def test_reflowed_spaces_inside_a_line_are_folded() -> None:
    assert normalise_text("一是  抓\t落实") == "一是 抓 落实"


def test_a_one_character_edit_changes_the_hash() -> None:
    assert content_hash("坚持稳中求进") != content_hash("坚持稳中求新")


def test_paragraph_breaks_are_structure() -> None:
    assert content_hash("第一段\n第二段") != content_hash("第一段第二段")


# The content hash must not move when the code computing it gets faster: ``nfkc`` is NFKC, exactly.
_TRICKY = (
    "同志们，今年以来：（一）！？\u3000ＡＢＣ１２３ａｂｃ"  # Chinese text and its full-width forms
    "\u0301\u0308\u3099\u309a\u0323"  # combining marks (after a full-width letter they compose)
    "ﬁ①㈱㍿ｶﾞﾊﾟ\uff9e\uff9f"  # other compatibility characters, half-width kana and their marks
    "\u1100\u1161\u11a8가각\u00c5\u212b\u2126"  # Hangul jamo and syllables, singletons
    "\u00a0\u2009\u200b\ufeff\n\t a.,"
)


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet=st.sampled_from(_TRICKY), max_size=40) | st.text(max_size=40))
def test_the_fast_nfkc_is_nfkc(value: str) -> None:
    assert nfkc(value) == unicodedata.normalize("NFKC", value)


def test_the_fast_nfkc_is_nfkc_on_real_texts() -> None:
    from fixtures.shared import require_shared

    for path in sorted(require_shared("corpus", "cleaneval-zh").glob("*.txt")):
        value = path.read_text("utf-8", errors="replace")
        assert nfkc(value) == unicodedata.normalize("NFKC", value), path.name


def test_full_width_forms_fold_one_for_one_to_ascii() -> None:
    from archive.cleaning.metadata import fold
    from archive.cleaning.normalize import unfold_full_width

    for code in (*range(0xFF01, 0xFF5F), 0x3000):
        wide = chr(code)
        narrow = chr(0x20 if code == 0x3000 else code - 0xFEE0)
        assert unfold_full_width(f"甲{wide}乙{wide}") == fold(f"甲{wide}乙{wide}") == f"甲{narrow}乙{narrow}"
