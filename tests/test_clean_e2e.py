"""End to end: a redesign is a failed extraction, a better cleaner is a re-clean (real crawls, real CLI)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from conftest import cli, crawl_ok, query, scalar, write_config

pytestmark = pytest.mark.slow


def with_profiles(config: Path, profiles: dict[str, Any]) -> None:
    doc = tomllib.loads(config.read_text(encoding="utf-8"))
    doc["profiles"] = profiles
    config.write_text(tomli_w.dumps(doc), encoding="utf-8")


def last_run_outcomes(db: Path) -> set[str]:
    sql = "SELECT outcome FROM captures WHERE run_id = (SELECT max(id) FROM crawl_runs)"
    return {outcome for (outcome,) in query(db, sql)}


def test_a_layout_change_gives_failed_captures_not_versions(replica, archive_paths) -> None:
    config, db = archive_paths
    write_config(config, replica, db, sites=["lixin"])
    crawl_ok(config)
    assert scalar(db, "SELECT count(*) FROM versions") == 12
    healthy = json.loads(cli("status", "--json", "--config", str(config)).stdout)["lixin"]["cleaning"]
    assert healthy["body_from"] == {"hint": 1.0} and healthy["failed_share"] == 0.0
    assert healthy["median_chars"] > 500 and not healthy["layout_changed"]
    removed = dict(healthy["boilerplate"])
    assert removed, "the intro and footer lines the profile removed are listed"
    assert all(n <= 12 for n in removed.values())

    replica.set_layout("lixin", "v2")  # the body moves to another container
    result = crawl_ok(config, "--all", "--full")
    assert scalar(db, "SELECT count(*) FROM versions") == 12, "no empty or truncated version"
    assert last_run_outcomes(db) == {"extraction_failed"}
    reasons = {e for (e,) in query(db, "SELECT error FROM captures WHERE outcome = 'extraction_failed'")}
    assert len(reasons) == 1 and "matched nothing" in reasons.pop()
    url = replica.article_url("lixin", replica.article_ids("lixin")[0])
    logged = [line for line in result.stderr.splitlines() if url in line]
    assert logged and "extraction_failed" in logged[0] and "layout" in logged[0], result.stderr[-2000:]

    status = cli("status", "--json", "--config", str(config))
    assert status.returncode == 0, status.stderr
    row = json.loads(status.stdout)["lixin"]
    assert row["extraction_failed_pages"] == 12
    health = row["cleaning"]
    assert health["failed_share"] == 1.0 and health["body_from"] == {"failed": 1.0}
    assert health["fallback_share"] == {"last_crawl": 1.0, "previous_crawl": 0.0}
    assert health["layout_changed"], "a jump from no failed page to all of them is the layout-changed signal"
    (reason, count), *_ = health["failure_reasons"]
    assert count == 12 and "matched nothing" in reason
    table = cli("status", "--config", str(config))
    assert "LAYOUT CHANGED?" in table.stdout and "matched nothing" in table.stdout


def test_reclean_records_a_better_cleaner_as_reclean_versions_never_as_edits(replica, archive_paths) -> None:
    config, db = archive_paths
    write_config(config, replica, db, sites=["zhongyi"])
    crawl_ok(config)
    first_version = scalar(db, "SELECT extractor_version FROM versions LIMIT 1")
    captures = scalar(db, "SELECT count(*) FROM captures")

    # A profile change: salutation lines ("同志们：") are dropped from now on.
    with_profiles(config, {"zhongyi": {"boilerplate": ["^.{1,30}:$"]}})
    dry = cli("reclean", "--dry-run", "--json", "--config", str(config))
    assert dry.returncode == 0, dry.stderr
    planned = json.loads(dry.stdout)
    assert planned["pages"] == 12 and planned["recleaned"] == 12 and planned["dry_run"] is True
    assert scalar(db, "SELECT count(*) FROM versions") == 12

    done = cli("reclean", "--site", "zhongyi", "--json", "--config", str(config))
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["recleaned"] == 12 and report["sites"]["zhongyi"]["recleaned"] == 12
    assert report["works"]["contents"] == 12, "re-cleaned texts are new contents, matched to works at once"
    rows = query(db, "SELECT number, change, extractor_version, capture_id FROM versions WHERE number = 2")
    assert len(rows) == 12 and {r[1] for r in rows} == {"reclean"}
    assert {r[2] for r in rows} == set(report["extractor_versions"]) and first_version not in report[
        "extractor_versions"
    ]
    assert scalar(db, "SELECT count(*) FROM captures") == captures, "captures are never touched"
    texts = [t for (t,) in query(db, "SELECT c.text FROM versions v JOIN contents c ON c.hash = v.content_hash "
                                     "WHERE v.number = 2")]  # fmt: skip
    assert not any(t.split("\n")[0].endswith("：") for t in texts)

    crawl_ok(config, "--all", "--full")  # the same pages, cleaned by the new extractor: nothing changed
    assert scalar(db, "SELECT count(*) FROM versions") == 24
    assert last_run_outcomes(db) <= {"unchanged", "not_modified"}
    again = json.loads(cli("reclean", "--json", "--config", str(config)).stdout)
    assert (again["recleaned"], again["unchanged"]) == (0, 12)
    history = cli("history", replica.article_url("zhongyi", replica.article_ids("zhongyi")[0]), "--config", str(config))
    assert "reclean" in history.stdout


def test_a_cleaner_error_is_a_counted_failed_capture_never_a_crash(replica, archive_paths) -> None:
    """A body hint that compiles but fails on every page (an unknown XPath function) raises inside cleaning."""
    config, db = archive_paths
    write_config(config, replica, db, sites=["zhongyi"])
    with_profiles(config, {"zhongyi": {"body_xpath": "//div[no-such-function()]"}})
    result = crawl_ok(config)
    assert scalar(db, "SELECT count(*) FROM versions") == 0
    assert last_run_outcomes(db) == {"extraction_failed"}
    errors = {e for (e,) in query(db, "SELECT error FROM captures WHERE outcome = 'extraction_failed'")}
    assert errors == {"the cleaner raised XPathEvalError: Unregistered function"}
    stats = json.loads(scalar(db, "SELECT stats FROM crawl_runs ORDER BY id DESC LIMIT 1"))
    assert stats["cleaning_errors"] == 12 and stats["errors_by_kind"] == {"extraction_failed": 12}
    url = replica.article_url("zhongyi", replica.article_ids("zhongyi")[0])
    assert any(url in line and "XPathEvalError" in line for line in result.stderr.splitlines()), result.stderr[-2000:]
    assert "Traceback" not in result.stderr
