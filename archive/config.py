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
DEFAULT_PROFILES_DIR = "profiles"

_SITE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_INTERVAL = re.compile(r"^every\s+(\d+)\s*([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class KeyProblemError(ValueError):
    """A problem a model validator finds with one key (or a pair): its message names that key.

    Pydantic locates field errors itself; a check across fields runs on the model, so it says
    which key it means, and :func:`parse_config` puts that key in the path.
    """

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key
        self.message = message


def _check_regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"{value!r} is not a valid regular expression ({exc})") from None
    return value


def _check_selective(value: str) -> str:
    """A link pattern that matches the empty string matches every URL: every link would be an article."""
    if re.search(value, ""):
        raise ValueError(
            f"{value!r} matches every URL (it matches an empty string); write what only these links have, "
            r"e.g. '/news/\d+\.html$'"
        )
    return value


Regex = Annotated[str, AfterValidator(_check_regex)]
LinkPattern = Annotated[str, AfterValidator(_check_regex), AfterValidator(_check_selective)]


def _netloc(url: str) -> str:
    """``host[:port]`` of a validated http(s) URL, lower-case, default port dropped (as archive.urls does)."""
    scheme, _, rest = url.partition("://")
    netloc = rest.split("/", 1)[0].split("?", 1)[0].rpartition("@")[2].lower()
    default = ":80" if scheme.lower() == "http" else ":443"
    return netloc.removesuffix(default)


_IN_MEMORY = re.compile(r"^sqlite(?:\+\w+)?://(?:/(?::memory:|file::memory:.*|.*[?&]mode=memory.*)?)?$")


class _Model(BaseModel):
    # strict: a string where a number or a boolean belongs ("16", "yes") is an error, not a guess.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class ArchiveSettings(_Model):
    """Where the archive lives and what it keeps."""

    database_url: str = DEFAULT_DATABASE_URL
    keep_raw: bool = True
    """Keep the raw page bytes (zstd, content-addressed); needed for WARC export and re-cleaning."""
    busy_timeout: float = Field(30.0, gt=0, le=3600)
    """SQLite: seconds a write waits for another process's write lock before it counts as a failed write."""
    write_retry_seconds: float = Field(120.0, ge=0, le=86400)
    """How long a crawl pauses and retries when the archive cannot be written, before it stops (run failed)."""
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
        if _IN_MEMORY.match(value):
            raise ValueError(
                f"{value!r} is an in-memory database: a crawl would keep nothing; "
                "use a file, e.g. 'sqlite:///data/archive.sqlite3'"
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
    accept_shrink_after: int = Field(2, ge=1, le=100)
    """Captures in a row with the same much shorter text after which it is stored (change 'shrink')."""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @model_validator(mode="after")
    def _recheck_order(self) -> CrawlSettings:
        if self.recheck_min_seconds > self.recheck_max_seconds:
            raise KeyProblemError(
                "recheck_min_seconds",
                f"{self.recheck_min_seconds} is greater than recheck_max_seconds ({self.recheck_max_seconds}); "
                "the minimum must not exceed the maximum",
            )
        return self


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
    article_pattern: LinkPattern
    """Regex searched in absolute URLs; a link that matches is an article."""
    pagination_pattern: LinkPattern | None = None
    """Regex searched in absolute URLs; a link that matches is another list page."""
    max_list_pages: int = Field(50, ge=1)
    max_articles: int = Field(10_000, ge=1)
    """Articles requested at most per crawl (a bound on a site gone wild, not a sampling knob)."""
    max_articles_per_list: int = Field(500, ge=1)
    """Article links taken at most from one list page; the rest of a page with more are ignored (logged)."""
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
        if isinstance(value, str):
            return Schedule.parse(value)
        if isinstance(value, dict):  # the JSON form a crawl child receives (Config.model_dump(mode="json"))
            return Schedule(**value)
        return value

    @model_validator(mode="after")
    def _start_on_site(self) -> SiteConfig:
        """A start URL on another host would send the crawl off the site (docs/CRAWLING.md, site scope)."""
        hosts = {_netloc(self.base_url), *(alias.strip().lower() for alias in self.host_aliases)}
        for url in self.start_urls:
            if _netloc(url) not in hosts:
                raise KeyProblemError(
                    "start_urls",
                    f"{url!r} is not on the site's hosts ({', '.join(sorted(hosts))}); add its host to host_aliases "
                    "or correct base_url",
                )
        return self


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


class WorksSettings(_Model):
    """How contents are grouped into works (docs/WORKS.md gives the figures behind each default).

    The sketch keys (``shingle_size`` … ``head_anchor_every``) decide what is stored per
    content; changing one needs ``speech-archive works rebuild``. The thresholds decide
    which pairs join; a rebuild applies a new value to what is already matched.
    """

    match_after_crawl: bool = True
    """Match the contents a crawl stored right after its spiders close (in the crawl process)."""
    shingle_size: int = Field(5, ge=2, le=12)
    """Characters per shingle of the matching form."""
    num_perm: int = Field(128, ge=16, le=1024)
    """MinHash permutations of the whole-text signature (stored per content)."""
    bands: int = Field(16, ge=1)
    """LSH bands of the whole-text signature; rows per band = num_perm / bands."""
    head_windows: int = Field(4, ge=0, le=16)
    """Windows at the start of a text (the start and content-defined anchors) with their own signatures."""
    head_window_shingles: int = Field(200, ge=20)
    """Shingles per head window."""
    head_num_perm: int = Field(64, ge=8, le=512)
    """MinHash permutations per head window."""
    head_bands: int = Field(8, ge=1)
    """LSH bands per head window; rows per band = head_num_perm / head_bands."""
    head_anchor_every: int = Field(64, ge=8)
    """Mean distance in shingles between content-defined anchors (1 in N shingles is one)."""
    join_containment: float = Field(0.8, gt=0, le=1)
    """A pair joins when this share of the smaller text's shingles is found in the larger one."""
    min_shingles: int = Field(200, ge=10)
    """Texts with fewer shingles never join (short template texts are contained in too much)."""
    full_copy: float = Field(0.9, gt=0, le=1)
    """A complete member covering and contained in the canonical at this share is a full copy, else a variant."""
    batch_size: int = Field(200, ge=1, le=100_000)
    """Contents matched per transaction."""
    lock_wait_seconds: float = Field(60.0, ge=0, le=3600)
    """How long matching waits for another process that is matching; then it leaves the contents for the next run."""

    @model_validator(mode="after")
    def _bands_divide(self) -> WorksSettings:
        pairs = ((self.num_perm, self.bands, "bands"), (self.head_num_perm, self.head_bands, "head_bands"))
        for perms, bands, name in pairs:
            if bands > perms or perms % bands:
                raise ValueError(f"{name} = {bands} must divide the permutations ({perms}) evenly")
        return self


class WebSettings(_Model):
    """The read-only archive browser (`speech-archive serve`, and the daemon's listen address)."""

    listen: str = "127.0.0.1:8080"
    """Where `serve` listens; an address beyond localhost needs ``token``."""
    token: str | None = Field(None, min_length=16)
    """Shared secret for browsing from beyond localhost: a bearer header, or a cookie after the login page."""
    in_daemon: bool = True
    """Serve the browser beside ``/healthz`` and ``/metrics`` on ``[daemon] listen``."""
    max_connections: int = Field(1000, ge=1, le=60_000)
    """Connections open at once (uvicorn's ``limit_concurrency``); more are answered 503 at once."""
    head_timeout: float = Field(5.0, gt=0, le=300)
    """Seconds a new connection may take to send a whole request head before it is closed (slow clients)."""
    keep_alive_timeout: int = Field(5, ge=1, le=300)
    """Seconds an idle keep-alive connection is kept open."""
    page_size: int = Field(50, ge=10, le=500)
    """Rows per page of the page lists, runs and search results."""


class Config(_Model):
    """The whole validated configuration."""

    archive: ArchiveSettings = ArchiveSettings()
    crawl: CrawlSettings = CrawlSettings()
    daemon: DaemonSettings = DaemonSettings()
    works: WorksSettings = WorksSettings()
    web: WebSettings = WebSettings()
    sites: list[SiteConfig] = []
    profiles: dict[str, ProfileConfig] = {}
    profiles_dir: str = DEFAULT_PROFILES_DIR
    """Folder, relative to the config file, whose ``*.toml`` files add ``[profiles.*]`` (learned profiles)."""
    source: str = Field("<defaults>", exclude=True)
    profiles_path: str | None = Field(None, exclude=True)
    """``profiles_dir`` resolved against the config file's folder (None without a config file)."""

    @model_validator(mode="after")
    def _unique_sites(self) -> Config:
        seen: dict[str, int] = {}
        for index, site in enumerate(self.sites):
            if site.name in seen:
                raise KeyProblemError(
                    f"sites[{index}] ({site.name}).name",
                    f"site name {site.name!r} is used twice (also sites[{seen[site.name]}]); site names must be unique",
                )
            seen[site.name] = index
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


def parse_config(data: dict[str, Any], source: str = "<config>", profiles_path: str | None = None) -> Config:
    """Validate a decoded TOML document; raise ConfigError naming the key."""
    try:
        return Config.model_validate({**data, "source": source, "profiles_path": profiles_path})
    except ValidationError as exc:
        err = exc.errors()[0]
        where = _location(tuple(err["loc"]), data)
        msg = str(err["msg"]).removeprefix("Value error, ")
        problem = (err.get("ctx") or {}).get("error")
        if isinstance(problem, KeyProblemError):
            where = f"{where}.{problem.key}" if where else problem.key
            msg = problem.message
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
    folder = data.get("profiles_dir", DEFAULT_PROFILES_DIR)
    if not isinstance(folder, str) or not folder:
        raise ConfigError(f"{path}: profiles_dir: give a folder name (default {DEFAULT_PROFILES_DIR!r})")
    profiles_path = path.parent / folder
    data = _with_profile_files(data, profiles_path, path)
    return parse_config(data, source=str(path), profiles_path=str(profiles_path))


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read profile file {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def _with_profile_files(data: dict[str, Any], folder: Path, config_path: Path) -> dict[str, Any]:
    """The config with the ``[profiles.*]`` of every ``*.toml`` in ``folder`` added (each checked on its own)."""
    if not folder.is_dir():
        return data
    profiles = dict(data.get("profiles") or {})
    origin = dict.fromkeys(profiles, str(config_path))
    for file in sorted(folder.glob("*.toml")):
        extra = _read_toml(file)
        others = sorted(set(extra) - {"profiles"})
        if others:
            raise ConfigError(f"{file}: only [profiles.NAME] tables belong in a profiles file, not {others[0]!r}")
        parse_config({"profiles": extra.get("profiles", {})}, source=str(file))  # errors name this file
        for name, table in (extra.get("profiles") or {}).items():
            if name in origin:
                raise ConfigError(f"profile {name!r} is defined in both {origin[name]} and {file}; keep one")
            profiles[name], origin[name] = table, str(file)
    return {**data, "profiles": profiles}
