"""Typed configuration, parsed and validated once at the edge.

The command line calls :func:`load_config`; everything below it receives the
resulting frozen objects and never reads files, globals or the environment.
All defaults live here (like Scrapy's ``default_settings``), so the shipped
``config.toml`` only has to say what differs.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from archive.errors import ConfigError

DEFAULT_CONFIG_PATH = Path("config.toml")
DEFAULT_DATABASE_URL = "sqlite:///data/archive.sqlite3"

_SITE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_INTERVAL = re.compile(r"^every\s+(\d+)\s*([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _check_regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"{value!r} is not a valid regular expression ({exc})") from None
    return value


Regex = Annotated[str, AfterValidator(_check_regex)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ArchiveSettings(_Model):
    """Where the archive lives and what it keeps."""

    database_url: str = DEFAULT_DATABASE_URL
    keep_raw: bool = True
    """Keep the raw page bytes (zstd, content-addressed); needed for WARC export and re-cleaning."""
    dictionary_min_pages: int = Field(200, ge=0)
    """A crawl trains a site's zstd dictionary once the site has this many stored raw pages (and again
    each time that number has doubled since); 0 = only ``speech-archive train-dict`` trains."""

    @field_validator("dictionary_min_pages")
    @classmethod
    def _enough_pages(cls, value: int) -> int:
        if 0 < value < 20:
            raise ValueError(f"{value} pages train no useful dictionary; use 20 or more, or 0 to train only by hand")
        return value

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", value):
            raise ValueError(
                f"{value!r} is not a supported database URL; use 'sqlite:///path/archive.sqlite3' "
                "or 'postgresql+psycopg://user:pass@host/db'"
            )
        return value


class CrawlSettings(_Model):
    """Politeness and transport defaults shared by every site."""

    user_agent: str = "speech-archive/0.1 (+https://github.com/speech-archive/speech-archive; archive@example.org)"
    concurrency: int = Field(16, ge=1, le=256)
    concurrency_per_domain: int = Field(2, ge=1, le=64)
    delay: float = Field(1.0, ge=0, le=600)
    """Seconds between two requests to the same domain (randomised 0.5–1.5×, as Scrapy does)."""
    timeout: float = Field(30.0, gt=0, le=600)
    retries: int = Field(2, ge=0, le=20)
    obey_robots: bool = True
    autothrottle: bool = True
    max_page_bytes: int = Field(10_000_000, ge=10_000)
    clean_workers: int | None = Field(None, ge=0, le=64)
    """Processes that clean pages beside the crawl; None = one per core, 0 = clean in-line."""
    retry_backoff: float = Field(2.0, ge=0, le=600)
    """Seconds before the first retry; doubled for each further retry."""
    max_retry_after: float = Field(300.0, ge=0, le=86400)
    """Longest Retry-After (429/503) honoured; a longer one gives the page up for this run."""
    stop_after_known_pages: int = Field(2, ge=1)
    """Incremental crawls stop walking a site's list after this many pages holding only known articles."""
    recheck_min_seconds: int = Field(86400, ge=1)
    """A known page is re-checked this long after it last changed (or was first seen)."""
    recheck_max_seconds: int = Field(60 * 86400, ge=1)
    """The re-check interval of an unchanged page doubles up to this cap."""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class Schedule(_Model):
    """When the daemon crawls a site: a fixed interval or a cron expression."""

    expression: str
    interval_seconds: int | None = None
    cron: str | None = None

    @classmethod
    def parse(cls, text: str) -> Schedule:
        """Accept ``every 6h`` / ``every 30m`` / ``every 3s`` or a 5-field crontab line."""
        text = text.strip()
        match = _INTERVAL.match(text)
        if match:
            seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
            if seconds <= 0:
                raise ValueError(f"{text!r}: the interval must be positive")
            return cls(expression=text, interval_seconds=seconds)
        if len(text.split()) == 5:
            from apscheduler.triggers.cron import CronTrigger  # validation only

            try:
                CronTrigger.from_crontab(text, timezone="Asia/Shanghai")
            except ValueError as exc:
                raise ValueError(f"{text!r} is not a valid cron expression ({exc})") from None
            return cls(expression=text, cron=text)
        raise ValueError(f"{text!r} is not a schedule; use 'every 6h' (s/m/h/d) or a cron line like '0 */6 * * *'")


class SiteConfig(_Model):
    """One configured source; a site is data, not a spider subclass."""

    name: str
    title: str = ""
    base_url: str
    start_urls: list[str] = Field(min_length=1)
    article_pattern: Regex
    """Regex searched in absolute URLs; a link that matches is an article."""
    pagination_pattern: Regex | None = None
    """Regex searched in absolute URLs; a link that matches is another list page."""
    max_list_pages: int = Field(50, ge=1)
    max_articles: int | None = Field(None, ge=1)
    schedule: Schedule = Field(default_factory=lambda: Schedule.parse("every 6h"))
    jitter: int = Field(60, ge=0)
    profile: str | None = None
    """Name of a cleaning profile; default: the site name if such a profile exists."""
    obey_robots: bool | None = None
    host_aliases: list[str] = []
    """Other host names of the site (mobile hosts, old domains), mapped to base_url's host."""
    enabled: bool = True

    @field_validator("name")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _SITE_NAME.match(value):
            raise ValueError(f"{value!r} is not a valid site name; use lower-case letters, digits, '-' or '_'")
        return value

    @field_validator("base_url", "start_urls")
    @classmethod
    def _http(cls, value: str | list[str]) -> str | list[str]:
        for url in [value] if isinstance(value, str) else value:
            if not re.match(r"^https?://[^/\s]+", url):
                raise ValueError(f"{url!r} is not an absolute http(s) URL")
        return value

    @field_validator("schedule", mode="before")
    @classmethod
    def _schedule(cls, value: Any) -> Any:
        return Schedule.parse(value) if isinstance(value, str) else value


class ProfileConfig(_Model):
    """How to clean one site or CMS template family (see archive.cleaning.profiles and docs/CLEANING.md)."""

    extends: str | None = None
    boilerplate: list[Regex] = []
    """Regexes; a text line that matches one is dropped."""
    truncate_after: list[Regex] = []
    """Regexes; the text is cut at the first line that matches (footers, disclaimers)."""
    body_xpath: str | None = None
    """Where the body is; when set and it matches nothing, the page is a layout change (extraction_failed)."""
    body_css: str | None = None
    title_xpath: str | None = None
    title_css: str | None = None
    drop_xpath: list[str] = []
    """Elements removed before anything else (hidden anti-copy noise, in-body ads)."""
    drop_css: list[str] = []
    title_strip: list[Regex] = []
    """Regexes removed from the title (a file suffix, VIP badges)."""
    date_patterns: list[Regex] = []
    date_fallback: bool | None = None
    """Ask htmldate when no date pattern matched (off for sites that print no date: it only guesses)."""
    breadcrumb_pattern: Regex | None = None
    source_pattern: Regex | None = None
    gap_patterns: list[Regex] = []
    """Paywall gaps inside the text; group ``omitted`` (or the first group) is the number of characters left out."""
    tail_patterns: list[Regex] = []
    """A cut-off tail; the text ends before it. Groups ``declared`` and ``shown`` are the full and shown lengths."""
    cut_patterns: list[Regex] = []
    """Searched at the very end of the text: a preview cut off mid-sentence (``持...``)."""
    recognise: list[Regex] = []
    """Regexes searched in a page's HTML to recognise the profile when no site is named."""
    min_chars: int | None = Field(None, ge=0)

    @field_validator("body_xpath", "title_xpath", "drop_xpath")
    @classmethod
    def _xpath(cls, value: str | list[str] | None) -> str | list[str] | None:
        from lxml import etree

        for expr in [value] if isinstance(value, str) else value or []:
            try:
                if expr:
                    etree.XPath(expr)
            except etree.XPathSyntaxError as exc:
                raise ValueError(f"{expr!r} is not a valid XPath expression ({exc})") from None
        return value

    @field_validator("body_css", "title_css", "drop_css")
    @classmethod
    def _css(cls, value: str | list[str] | None) -> str | list[str] | None:
        from cssselect import GenericTranslator, SelectorError

        for expr in [value] if isinstance(value, str) else value or []:
            try:
                if expr:
                    GenericTranslator().css_to_xpath(expr)
            except SelectorError as exc:
                raise ValueError(f"{expr!r} is not a valid CSS selector ({exc})") from None
        return value


class DaemonSettings(_Model):
    """The always-on scheduler."""

    listen: str = "127.0.0.1:9464"
    crawl_timeout: int = Field(6 * 3600, ge=1)
    misfire_grace: int = Field(3600, ge=1)
    shutdown_grace: int = Field(30, ge=0)
    lease_seconds: int = Field(900, ge=5)


class Config(_Model):
    """The whole validated configuration."""

    archive: ArchiveSettings = ArchiveSettings()
    crawl: CrawlSettings = CrawlSettings()
    daemon: DaemonSettings = DaemonSettings()
    sites: list[SiteConfig] = []
    profiles: dict[str, ProfileConfig] = {}
    source: str = Field("<defaults>", exclude=True)

    @model_validator(mode="after")
    def _unique_sites(self) -> Config:
        seen: set[str] = set()
        for site in self.sites:
            if site.name in seen:
                raise ValueError(f"site name {site.name!r} is used twice; site names must be unique")
            seen.add(site.name)
        return self

    def site(self, name: str) -> SiteConfig:
        """Look a site up by name, with an error that lists the known ones."""
        for site in self.sites:
            if site.name == name:
                return site
        known = ", ".join(s.name for s in self.sites) or "none configured"
        from archive.errors import NotFoundError

        raise NotFoundError(f"unknown site {name!r} in {self.source}; known sites: {known}")


def _location(loc: tuple[int | str, ...], data: dict[str, Any]) -> str:
    """Render a pydantic location as a TOML-ish key path, naming sites by name."""
    parts: list[str] = []
    node: Any = data
    for item in loc:
        if isinstance(item, int):
            name = (
                node[item].get("name")
                if isinstance(node, list) and item < len(node) and isinstance(node[item], dict)
                else None
            )
            parts[-1] = f"{parts[-1]}[{item}]" + (f" ({name})" if name else "") if parts else str(item)
        else:
            parts.append(str(item))
        try:
            node = node[item]
        except (KeyError, IndexError, TypeError):
            node = None
    return ".".join(parts)


def parse_config(data: dict[str, Any], source: str = "<config>") -> Config:
    """Validate a decoded TOML document; raise ConfigError naming the key."""
    try:
        return Config.model_validate({**data, "source": source})
    except ValidationError as exc:
        err = exc.errors()[0]
        where = _location(tuple(err["loc"]), data)
        msg = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling; see docs/CONFIG.md for the keys)"
        elif err["type"] == "missing":
            msg = "required key is missing"
        extra = f" (and {len(exc.errors()) - 1} more problems)" if len(exc.errors()) > 1 else ""
        raise ConfigError(f"{source}: {where}: {msg}{extra}") from None


def load_config(path: Path) -> Config:
    """Read and validate a config file."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"config file {path} not found; pass --config PATH or set SPEECH_ARCHIVE_CONFIG") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text; save the config file as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    return parse_config(data, source=str(path))
