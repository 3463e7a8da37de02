"""`speech-archive extract` and `bench-clean` through the CLI runner (no crawl, no archive)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import tomli_w
from click.testing import CliRunner
from fixtures.unknown_sites import forum_discuz

from archive.cleaning.core import GAP_MARKER
from archive.cleaning.normalize import normalise_text
from replica import ReplicaServer
from replica.catalogue import Catalogue
from replica.config import replica_config
from replica.sites import SITE_NAMES, SITES
from speech_archive.cli import main

FIELDS = {
    "text", "title", "published_at", "category", "source", "outline", "partial", "gaps", "declared_chars",
    "shown_chars", "masked_count", "char_count", "speaker", "occasion", "genre", "extractor_version", "outcome",
    "reason",
}  # fmt: skip


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def as_paragraphs(text: str) -> str:
    return normalise_text(text.replace(GAP_MARKER, "\n"))


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A config naming the five replica sites (titles, hosts on 127.0.0.1), as `replica --write-config` does."""
    specs = [
        {"name": n, "title": SITES[n].title, "base_url": f"http://127.0.0.1:{9100 + i}",
         "start_urls": [f"http://127.0.0.1:{9100 + i}/"],
         "article_pattern": SITES[n].article_pattern, "pagination_pattern": SITES[n].pagination_pattern}
        for i, n in enumerate(SITE_NAMES)
    ]  # fmt: skip
    path = tmp_path / "config.toml"
    path.write_text(tomli_w.dumps(replica_config(specs, f"sqlite:///{tmp_path / 'a.sqlite3'}")), encoding="utf-8")
    return path


def saved_pages(tmp_path: Path) -> list[tuple[Path, str, str]]:
    """One saved page per replica site (as a browser saves it: the bytes, no HTTP header), plus an unknown forum."""
    out = []
    for index, site in enumerate(SITE_NAMES):
        template = SITES[site]
        catalogue = Catalogue(template, 3, 9, index)
        aid = catalogue.ids()[0]
        path = tmp_path / f"{site}.html"
        path.write_bytes(template.encode(template.render_article(catalogue.article_view(aid, "http://x", 20))))
        out.append((path, site, catalogue.expected(aid, "http://x").text))
    forum = forum_discuz(4)
    (tmp_path / "forum.html").write_bytes(forum.body)
    out.append((tmp_path / "forum.html", "default", forum.text))
    return out


def test_extract_json_prints_one_object_per_page_in_order_with_recognised_profiles(
    tmp_path: Path, config: Path
) -> None:
    pages = saved_pages(tmp_path)
    code, out, err = run("extract", "--json", "--config", str(config), *(str(p) for p, _, _ in pages))
    assert code == 0, err
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["input"] for r in records] == [str(p) for p, _, _ in pages]
    for rec, (_path, site, text) in zip(records, pages, strict=True):
        assert set(rec) >= FIELDS, FIELDS - set(rec)
        assert rec["outcome"] == "ok" and rec["reason"] is None
        assert rec["profile"] == site, rec["profile_from"]
        assert as_paragraphs(rec["text"]) == normalise_text(text), site
        assert isinstance(rec["category"], list) and isinstance(rec["gaps"], list)
    wm114 = records[0]
    assert wm114["encoding"] == "gb18030" and wm114["published_at"].endswith("+08:00")
    forum = records[-1]
    assert forum["site"] is None and forum["body_from"] == "prose-block"
    assert forum["body_reason"].startswith("prose block div.t_fsz (lines "), forum["body_reason"]


def test_extract_fetches_a_url_and_cleans_it_as_that_site(tmp_path: Path) -> None:
    with ReplicaServer(articles_per_site=2, sites=["wm114", "lixin"], seed=4) as server:
        cfg = tmp_path / "config.toml"
        doc = replica_config([server.site_spec(s) for s in server.site_names()], "sqlite:///x.sqlite3")
        cfg.write_text(tomli_w.dumps(doc), encoding="utf-8")
        urls = [server.article_url(site, server.article_ids(site)[0]) for site in ("lixin", "wm114")]
        code, out, err = run("extract", "--json", "--config", str(cfg), *urls)
        assert code == 0, err
        records = [json.loads(line) for line in out.splitlines()]
        for rec, site in zip(records, ("lixin", "wm114"), strict=True):
            assert (rec["site"], rec["profile_from"], rec["url"]) == (site, "URL", rec["input"])
            expected = server.expected(site, server.article_ids(site)[0])
            assert as_paragraphs(rec["text"]) == normalise_text(expected.text)
            assert rec["title"] == expected.title
        assert records[0]["source"] == "网友投稿"
        code, _out, err = run("extract", "--config", str(cfg), server.base_url("lixin") + "/gongwen/202001/1.html")
        assert code == 6 and "HTTP 404" in err


def test_extract_human_output_and_the_site_option(tmp_path: Path, config: Path) -> None:
    path, _site, _text = saved_pages(tmp_path)[1]  # a zhongyi page
    code, out, err = run("extract", "--config", str(config), "--site", "default", str(path))
    assert code == 0, err
    assert "profile" in out and "/ default (from --site (a profile))" in out and "outcome           ok" in out
    code, _out, err = run("extract", "--config", str(config), "--site", "nosuch", str(path))
    assert code == 2 and "--site 'nosuch' is neither a configured site nor a profile" in err


def test_extract_names_a_missing_file_before_printing_anything(tmp_path: Path, config: Path) -> None:
    path, _site, _text = saved_pages(tmp_path)[0]
    code, out, err = run("extract", "--config", str(config), str(path), str(tmp_path / "nope.html"))
    assert code == 3 and out == ""
    assert "nope.html: no such file" in err and len(err.strip().splitlines()) == 1


def test_bench_clean_reports_pages_per_second_per_core() -> None:
    code, out, err = run("bench-clean", "--pages", "10", "--page-kb", "10", "--source", "replica", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["pages"] == 10 and report["failed"] == 0
    assert report["pages_per_s_per_core"] > 0 and set(report["sites"]) == set(SITE_NAMES)


def test_bench_clean_measures_the_crawl_benchmarks_pages_beside_plain_trafilatura() -> None:
    code, out, err = run("bench-clean", "--pages", "12", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["source"] == "bench" and report["pages"] == 12 and report["failed"] == 0
    cpu = report["cpu_ms_per_page"]
    assert cpu["clean"]["mean"] > 0 and cpu["worker_unit"]["mean"] > 0 and cpu["plain_trafilatura"]["mean"] > 0
    assert report["clean_vs_plain_trafilatura"] > 0 and report["worker_unit_vs_plain_trafilatura"] > 0
