"""The daemon's crawl child (`python -m crawler`): a JSON request in, one JSON result out, no log parsing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import REPO, write_config

from archive.config import load_config
from archive.storage import Archive
from archive.storage.leases import Holder, acquire_lease
from crawler.child import CrawlRequest, CrawlResult


def run_child(stdin: str, timeout: float = 180) -> tuple[subprocess.CompletedProcess[str], CrawlResult]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPEECH_ARCHIVE_")}
    proc = subprocess.run(
        [sys.executable, "-m", "crawler"], input=stdin, capture_output=True, text=True, cwd=REPO, env=env,
        timeout=timeout, check=False,
    )  # fmt: skip
    last = proc.stdout.strip().splitlines()[-1]
    return proc, CrawlResult.from_json(last)


def test_the_child_crawls_the_config_it_is_sent_and_answers_in_json(replica, archive_paths, tmp_path: Path) -> None:
    config_path, db = archive_paths
    config = load_config(write_config(config_path, replica, db, sites=["wm114"]))
    config_path.unlink()  # the child crawls what it was sent, never a file
    proc, result = run_child(CrawlRequest.of(config, ["wm114"]).to_json())
    assert proc.returncode == 0, proc.stderr
    assert result.error is None and set(result.sites) == {"wm114"}
    site = result.sites["wm114"]
    assert site.status == "finished" and site.run_id is not None
    assert site.stats["pages"] == 12 and site.stats["new_versions"] == 12
    with Archive(config.archive.database_url) as archive, archive.session() as session:
        from archive.storage.models import CrawlRun

        run = session.get(CrawlRun, site.run_id)
        assert run is not None and run.trigger == "scheduled" and run.status == "finished"
        assert run.stats["pages"] == 12
    assert "Traceback" not in proc.stderr
    assert "Dumping Scrapy stats" not in proc.stderr, "library INFO records stay out of the daemon's log"


def test_a_held_lease_is_a_skipped_site_in_the_result(replica, archive_paths) -> None:
    config_path, db = archive_paths
    config = load_config(write_config(config_path, replica, db, sites=["wm114"]))
    with Archive(config.archive.database_url) as archive, archive.session() as session:
        acquire_lease(session, "wm114", Holder.process("manual crawl", 1, "another-host"), 300)
    proc, result = run_child(CrawlRequest.of(config, ["wm114"]).to_json())
    assert proc.returncode == 0, proc.stderr
    assert result.sites["wm114"].status == "skipped"
    assert "manual crawl pid 1 on another-host" in (result.sites["wm114"].error or "")
    assert replica.requests == []


def test_a_request_that_is_not_a_request_is_an_error_result_not_a_traceback() -> None:
    proc, result = run_child("this is not json")
    assert proc.returncode == 2 and result.exit_code == 2
    assert result.sites == {} and "not a CrawlRequest" in (result.error or "")
    assert "Traceback" not in proc.stderr


def test_an_unreachable_database_is_reported_in_the_result(archive_paths, replica) -> None:
    config_path, _db = archive_paths
    config = load_config(write_config(config_path, replica, "sqlite:////proc/no-such-dir/archive.sqlite3"))
    request = json.loads(CrawlRequest.of(config, ["wm114"]).to_json())
    proc, result = run_child(json.dumps(request))
    assert proc.returncode == 4 and result.exit_code == 4, proc.stderr
    assert "archive" in (result.error or "") and "Traceback" not in proc.stderr
