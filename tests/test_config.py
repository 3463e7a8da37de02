"""Configuration is validated once, with errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from archive.config import load_config, parse_config
from archive.errors import ConfigError

SITE = {
    "name": "demo",
    "base_url": "http://127.0.0.1:9",
    "start_urls": ["http://127.0.0.1:9/list/"],
    "article_pattern": r"/a/\d+\.html$",
}


def test_the_shipped_config_is_valid() -> None:
    config = load_config(Path(__file__).parent.parent / "config.toml")
    assert {s.name for s in config.sites} >= {"wm114", "sanweiyuan"}
    assert config.archive.database_url.startswith("sqlite:///data/")


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        ({"schedule": "every banana"}, r"sites\[0\] \(demo\)\.schedule: 'every banana' is not a schedule"),
        ({"schedule": "61 * * * *"}, r"sites\[0\] \(demo\)\.schedule: '61 \* \* \* \*' is not a valid cron"),
        ({"article_pattern": "(unclosed"}, r"article_pattern: '\(unclosed' is not a valid regular expression"),
        ({"name": "Bad Name"}, r"name: 'Bad Name' is not a valid site name"),
        ({"start_urls": ["ftp://x"]}, r"start_urls: 'ftp://x' is not an absolute http\(s\) URL"),
        ({"colour": "blue"}, r"colour: unknown key"),
    ],
)
def test_bad_site_values_name_the_site_key_and_value(patch: dict[str, object], expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        parse_config({"sites": [{**SITE, **patch}]}, source="cfg.toml")


def test_missing_key_is_named() -> None:
    site = {k: v for k, v in SITE.items() if k != "article_pattern"}
    with pytest.raises(ConfigError, match=r"cfg.toml: sites\[0\] \(demo\)\.article_pattern: required key is missing"):
        parse_config({"sites": [site]}, source="cfg.toml")


def test_duplicate_site_names_are_refused() -> None:
    with pytest.raises(ConfigError, match="used twice"):
        parse_config({"sites": [SITE, SITE]})


def test_database_url_scheme_is_checked() -> None:
    with pytest.raises(ConfigError, match=r"archive.database_url: 'mysql://x' is not a supported database URL"):
        parse_config({"archive": {"database_url": "mysql://x"}})


def test_invalid_toml_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[archive\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(bad)
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")


def test_schedules_parse_to_seconds_or_cron() -> None:
    config = parse_config(
        {"sites": [{**SITE, "schedule": "every 3s"}, {**SITE, "name": "b", "schedule": "*/5 * * * *"}]}
    )
    assert config.sites[0].schedule.interval_seconds == 3
    assert config.sites[1].schedule.cron == "*/5 * * * *"


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ({"archive": {"database_url": "sqlite://"}}, r"archive\.database_url: 'sqlite://' is an in-memory database"),
        (
            {"archive": {"database_url": "sqlite:///:memory:"}},
            r"archive\.database_url: 'sqlite:///:memory:' is an in-memory database",
        ),
        (
            {"archive": {"database_url": "sqlite:///file:x?mode=memory&uri=true"}},
            r"archive\.database_url: .* is an in-memory database",
        ),
        ({"crawl": {"concurrency": "16"}}, r"crawl\.concurrency: Input should be a valid integer"),
        ({"crawl": {"delay": "1.5"}}, r"crawl\.delay: Input should be a valid number"),
        ({"archive": {"keep_raw": "yes"}}, r"archive\.keep_raw: Input should be a valid boolean"),
        ({"sites": [{**SITE, "enabled": "yes"}]}, r"sites\[0\] \(demo\)\.enabled: Input should be a valid boolean"),
        ({"sites": [{**SITE, "max_list_pages": 2.5}]}, r"sites\[0\] \(demo\)\.max_list_pages: Input should be a valid"),
        (
            {"sites": [{**SITE, "article_pattern": ""}]},
            r"sites\[0\] \(demo\)\.article_pattern: '' matches every URL",
        ),
        (
            {"sites": [{**SITE, "article_pattern": ".*"}]},
            r"sites\[0\] \(demo\)\.article_pattern: '\.\*' matches every URL",
        ),
        (
            {"sites": [{**SITE, "pagination_pattern": "(list)?"}]},
            r"sites\[0\] \(demo\)\.pagination_pattern: '\(list\)\?' matches every URL",
        ),
        (
            {"crawl": {"recheck_min_seconds": 7200, "recheck_max_seconds": 3600}},
            r"crawl\.recheck_min_seconds: 7200 is greater than recheck_max_seconds \(3600\)",
        ),
        (
            {"sites": [{**SITE, "start_urls": ["http://127.0.0.2:9/list/"]}]},
            r"sites\[0\] \(demo\)\.start_urls: 'http://127\.0\.0\.2:9/list/' is not on the site's hosts "
            r"\(127\.0\.0\.1:9\); add its host to host_aliases",
        ),
        (
            {"sites": [SITE, {**SITE, "title": "again"}]},
            r"cfg\.toml: sites\[1\] \(demo\)\.name: site name 'demo' is used twice \(also sites\[0\]\)",
        ),
    ],
)
def test_config_that_would_silently_do_nothing_or_too_much_is_refused(doc: dict[str, object], expected: str) -> None:
    with pytest.raises(ConfigError, match=expected) as info:
        parse_config(doc, source="cfg.toml")
    assert ": :" not in str(info.value) and "\n" not in str(info.value)


def test_start_urls_on_a_host_alias_are_fine() -> None:
    site = {**SITE, "start_urls": ["http://m.127.0.0.1:9/list/"], "host_aliases": ["m.127.0.0.1:9"]}
    assert parse_config({"sites": [site]}).sites[0].start_urls == ["http://m.127.0.0.1:9/list/"]


def test_the_validated_config_survives_the_json_trip_to_a_crawl_child() -> None:
    config = parse_config({"sites": [{**SITE, "schedule": "every 3s"}], "crawl": {"delay": 2}})
    again = parse_config(config.model_dump(mode="json"))
    assert again == config.model_copy(update={"source": again.source})
