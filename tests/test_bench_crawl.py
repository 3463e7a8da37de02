"""`speech-archive bench`: the crawl benchmark's corpus, its static server, and one small real run.

No timing is asserted (speed is measured by the benchmark, never by tests): the
run checks that every mode crawled every page, that our two modes archived the
same text, and that the JSON carries what the lead reads.
"""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

import pytest
from conftest import cli

from benchmarks.crawl_corpus import CHARS, GBK_EVERY, write_corpus
from benchmarks.static_server import StaticServer, nginx_binary

MODES = ("fetch_only", "plain_pool", "naive", "inline", "pipeline")


def test_the_corpus_states_its_size_text_length_and_gbk_share(tmp_path: Path) -> None:
    stated = write_corpus(tmp_path, 40, 50)
    assert stated["articles"] == 40 and stated["list_pages"] == 1 and stated["gbk_share"] == 0.1
    assert CHARS[0] <= stated["article_chars"]["min"] <= stated["article_chars"]["max"] <= CHARS[1]
    assert stated["article_bytes"]["min"] >= 50 * 1024
    articles = sorted((tmp_path / "fanwen" / "gongwen").glob("[0-9]*.html"))
    assert len(articles) == 40
    declared = [re.search(rb'<meta charset="([\w-]+)"', p.read_bytes()) for p in articles]
    gbk = [p for p, m in zip(articles, declared, strict=True) if m and m.group(1) == b"gbk"]
    assert len(gbk) == 40 // GBK_EVERY
    for page in gbk:
        page.read_bytes().decode("gbk")  # really GBK, not UTF-8 declared otherwise
        with pytest.raises(UnicodeDecodeError):
            page.read_bytes().decode("utf-8")
    assert write_corpus(tmp_path, 40, 50) == stated, "a second run reuses the files"


@pytest.mark.parametrize("nginx", [True, False], ids=["nginx", "python"])
def test_the_static_server_serves_the_files_from_its_own_process(tmp_path: Path, nginx: bool) -> None:
    if nginx:
        assert nginx_binary() is not None, "nginx is not installed: `make services` installs it (nginx-light)"
    (tmp_path / "list").mkdir()
    (tmp_path / "list" / "index.html").write_bytes(b"<a href='/a.html'>a</a>")
    (tmp_path / "a.html").write_bytes("正文".encode("gbk"))
    with StaticServer(tmp_path, prefer_nginx=nginx) as server:
        assert server.kind == ("nginx" if nginx else "python-http.server")
        assert urllib.request.urlopen(server.base_url + "/a.html", timeout=5).read().decode("gbk") == "正文"
        assert b"a.html" in urllib.request.urlopen(server.base_url + "/list/", timeout=5).read()
        pid = server.pid
    assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()


@pytest.mark.slow
def test_bench_crawls_every_page_in_every_mode_and_reports_the_ratios(tmp_path: Path) -> None:
    result = cli("bench", "--pages", "60", "--corpus-dir", str(tmp_path / "corpus"), "--json", timeout=600)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    for key in ("pipeline_vs_plain_pool", "pipeline_vs_naive", "peak_rss_mb"):
        assert isinstance(summary[key], float) and summary[key] > 0, key
    assert summary["corpus"]["articles"] == 60
    assert summary["server"] == ("nginx" if nginx_binary() else "python-http.server")
    assert tuple(summary["modes"]) == MODES
    for mode, figures in summary["modes"].items():
        assert figures["pages"] == 60 and figures["complete"], mode
        assert figures["pages_per_s"] > 0 and figures["cpu_ms_per_page"] > 0 and figures["cores_used"] > 0, mode
    assert summary["modes"]["plain_pool"]["extracted"] == 60 and summary["modes"]["naive"]["extracted"] == 60
    assert summary["modes"]["plain_pool"]["workers_cpu_s"] > 0, "the plain pool's extraction runs in its workers"
    assert summary["modes"]["pipeline"]["workers_cpu_s"] > 0, "our pool's cleaning runs in its workers"
    assert summary["modes"]["inline"]["outcomes"] == {"new_version": 60}
    assert summary["modes"]["pipeline"]["outcomes"] == {"new_version": 60}
    assert summary["same_text"] == {"compared": 60, "different": 0, "only_in_one": 0}
    assert summary["modes"]["pipeline"]["processes"] >= 1 + summary["workers"]
