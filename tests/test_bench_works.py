"""`speech-archive bench-works` on a smaller corpus: the quality targets hold (timings are reported, not asserted)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from speech_archive.cli import main

TARGETS = {
    "pairwise_precision": 0.99,
    "pairwise_recall": 0.97,
    "adjusted_rand_index": 0.95,
    "truncated_recall_30pct": 0.95,
    "canonical_accuracy": 0.98,
}


def test_bench_works_meets_the_quality_targets_on_a_smaller_corpus() -> None:
    result = CliRunner().invoke(
        main, ["bench-works", "--works", "60", "--negatives", "60", "--scales", "300", "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    replica = report["replica"]
    assert replica["works"] >= 55 and replica["hard_negatives"] >= 55
    assert replica["truncated_copies_30pct"] >= 20, "the corpus must hold truncated copies to score"
    for key, target in TARGETS.items():
        assert replica[key] >= target, f"{key} = {replica[key]} < {target}"
    assert replica["match_ms_per_document"] > 0 and replica["sketch_ms_per_5000_chars"] > 0
    (scale,) = report["incremental"]
    assert scale["contents"] >= 280 and scale["new_contents"] >= 150, (
        "new contents (re-posts of one text share a content)"
    )
    if report.get("real_texts"):
        for key, target in TARGETS.items():
            assert report["real_texts"][key] >= target, f"real texts: {key} = {report['real_texts'][key]}"


def test_bench_works_refuses_a_bad_scale_list() -> None:
    result = CliRunner().invoke(main, ["bench-works", "--scales", "1k"])
    assert result.exit_code == 2 and "--scales '1k' is not a list of sizes" in result.output
