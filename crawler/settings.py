"""Scrapy settings built from the validated config: the one place they are mapped."""

from __future__ import annotations

import logging
from typing import Any

from archive.config import Config, SiteConfig

log = logging.getLogger(__name__)


def scrapy_settings(config: Config) -> dict[str, Any]:
    """Process-wide Scrapy settings for a crawl."""
    crawl = config.crawl
    return {
        "BOT_NAME": "speech-archive",
        "USER_AGENT": crawl.user_agent,
        "ROBOTSTXT_OBEY": crawl.obey_robots,
        "CONCURRENT_REQUESTS": crawl.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": crawl.concurrency_per_domain,
        "DOWNLOAD_DELAY": crawl.delay,
        "DOWNLOAD_DELAY_JITTER": 0.5,
        "LOG_INSTALL_ROOT_HANDLER": False,
        "DOWNLOAD_TIMEOUT": crawl.timeout,
        "DNS_TIMEOUT": min(crawl.timeout, 20),
        "RETRY_ENABLED": crawl.retries > 0,
        "RETRY_TIMES": crawl.retries,
        "AUTOTHROTTLE_ENABLED": crawl.autothrottle and crawl.delay > 0,
        "AUTOTHROTTLE_START_DELAY": max(crawl.delay, 0.1),
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(crawl.concurrency_per_domain),
        "DOWNLOAD_MAXSIZE": crawl.max_page_bytes,
        "DOWNLOAD_WARNSIZE": min(crawl.max_page_bytes, 2_000_000),
        "REDIRECT_MAX_TIMES": 5,
        "RETRY_GIVE_UP_LOG_LEVEL": "WARNING",
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_ENABLED": True,
        "LOG_LEVEL": "WARNING" if crawl.log_level == "INFO" else crawl.log_level,
        "ITEM_PIPELINES": {"crawler.pipeline.ArchivePipeline": 300},
        "DOWNLOADER_MIDDLEWARES": {
            # Our site scope replaces Scrapy's domain filter: first, before robots.txt and the network.
            "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
            "crawler.scope.ScopeMiddleware": 50,
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            "crawler.retry.BackoffRetryMiddleware": 550,
        },
        "SPEECH_ARCHIVE_RETRY_BACKOFF": crawl.retry_backoff,
        "SPEECH_ARCHIVE_MAX_RETRY_AFTER": crawl.max_retry_after,
        "CONCURRENT_ITEMS": 32,
    }


def site_settings(config: Config, site: SiteConfig) -> dict[str, Any]:
    """Per-site overrides (robots.txt), applied through the site spider's custom_settings."""
    out: dict[str, Any] = {}
    if site.obey_robots is not None and site.obey_robots != config.crawl.obey_robots:
        out["ROBOTSTXT_OBEY"] = site.obey_robots
        if not site.obey_robots:
            log.warning("site %s: robots.txt is NOT obeyed (sites.obey_robots = false in the config)", site.name)
    return out
