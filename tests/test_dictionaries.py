"""Raw pages compressed with per-site zstd dictionaries: trained, versioned, and every stored page still readable.

Real crawls of the replica into SQLite and PostgreSQL: a crawl trains each
site a dictionary once it has enough pages, the next crawl stores new pages
with it, `train-dict` adds a newer one, and `reclean` and WARC export read
back every page, whichever dictionary (or none) it was written with.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path

import pytest
import sqlalchemy as sa
import tomli_w
from alembic import command
from alembic.config import Config as AlembicConfig
from conftest import REPO, cli, crawl_ok, write_config
from export_helpers import read_warc
from sqlalchemy import select

from archive.errors import ArchiveError
from archive.storage.engine import Archive
from archive.storage.models import Capture, Page, RawDictionary, RawPage, Site
from archive.storage.rawstore import Dictionary, Packer, RawReader, compress, load_raw, store_raw
from crawler.workers import Packers, PageJob

SITES = ["zhongyi", "lixin"]


def _raw_rows(url: str) -> list[tuple[str, str, bytes, int | None]]:
    """(site, sha256, stored bytes, dict_id) of every stored raw page, read with plain SQLAlchemy Core."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT DISTINCT s.name, r.sha256, r.data, r.dict_id FROM raw_pages r "
                    "JOIN captures c ON c.raw_sha256 = r.sha256 JOIN pages p ON p.id = c.page_id "
                    "JOIN sites s ON s.id = p.site_id"
                )
            )
            return [(site, sha, bytes(data), dict_id) for site, sha, data, dict_id in rows]
    finally:
        engine.dispose()


def _dictionaries(url: str) -> list[tuple[int, str, dict[str, int]]]:
    with Archive(url) as archive, archive.session() as session:
        rows = session.execute(
            select(RawDictionary.id, Site.name, RawDictionary.stats)
            .join(Site, Site.id == RawDictionary.site_id)
            .order_by(RawDictionary.id)
        )
        return [(i, name, dict(stats)) for i, name, stats in rows]


def _every_page_reads_back(url: str) -> int:
    with Archive(url) as archive, archive.session() as session:
        reader = RawReader()
        shas = session.execute(select(RawPage.sha256)).scalars().all()
        for sha in shas:
            body = reader.load(session, sha)
            assert body is not None and hashlib.sha256(body).hexdigest() == sha
        return len(shas)


@pytest.mark.slow
def test_crawls_train_site_dictionaries_compress_new_pages_and_every_page_reads_back(
    archive_url: str, tmp_path: Path
) -> None:
    from replica import ReplicaServer

    with ReplicaServer(articles_per_site=40, per_page=10, seed=11, sites=SITES) as server:
        config = write_config(tmp_path / "config.toml", server, archive_url, sites=SITES)
        doc = tomllib.loads(config.read_text(encoding="utf-8"))
        doc["archive"]["dictionary_min_pages"] = 30
        config.write_text(tomli_w.dumps(doc), encoding="utf-8")

        crawl_ok(config)  # 40 pages a site: each site trains its first dictionary after the crawl
        first = _dictionaries(archive_url)
        assert sorted(name for _, name, _ in first) == sorted(SITES)
        assert all(stats["site_pages"] == 40 and stats["dict_bytes_per_page"] < stats["plain_bytes_per_page"]
                   for _, _, stats in first)  # fmt: skip
        assert {dict_id for *_, dict_id in _raw_rows(archive_url)} == {None}, "pages of the first crawl stay plain"

        for site in SITES:
            server.add_articles(site, 10)
        crawl_ok(config)  # the new pages are stored with their own site's dictionary
        assert _dictionaries(archive_url) == first, "50 pages is not twice 40: no new training"
        by_site = {name: dict_id for dict_id, name, _ in first}
        new = [row for row in _raw_rows(archive_url) if row[3] is not None]
        assert len(new) == 20
        for site, sha, data, dict_id in new:
            assert dict_id == by_site[site], f"a {site} page compressed with another site's dictionary"
            with Archive(archive_url) as archive, archive.session() as session:
                body = load_raw(session, sha)
            assert body is not None and hashlib.sha256(body).hexdigest() == sha
            assert len(data) < len(compress(body)), "the dictionary stores the page smaller than plain zstd"

        trained = cli("train-dict", "zhongyi", "--config", str(config), "--json")
        assert trained.returncode == 0, trained.stderr
        report = json.loads(trained.stdout)
        assert report["site"] == "zhongyi" and report["site_pages"] == 50 and report["ratio"] > 1
        assert report["dict_id"] == max(i for i, *_ in first) + 1
        assert len(_dictionaries(archive_url)) == 3, "a newer dictionary is a new row; the old ones stay"

        assert _every_page_reads_back(archive_url) == 100
        recleaned = cli("reclean", "--config", str(config), "--json")
        assert recleaned.returncode == 0, recleaned.stderr
        counts = json.loads(recleaned.stdout)
        assert counts["pages"] == 100 and counts["no_raw"] == 0 and counts["failed"] == 0

        warc = tmp_path / "out.warc.gz"
        exported = cli("export", "--config", str(config), "--format", "warc", "-o", str(warc))
        assert exported.returncode == 0, exported.stderr
        responses = [r for r in read_warc(warc) if r["type"] == "response"]  # payload digests checked on read
        assert len(responses) == 100
        shas = {row[1] for row in _raw_rows(archive_url)}
        assert {hashlib.sha256(r["body"]).hexdigest() for r in responses} == shas


def _alembic(conn: sa.Connection) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(REPO / "archive" / "storage" / "migrations"))
    cfg.attributes["connection"] = conn
    return cfg


def test_pages_stored_before_the_migration_stay_readable_and_downgrade_refuses_to_orphan_pages(
    archive_url: str,
) -> None:
    engine = sa.create_engine(archive_url)
    with engine.begin() as conn:
        command.upgrade(_alembic(conn), "0003")
    engine.dispose()
    old_body = "<html><body>旧的原始页面</body></html>".encode()
    with Archive(archive_url, upgrade=False) as archive, archive.session() as session:
        session.connection().execute(
            sa.text(
                "INSERT INTO raw_pages (sha256, size, compression, data, created_at) "
                "VALUES (:sha, :size, 'zstd', :data, CURRENT_TIMESTAMP)"
            ),
            {"sha": hashlib.sha256(old_body).hexdigest(), "size": len(old_body), "data": compress(old_body)},
        )
    with Archive(archive_url) as archive:  # upgrades to the head: 0008
        with archive.session() as session:
            assert load_raw(session, hashlib.sha256(old_body).hexdigest()) == old_body
            site = Site(name="one", base_url="http://127.0.0.1:1")
            session.add(site)
            session.flush()
            row = RawDictionary(site_id=site.id, data=_trained(), stats={})
            session.add(row)
            session.flush()
            new_body = b"<html><body>" + b"new page " * 50 + b"</body></html>"
            sha = store_raw(session, new_body, Packer(Dictionary(row.id, row.data)))
        with archive.session() as session:
            assert session.get(RawPage, sha).dict_id == row.id  # type: ignore[union-attr]
            assert load_raw(session, sha) == new_body
    engine = sa.create_engine(archive_url)
    try:
        with engine.begin() as conn, pytest.raises(RuntimeError, match="unreadable"):
            command.downgrade(_alembic(conn), "0003")
    finally:
        engine.dispose()


def _trained() -> bytes:
    import zstandard

    samples = [f"<html><head><title>第{i}页</title></head><body><p>同志们,今天第{i}次会议</p></body></html>".encode()
               for i in range(200)]  # fmt: skip
    return zstandard.train_dictionary(4096, samples).as_bytes()


def test_a_page_whose_dictionary_was_deleted_fails_with_one_clear_error(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "a.sqlite3"
    with Archive(f"sqlite:///{db}") as archive, archive.session() as session:
        site = Site(name="one", base_url="http://127.0.0.1:1")
        session.add(site)
        session.flush()
        row = RawDictionary(site_id=site.id, data=_trained(), stats={})
        session.add(row)
        session.flush()
        sha = store_raw(session, b"<html>x</html>" * 20, Packer(Dictionary(row.id, row.data)))
    with sqlite3.connect(db) as conn:  # by hand, around the foreign key: what a careless clean-up would do
        conn.execute("DELETE FROM raw_dictionaries")
    missing = pytest.raises(ArchiveError, match=f"dictionary {row.id} is missing")
    with Archive(f"sqlite:///{db}") as archive, archive.session() as session, missing:
        load_raw(session, sha)


def test_workers_pick_the_dictionary_of_the_pages_site() -> None:
    one, two = Dictionary(1, _trained()), Dictionary(2, _trained())
    packers = Packers({"a": one, "b": two}, {"profile-a": "a"})

    def job(site: str | None, profile: str) -> PageJob:
        return PageJob(profile=profile, body=b"", content_type=None, site_title=None, site=site)

    assert packers.for_job(job("b", "profile-a")).dict_id == 2, "a job naming its site gets that site's"
    assert packers.for_job(job(None, "profile-a")).dict_id == 1, "else the one site using its profile"
    assert packers.for_job(job(None, "shared")).dict_id is None, "a profile several sites share: plain zstd"
    assert packers.for_job(job("c", "profile-a")).dict_id is None, "a site without a dictionary: plain zstd"


def test_train_dict_names_unknown_sites_and_too_small_ones_in_one_line(tmp_path: Path) -> None:
    db = tmp_path / "a.sqlite3"
    with Archive(f"sqlite:///{db}") as archive, archive.session() as session:
        site = Site(name="small", base_url="http://127.0.0.1:1")
        session.add(site)
        session.flush()
        page = Page(site_id=site.id, url="http://127.0.0.1:1/a.html")
        session.add(page)
        session.flush()
        sha = store_raw(session, b"<html>only page</html>")
        session.add(Capture(page_id=page.id, status_code=200, outcome="new_version", raw_sha256=sha))
    config = tmp_path / "config.toml"
    config.write_text(f'[archive]\ndatabase_url = "sqlite:///{db}"\n', encoding="utf-8")
    unknown = cli("train-dict", "nosuch", "--config", str(config))
    assert unknown.returncode == 3 and "Traceback" not in unknown.stderr
    assert "'nosuch'" in unknown.stderr and "small" in unknown.stderr
    small = cli("train-dict", "small", "--config", str(config))
    assert small.returncode == 2 and "Traceback" not in small.stderr
    assert "1 stored raw page" in small.stderr and "at least 20" in small.stderr
    everything = cli("train-dict", "--config", str(config))
    assert everything.returncode == 0 and "skipped" in everything.stderr
