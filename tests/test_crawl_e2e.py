"""End to end: the real CLI crawls the real replica server into a real SQLite file."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, cli, crawl_ok, query, scalar, write_config

from archive.cleaning.core import GAP_MARKER
from archive.cleaning.normalize import content_hash, normalise_text

pytestmark = pytest.mark.slow

BOILERPLATE = (
    "下面是小编为大家整理的",
    "推荐访问",
    "版权所有",
    "Powered by",
    "ICP备",
    "文章地址",
    ".docx_第",
    "VIP专享",
    "浏览次数",
    "【广告】",
    "【推广】",
    "相关文章",
    "热门文章",
    "正式会员",
    "未完,全文共",
    "目录/提纲",
    "当前位置",
    "您的位置",
    "发布时间",
    "当您付费下载文档后",
    "回到顶部",
)
GBK_ONLY = set("翀堃喆珺昇玥赟璟")


def stored(db: Path, url: str) -> list[tuple[int, str, str]]:
    """(version number, content hash, text) of a page, oldest first."""
    return query(
        db,
        "SELECT v.number, v.content_hash, c.text FROM versions v JOIN pages p ON p.id = v.page_id "
        "JOIN contents c ON c.hash = v.content_hash WHERE p.url = ? ORDER BY v.number",
        url,
    )


def as_paragraphs(text: str) -> str:
    """Stored text with our gap markers turned into breaks, for comparing with the replica's truth."""
    return normalise_text(text.replace(GAP_MARKER, "\n"))


def test_first_crawl_archives_every_article_once_and_clean(replica, archive_paths) -> None:
    config, db = archive_paths
    write_config(config, replica, db)
    crawl_ok(config)
    total = 0
    gbk_seen = 0
    for site in replica.site_names():
        for aid in replica.article_ids(site):
            expected = replica.expected(site, aid)
            versions = stored(db, expected.url)
            assert len(versions) == 1, f"{expected.url}: {len(versions)} versions"
            text = versions[0][2]
            assert as_paragraphs(text) == normalise_text(expected.text), expected.url
            leaked = [b for b in BOILERPLATE if b in text]
            assert not leaked, f"{expected.url} kept boilerplate {leaked}"
            gbk_seen += bool(GBK_ONLY & set(expected.text))
            total += 1
    assert total == 60
    assert scalar(db, "SELECT count(*) FROM pages") == 60
    assert gbk_seen > 0, "the replica should serve some GBK-only characters"
    partial = query(db, "SELECT count(*) FROM versions WHERE partial = 1")[0][0]
    assert partial >= 12, "every biganzi preview and the paywalled wm114 pages are partial"


def test_second_crawl_adds_captures_but_no_versions(replica, archive_paths) -> None:
    config, db = archive_paths
    write_config(config, replica, db, sites=["zhongyi", "wm114"])
    crawl_ok(config)
    versions, captures = scalar(db, "SELECT count(*) FROM versions"), scalar(db, "SELECT count(*) FROM captures")
    crawl_ok(config, "--all", "--full")
    assert scalar(db, "SELECT count(*) FROM versions") == versions
    assert scalar(db, "SELECT count(*) FROM captures") == 2 * captures
    assert {
        o for (o,) in query(db, "SELECT outcome FROM captures WHERE run_id = (SELECT max(id) FROM crawl_runs)")
    } <= {"unchanged", "not_modified"}


def test_noise_changes_add_nothing_and_one_edit_adds_one_version(replica, archive_paths) -> None:
    config, db = archive_paths
    sites = ["zhongyi", "sanweiyuan", "wm114"]
    write_config(config, replica, db, sites=sites)
    crawl_ok(config)
    before = scalar(db, "SELECT count(*) FROM versions")
    for site in sites:
        replica.bump_noise(site)
    crawl_ok(config, "--all", "--full")
    assert scalar(db, "SELECT count(*) FROM versions") == before, "ads/sidebar/counter must not make versions"

    target = replica.article_ids("sanweiyuan")[3]
    replica.edit_article("sanweiyuan", target, paragraph=2)
    crawl_ok(config, "--all", "--full")
    assert scalar(db, "SELECT count(*) FROM versions") == before + 1
    changed = query(db, "SELECT p.url FROM versions v JOIN pages p ON p.id = v.page_id WHERE v.number = 2")
    assert changed == [(replica.article_url("sanweiyuan", target),)]
    assert as_paragraphs(stored(db, changed[0][0])[-1][2]) == normalise_text(
        replica.expected("sanweiyuan", target).text
    )


def test_edit_then_revert_is_three_versions_with_text_a_stored_once(replica, archive_paths) -> None:
    config, db = archive_paths
    write_config(config, replica, db, sites=["lixin"])
    aid = replica.article_ids("lixin")[0]
    url = replica.article_url("lixin", aid)
    original = replica.paragraphs("lixin", aid)
    crawl_ok(config)
    replica.edit_article("lixin", aid, paragraph=1)
    crawl_ok(config, "--all", "--full")
    replica.set_paragraphs("lixin", aid, original)
    crawl_ok(config, "--all", "--full")
    versions = stored(db, url)
    assert [v[0] for v in versions] == [1, 2, 3]
    assert versions[0][1] == versions[2][1] != versions[1][1]
    assert scalar(db, "SELECT count(*) FROM contents WHERE hash = ?", versions[0][1]) == 1


def test_a_speech_reposted_on_two_sites_is_one_content_row(replica, archive_paths) -> None:
    config, db = archive_paths
    write_config(config, replica, db, sites=["zhongyi", "sanweiyuan"])
    source = replica.article_ids("zhongyi")[2]
    copy = replica.repost("zhongyi", source, "sanweiyuan")
    crawl_ok(config)
    a, b = stored(db, replica.article_url("zhongyi", source)), stored(db, replica.article_url("sanweiyuan", copy))
    assert a[0][1] == b[0][1]
    linked = query(
        db,
        "SELECT s.name FROM versions v JOIN pages p ON p.id = v.page_id JOIN sites s ON s.id = p.site_id "
        "WHERE v.content_hash = ? ORDER BY s.name",
        a[0][1],
    )
    assert linked == [("sanweiyuan",), ("zhongyi",)]


def processes_mentioning(text: str) -> list[int]:
    found = []
    for proc_dir in Path("/proc").iterdir():
        if proc_dir.name.isdigit():
            try:
                cmdline = (proc_dir / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if text in cmdline:
                found.append(int(proc_dir.name))
    return found


def wait_until_gone(text: str, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not processes_mentioning(text):
            return True
        time.sleep(0.1)
    return False


def check_integrity(db: Path) -> None:
    assert query(db, "PRAGMA integrity_check") == [("ok",)]
    assert query(db, "PRAGMA foreign_key_check") == []
    for digest, text in query(db, "SELECT hash, text FROM contents"):
        assert content_hash(text) == digest
    orphans = query(
        db,
        "SELECT c.id FROM captures c LEFT JOIN versions v ON v.capture_id = c.id "
        "WHERE c.outcome = 'new_version' AND v.id IS NULL",
    )
    assert orphans == [], "a new_version capture without its version is a half-written page"


def test_sigkill_mid_crawl_leaves_a_sound_archive_and_the_next_crawl_completes(tmp_path: Path) -> None:
    from replica import ReplicaServer

    config, db = tmp_path / "config.toml", tmp_path / "archive.sqlite3"
    with ReplicaServer(articles_per_site=150, per_page=30, seed=3, sites=["zhongyi"]) as server:
        write_config(config, server, db, concurrency_per_domain=2)
        proc = subprocess.Popen(
            [sys.executable, "-m", "speech_archive", "crawl", "--config", str(config), "--all"],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ready = db.exists() and query(db, "SELECT name FROM sqlite_master WHERE name = 'versions'")
            if ready and scalar(db, "SELECT count(*) FROM versions") >= 20:
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        assert wait_until_gone(str(config)), "the killed crawl's cleaning workers must not outlive it"
        done = scalar(db, "SELECT count(*) FROM versions")
        assert 20 <= done < 150, "the kill should land mid-crawl"
        check_integrity(db)
        crawl_ok(config)
        check_integrity(db)
        assert scalar(db, "SELECT count(*) FROM pages") == 150
        assert scalar(db, "SELECT count(*) FROM versions") == 150
        assert query(db, "SELECT status FROM crawl_runs ORDER BY id") == [("interrupted",), ("finished",)]


def test_status_history_and_show(replica, archive_paths) -> None:
    config, db = archive_paths
    write_config(config, replica, db, sites=["wm114", "lixin"])
    crawl_ok(config)
    result = cli("status", "--json", "--config", str(config))
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert status["wm114"]["pages"] == 12 and status["wm114"]["versions"] == 12 and status["wm114"]["captures"] == 12
    assert status["lixin"]["last_run"]["status"] == "finished"

    aid = replica.article_ids("wm114")[0]
    url = replica.article_url("wm114", aid)
    shown = cli("show", url, "--config", str(config))
    assert shown.returncode == 0
    assert as_paragraphs(shown.stdout) == normalise_text(replica.expected("wm114", aid).text)
    history = cli("history", url + "#top", "--config", str(config))
    assert history.returncode == 0
    assert stored(db, url)[0][1][:16] in history.stdout
