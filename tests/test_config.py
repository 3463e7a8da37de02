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
