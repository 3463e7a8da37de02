"""`speech-archive extract`: the cleaner, seen from the command line.

It prints exactly what a crawl would store for a saved page or a URL (the same
``clean`` with the same profile and site title), so a profile can be debugged on
one page, and a new site checked before it is enabled.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click

from archive.cleaning import SHANGHAI, Extraction, Profile, ProfileBook, clean, content_hash, decode_html, page_identity
from archive.config import DEFAULT_CONFIG_PATH, Config, SiteConfig
from archive.errors import CrawlError, NotFoundError, UsageError
from speech_archive.console import config_option, err_console, get_config, resolve_config_path
from speech_archive.progress import Progress

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Choice:
    """The profile a page is cleaned with, and why."""

    profile: Profile
    site: SiteConfig | None
    how: str


def load_config_or_defaults(config_path: Path | None) -> Config:
    """The named config (command, group or environment), else ./config.toml, else the built-in defaults.

    ``extract`` needs no archive, so it also works in a directory without a config file.
    """
    if resolve_config_path(config_path) == DEFAULT_CONFIG_PATH and not DEFAULT_CONFIG_PATH.exists():
        return Config()
    return get_config(config_path)


def _site_by_url(config: Config, url: str) -> SiteConfig | None:
    """The configured site a URL belongs to: same host and port as its base_url, or one of its host aliases."""
    parts = urlsplit(url)
    netloc, host = parts.netloc.lower(), (parts.hostname or "").lower()
    for site in config.sites:
        if netloc and urlsplit(site.base_url).netloc.lower() == netloc:
            return site
    for site in config.sites:
        if host and host in {alias.lower() for alias in site.host_aliases}:
            return site
    return None


def choose_profile(book: ProfileBook, config: Config, *, site_name: str | None, url: str | None, html: str) -> Choice:
    """--site, else the URL's site, else what the page says of itself, else the default profile."""
    if site_name:
        site = next((s for s in config.sites if s.name == site_name), None)
        if site is not None:
            return Choice(book.for_site(site.name, site.profile), site, "--site")
        if site_name in book:
            return Choice(book.get(site_name), None, "--site (a profile)")
        known = ", ".join([s.name for s in config.sites] + book.names())
        raise UsageError(f"--site {site_name!r} is neither a configured site nor a profile; known: {known}")
    site = _site_by_url(config, url) if url else None
    if site is not None:
        return Choice(book.for_site(site.name, site.profile), site, "URL")
    identity = page_identity(html)
    for own_url in identity.urls:
        site = _site_by_url(config, own_url)
        if site is not None:
            return Choice(book.for_site(site.name, site.profile), site, "canonical link")
    for site in config.sites:
        if site.title and (site.title in identity.title or site.title in identity.footer):
            return Choice(book.for_site(site.name, site.profile), site, "page title/footer")
    profile = book.recognise(html)
    if profile.name != "default":
        site = next((s for s in config.sites if book.for_site(s.name, s.profile).name == profile.name), None)
        return Choice(profile, site, "page title/footer")
    return Choice(profile, None, "default")


def inflate(body: bytes, encoding: str, limit: int, url: str) -> bytes:
    """A compressed body, decompressed to at most ``limit`` bytes of output (a gzip bomb stops there).

    ``gzip.decompress`` has no output bound: 1 MB of gzip can inflate to gigabytes.
    """
    coding = encoding.strip().lower()
    if coding in ("", "identity"):
        return body
    if coding not in ("gzip", "x-gzip", "deflate"):
        raise CrawlError(f"cannot fetch {url}: the server sent Content-Encoding {encoding!r}, which is not supported")
    # 47: a gzip or zlib header; "deflate" is zlib by the RFC, but some servers send it raw (-15).
    for wbits in (47,) if coding != "deflate" else (15, -15):
        inflater = zlib.decompressobj(wbits=wbits)
        try:
            out = inflater.decompress(body, limit + 1)
            break
        except zlib.error as exc:
            error = exc
    else:
        raise CrawlError(f"cannot fetch {url}: the {coding} body is corrupt ({error})") from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise CrawlError(
            f"cannot fetch {url}: the body inflates past [crawl] max_page_bytes ({limit} bytes); "
            "a crawl would store a fetch error"
        )
    return out


def fetch(url: str, config: Config) -> tuple[bytes, str | None]:
    """One GET with the configured user agent and timeout; (body, Content-Type); at most max_page_bytes either way."""
    request = urllib.request.Request(url, headers={"User-Agent": config.crawl.user_agent, "Accept-Encoding": "gzip"})
    limit = config.crawl.max_page_bytes
    try:
        with urllib.request.urlopen(request, timeout=config.crawl.timeout) as response:
            body = response.read(limit + 1)
            if len(body) > limit:
                raise CrawlError(
                    f"cannot fetch {url}: the response is larger than [crawl] max_page_bytes ({limit} bytes); "
                    "a crawl would store a fetch error"
                )
            body = inflate(body, response.headers.get("Content-Encoding", ""), limit, url)
            return body, response.headers.get("Content-Type")
    except urllib.error.HTTPError as exc:
        raise CrawlError(f"cannot fetch {url}: HTTP {exc.code}; a crawl would store a fetch error") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise CrawlError(f"cannot fetch {url}: {reason}") from None


def read_input(item: str, config: Config) -> tuple[bytes, str | None, str | None]:
    """(body, Content-Type, URL) of a URL or a saved file."""
    if item.startswith(("http://", "https://")):
        body, content_type = fetch(item, config)
        return body, content_type, item
    path = Path(item)
    if not path.is_file():
        raise NotFoundError(f"{item}: no such file; give a saved page (HTML) or an http(s) URL")
    try:
        return path.read_bytes(), None, None
    except OSError as exc:
        raise NotFoundError(f"{item}: cannot read it ({exc.strerror})") from None


def record(item: str, url: str | None, choice: Choice, ext: Extraction) -> dict[str, Any]:
    """The JSON object for one page: the stored text and every metadata field."""
    published = ext.published_at.astimezone(SHANGHAI).isoformat() if ext.published_at else None
    return {
        "input": item,
        "url": url,
        "site": choice.site.name if choice.site else None,
        "profile": choice.profile.name,
        "profile_from": choice.how,
        "outcome": ext.outcome,
        "reason": ext.reason,
        "text": ext.text,
        "content_hash": content_hash(ext.text) if ext.outcome == "ok" else None,
        **ext.version_fields(),
        "published_at": published,
        "encoding": ext.encoding,
        "body_from": ext.method,
        "body_reason": ext.body_reason,
    }


def _human(rec: dict[str, Any]) -> str:
    gaps = ", ".join(f"{g['omitted_chars'] or '?'} chars at {g['offset']}" for g in rec["gaps"]) or "none"
    rows = [
        ("outcome", rec["outcome"] + (f": {rec['reason']}" if rec["reason"] else "")),
        ("site / profile", f"{rec['site'] or '-'} / {rec['profile']} (from {rec['profile_from']})"),
        ("encoding / body", f"{rec['encoding']} / {rec['body_from']}: {rec['body_reason'] or '-'}"),
        ("title", rec["title"]),
        ("published", rec["published_at"]),
        ("category", " > ".join(rec["category"])),
        ("source", rec["source"]),
        ("outline", " | ".join(rec["outline"])),
        ("partial", f"{'yes' if rec['partial'] else 'no'}; gaps: {gaps}"),
        ("declared / shown", f"{rec['declared_chars']} / {rec['shown_chars']}"),
        ("masked / chars", f"{rec['masked_count']} / {rec['char_count']}"),
        ("speaker", f"{rec['speaker']} | occasion: {rec['occasion']} | genre: {rec['genre']}"),
        ("extractor", rec["extractor_version"]),
    ]
    head = "\n".join(f"{k:<17} {v if v not in (None, '') else '-'}" for k, v in rows)
    return f"== {rec['input']}\n{head}\n{'-' * 40}\n{rec['text']}\n"


@click.command("extract")
@click.argument("inputs", nargs=-1, required=True, metavar="PATH_OR_URL...")
@click.option("--site", "site_name", metavar="NAME", help="Clean as this configured site (or profile).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per page, one per line, in the order given.")
@config_option
def extract(inputs: tuple[str, ...], site_name: str | None, as_json: bool, config_path: Path | None) -> None:
    """Print what a crawl would store for each saved page or URL: cleaned text and metadata."""
    config = load_config_or_defaults(config_path)
    book = ProfileBook(config.profiles)
    for item in inputs:  # a typo in the fifth path should not come after four pages of output
        if not item.startswith(("http://", "https://")) and not Path(item).is_file():
            raise NotFoundError(f"{item}: no such file; give a saved page (HTML) or an http(s) URL")
    # A bar only for a batch written elsewhere (--json to a file or pipe); human output is the progress.
    quiet = len(inputs) < 2 or not as_json
    with Progress("extract", err_console, unit="pages", total=len(inputs), quiet=quiet) as progress:
        for item in inputs:
            body, content_type, url = read_input(item, config)
            html, _encoding = decode_html(body, content_type)
            choice = choose_profile(book, config, site_name=site_name, url=url, html=html)
            title = choice.site.title if choice.site and choice.site.title else None
            ext = clean(body, choice.profile, content_type=content_type, site_title=title, url=url or item)
            rec = record(item, url, choice, ext)
            click.echo(json.dumps(rec, ensure_ascii=False) if as_json else _human(rec))
            progress.advance()
