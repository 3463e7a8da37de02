"""Learning a site's template (archive/cleaning/learn.py) and reading learned profiles from profiles_dir.

The crawl-to-reclean path runs end to end in tests/test_sixth_site_e2e.py; here the
learner runs in-process on replica pages, and the config reads profile files.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive.cleaning import ProfileBook, clean
from archive.cleaning.learn import RawPage, learn
from archive.cleaning.metadata import fold
from archive.config import load_config
from archive.errors import ConfigError
from replica.catalogue import Catalogue
from replica.site_oldcms import Gwzj
from replica.sites import ALL_SITE_NAMES, SITE_NAMES, SITES
from speech_archive.cli import main

BASE = "http://127.0.0.1:8800"


def site_pages(site: str, count: int = 24) -> list[RawPage]:
    template = SITES[site]
    catalogue = Catalogue(template, count, 7, ALL_SITE_NAMES.index(site))
    return [
        RawPage(f"{BASE}/{aid}", template.encode(template.render_article(catalogue.article_view(aid, BASE, 20))))
        for aid in catalogue.ids()
    ]


def test_the_sixth_sites_info_line_and_box_heading_are_learned_and_nothing_else() -> None:
    pages = site_pages("gwzj")
    book = ProfileBook()
    learned = learn(pages, book.get("default"), site="gwzj", site_title="公文之家")
    assert learned.pages == 24 and learned.name == "gwzj.learned" and learned.base == "default"
    assert [(r.kind, r.pattern) for r in learned.rules] == [
        ("field line", "^作者:.*?更新时间:.*?浏览次数:"),
        ("repeated line", "^本栏推荐:$"),
    ]
    legacy = sum(Gwzj.legacy(int(p.url.rsplit("/", 1)[1])) for p in pages)
    assert all(rule.pages == legacy for rule in learned.rules)
    assert learn(pages, book.get("default"), site="gwzj").rules == learned.rules, "deterministic"


@pytest.mark.parametrize("site", SITE_NAMES)
def test_speech_text_is_never_learned_as_template(site: str) -> None:
    """Salutations (同志们：), closing lines (谢谢大家！) and our gap marker repeat too, and are not the site's."""
    book = ProfileBook()
    pages = site_pages(site)
    learned = learn(pages, book.for_site(site, None), site=site)
    body_lines = {
        fold(line)
        for page in pages
        for line in clean(page.body, book.for_site(site, None)).text.split("\n")
        if line.endswith(("：", ":", "！", "。", "[……]"))
    }
    if site != "biganzi":  # its body is one run-on paragraph
        assert any(line.endswith(":") for line in body_lines), "the speeches do open with salutations"
    for rule in learned.rules:
        assert not [line for line in body_lines if re.search(rule.pattern, line)], rule


def test_profile_files_are_read_with_the_config_and_a_learned_profile_is_the_sites(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[[sites]]\nname = "gwzj"\nbase_url = "http://127.0.0.1:1"\nstart_urls = ["http://127.0.0.1:1/"]\n'
        'article_pattern = "/a/"\n',
        encoding="utf-8",
    )
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "gwzj.toml").write_text(
        '[profiles."gwzj.learned"]\nextends = "default"\nboilerplate = ["^作者:.*?更新时间:"]\n', encoding="utf-8"
    )
    loaded = load_config(config)
    assert loaded.profiles_path == str(tmp_path / "profiles")
    book = ProfileBook(loaded.profiles)
    assert book.for_site("gwzj", None).name == "gwzj.learned"
    assert book.for_site("gwzj", None, learned=False).name == "default"
    assert book.for_site("gwzj", None).digest != book.get("default").digest  # a new extractor version

    (tmp_path / "profiles" / "bad.toml").write_text('[profiles.x]\nboilerplate = ["(unclosed"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.toml: profiles\.x\.boilerplate"):
        load_config(config)
    (tmp_path / "profiles" / "bad.toml").write_text('[profiles."gwzj.learned"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="defined in both"):
        load_config(config)
    (tmp_path / "profiles" / "bad.toml").write_text("[crawl]\ndelay = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"only \[profiles\.NAME\] tables"):
        load_config(config)


def test_learn_profile_needs_stored_pages(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[archive]\ndatabase_url = "sqlite:///{tmp_path / "a.sqlite3"}"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["learn-profile", "gwzj", "--config", str(config)])
    assert result.exit_code != 0 and "has no pages in the archive" in result.output
