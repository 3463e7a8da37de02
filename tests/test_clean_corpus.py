"""Real pages nobody here wrote (../shared/corpus): zero exceptions, and the quality figures of CLEANING.md.

``cleaneval-zh`` has hand-marked main text: scored by the corpus README's rule
(benchmarks/corpus.py: bag of characters after NFKC without white space, per
page, then averaged), ours against plain ``trafilatura.extract`` in the same
run. ``web-pages`` has no gold: every page must give text or a clear
``extraction_failed``. Skipped without ../shared (a failure under make test).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fixtures.shared import require_shared

from benchmarks.corpus import BELOW, bag_score, run_corpus


@pytest.fixture(scope="module")
def cleaneval() -> dict:
    return run_corpus(require_shared("corpus", "cleaneval-zh"))


def test_the_scorer_reproduces_the_readme_figure_for_plain_trafilatura(cleaneval: dict) -> None:
    """The corpus README measured plain trafilatura at F1 0.834, P 0.788, 6 pages below 0.5: same rule, same input."""
    plain = cleaneval["plain_trafilatura"]
    assert (plain["f1"], plain["precision"], plain["below_half"]) == (0.834, 0.788, 6)


def test_bag_score_is_the_readme_rule() -> None:
    def as_tuple(gold: str, got: str | None) -> tuple[float, float, float]:
        score = bag_score(gold, got)
        return score.precision, score.recall, score.f1

    assert as_tuple("甲乙 丙\n", "乙丙丁") == pytest.approx((2 / 3, 2 / 3, 2 / 3))
    assert as_tuple("ＡＢ", "AB C") == pytest.approx((2 / 3, 1.0, 0.8))  # NFKC folds full-width forms
    assert as_tuple("甲", None) == (0.0, 0.0, 0.0)


def test_cleaneval_zh_meets_the_targets_and_beats_plain_trafilatura(cleaneval: dict) -> None:
    assert cleaneval["pages"] == cleaneval["with_gold"] == 51
    assert cleaneval["exceptions"] == 0 and cleaneval["cleaner_errors"] == 0
    ours, plain = cleaneval["ours"], cleaneval["plain_trafilatura"]
    assert ours["f1"] >= 0.93 and ours["precision"] >= 0.93, ours
    assert ours["f1"] > plain["f1"] and ours["precision"] > plain["precision"]
    below = [r["page"] for r in cleaneval["rows"] if r["ours"]["f1"] < BELOW]
    # One page stays below 0.5: page 38 is a list of ten excerpts of one post, and its gold text is an
    # arbitrary part of them (docs/CLEANING.md). Any other page below 0.5 is a regression.
    assert below in ([], ["38"]), below


def test_every_web_page_gives_text_or_a_clear_failure() -> None:
    report = run_corpus(require_shared("corpus", "web-pages"))
    assert report["pages"] >= 100
    assert report["exceptions"] == 0 and report["cleaner_errors"] == 0
    for row in report["rows"]:
        assert row["outcome"] in ("ok", "extraction_failed", "blocked"), row
        assert row["outcome"] == "ok" or row["reason"], row


def test_bench_clean_corpus_prints_the_table(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from speech_archive.cli import main

    corpus = require_shared("corpus", "cleaneval-zh")
    for name in ("10.html", "10.txt", "11.html", "11.txt"):
        (tmp_path / name).write_bytes((corpus / name).read_bytes())
    result = CliRunner().invoke(main, ["bench-clean", "--corpus", str(tmp_path), "--markdown"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().split("\n")
    assert lines[0].startswith("| page | ours P / R / F1") and lines[2].startswith("| 10 |")
    assert lines[-1].startswith("| **mean** |")
    empty = CliRunner().invoke(main, ["bench-clean", "--corpus", str(tmp_path / "..")])
    assert empty.exit_code != 0 and "no *.html pages" in empty.output
