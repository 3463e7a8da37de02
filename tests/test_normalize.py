from archive.cleaning.normalize import content_hash, normalise_text


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
