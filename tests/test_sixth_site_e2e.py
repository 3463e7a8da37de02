"""A sixth site added by config only (an older GBK table-layout CMS), end to end through the real CLI.

The replica's ``gwzj`` (replica/site_oldcms.py) has a nav bar of links, an info line
``作者：… 更新时间：… 浏览次数：…``, a sidebar of other articles' titles, 上一篇/下一篇,
and, on its pages still in the old template, the info line and a 本栏推荐 list inside
the body's own cell. Crawled with the built-in ``default`` profile (no hint, nothing
site-specific), then ``learn-profile`` + ``reclean``.
"""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import cli, crawl_ok, query, scalar, write_config
from fixtures.metrics import matched_chars

from archive.cleaning.metadata import SHANGHAI
from replica.site_oldcms import Gwzj

if TYPE_CHECKING:
    from replica import ReplicaServer

pytestmark = pytest.mark.slow
SITE = "gwzj"
ARTICLES = 24


@pytest.fixture
def sixth() -> Iterator[ReplicaServer]:
    from replica import ReplicaServer

    with ReplicaServer(articles_per_site=ARTICLES, per_page=8, seed=7, sites=[SITE]) as server:
        yield server


def latest(db: Path) -> dict[str, tuple[str, str, str, str]]:
    """URL -> (text, title, published_at, change) of each page's latest version."""
    rows = query(
        db,
        "SELECT p.url, c.text, v.title, v.published_at, v.change FROM versions v JOIN pages p ON p.id = v.page_id "
        "JOIN contents c ON c.hash = v.content_hash "
        "WHERE v.number = (SELECT max(number) FROM versions w WHERE w.page_id = v.page_id)",
    )
    return {url: (text, title, published, change) for url, text, title, published, change in rows}


def precision(server: ReplicaServer, db: Path, aids: list[int]) -> tuple[float, float]:
    """Character precision and recall over these pages' latest texts (matched / stored, matched / expected)."""
    stored = latest(db)
    matched = expected = got = 0
    for aid in aids:
        exp = server.expected(SITE, aid)
        m, e, g = matched_chars(exp.text, stored[exp.url][0])
        matched, expected, got = matched + m, expected + e, got + g
    return matched / got, matched / expected


def test_the_sixth_site_is_archived_by_the_default_profile_and_its_learned_profile_cleans_the_rest(
    sixth: ReplicaServer, archive_paths: tuple[Path, Path]
) -> None:
    config, db = archive_paths
    write_config(config, sixth, db)
    assert tomllib.loads(config.read_text(encoding="utf-8"))["profiles"] == {}, "no hint, no site profile"
    crawl_ok(config)
    aids = sixth.article_ids(SITE)
    legacy = [aid for aid in aids if Gwzj.legacy(aid)]
    assert len(aids) == ARTICLES and 0 < len(legacy) < ARTICLES

    stored = latest(db)
    assert len(stored) == ARTICLES
    for aid in aids:
        exp = sixth.expected(SITE, aid)
        text, title, published, _change = stored[exp.url]
        assert title == exp.title
        utc = exp.published_at.replace(tzinfo=SHANGHAI).astimezone(dt.UTC)
        assert published[:19] == f"{utc:%Y-%m-%d %H:%M:%S}"  # from 更新时间, stored in UTC
    p_all, r_all = precision(sixth, db, aids)
    p_legacy, _ = precision(sixth, db, legacy)
    print(f"\ndefault profile: P {p_all:.4f} R {r_all:.4f} over {len(aids)} pages; legacy pages P {p_legacy:.4f}")
    assert p_all >= 0.99 and r_all >= 0.999, (p_all, r_all)
    p_new, _ = precision(sixth, db, [a for a in aids if a not in legacy])
    assert p_new == 1.0
    missed = [aid for aid in legacy if "浏览次数" in stored[sixth.expected(SITE, aid).url][0]]
    assert missed, "the default profile keeps the legacy pages' info line: what learning is for"

    learned = cli("learn-profile", SITE, "--config", str(config))
    assert learned.returncode == 0, learned.stderr
    profile_file = config.parent / "profiles" / f"{SITE}.toml"
    written = profile_file.read_text(encoding="utf-8")
    assert '[profiles."gwzj.learned"]' in written and "^作者:.*?更新时间:.*?浏览次数:" in written
    assert "本栏推荐" in written
    again = cli("learn-profile", SITE, "--config", str(config))
    assert again.returncode != 0 and "--force" in again.stderr  # a learned file may hold edits: never overwritten
    dry = cli("learn-profile", SITE, "--dry-run", "--config", str(config))
    assert dry.returncode == 0 and dry.stdout.split("\n", 1)[1] == written.split("\n", 1)[1]  # deterministic

    versions_before = scalar(db, "SELECT count(*) FROM versions")
    recleaned = cli("reclean", "--site", SITE, "--json", "--config", str(config))
    assert recleaned.returncode == 0, recleaned.stderr
    counts = json.loads(recleaned.stdout)
    assert counts["recleaned"] == len(missed) and counts["failed"] == 0
    assert scalar(db, "SELECT count(*) FROM versions") == versions_before + len(missed)
    assert {row[0] for row in query(db, "SELECT change FROM versions WHERE number > 1")} == {"reclean"}
    assert all("+p" in v for (v,) in query(db, "SELECT extractor_version FROM versions WHERE change = 'reclean'"))

    stored = latest(db)
    for aid in legacy:
        text = stored[sixth.expected(SITE, aid).url][0]
        assert "浏览次数" not in text and "本栏推荐" not in text
    p_learned, r_learned = precision(sixth, db, aids)
    print(f"learned profile: P {p_learned:.4f} R {r_learned:.4f}")
    assert (p_learned, r_learned) == (1.0, 1.0)

    # The view counter in the (now learned) info line changes on every visit: no new version from it.
    sixth.bump_noise(SITE)
    crawl_ok(config, "--all", "--full")
    assert scalar(db, "SELECT count(*) FROM versions") == versions_before + len(missed)
