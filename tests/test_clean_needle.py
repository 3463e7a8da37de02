"""A profile regex skips lines lacking the fixed text every match contains (archive/cleaning/needle.py)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.cleaning.needle import Needled, required_literal
from archive.cleaning.profiles import ProfileBook


@pytest.mark.parametrize(
    ("pattern", "needle"),
    [
        (r"\s*…{0,2}\(?未完,\s*全文共(?P<declared>\d+)字,\s*当前仅显示(?P<shown>\d+)字.*$", "当前仅显示"),
        (r"(?:发布|发表|更新)?时间:\s*(\d{4})", "时间:"),
        (r"VIP专享|VIP免费", "VIP"),  # the engine factors the common prefix out of the alternation
        (r"(?:ab)cd", "abcd"),
        (r"a|bc", None),  # a top-level alternation: nothing every match contains
        (r"(?i)abc", None),  # case-insensitive: a literal test would miss "ABC"
        (r"x?abc", "abc"),
        (r"(?:\.{3,}|…{1,2})$", None),
        (r"a", None),  # one character is not worth the test
    ],
)
def test_the_needle_is_the_literal_every_match_contains(pattern: str, needle: str | None) -> None:
    assert required_literal(re.compile(pattern)) == needle


ALPHABET = "发布表更新时间日期:：2023-05-08 未完,全文共当前仅显示字…()省略VIP专享免费abcxX"
LINES = st.text(alphabet=st.sampled_from(ALPHABET), max_size=60)


@settings(max_examples=400, deadline=None)
@given(LINES)
def test_a_needled_pattern_finds_what_the_regex_finds(line: str) -> None:
    profile = ProfileBook().get("wm114")
    for pattern in (*profile.date_patterns, *profile.gap_patterns, *profile.tail_patterns, *profile.title_strip):
        assert isinstance(pattern, Needled)
        found = pattern.search(line)
        expected = pattern.regex.search(line)
        assert (found.span() if found else None) == (expected.span() if expected else None)
        assert [m.span() for m in pattern.finditer(line)] == [m.span() for m in pattern.regex.finditer(line)]
