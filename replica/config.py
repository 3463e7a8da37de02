"""A speech-archive config document (a dict, ready for TOML) whose sites are the replica's.

Kept with the replica so tests, benchmarks and ``speech-archive replica
--write-config`` build the same configuration.
"""

from __future__ import annotations

from typing import Any

# Body hints for the replica's markup: they narrow the page before trafilatura (faster, and
# exact); the built-in profiles carry none because the live sites' markup is unverified.
REPLICA_BODY_HINTS = {
    "wm114": "//div[@id='content']",
    "zhongyi": "//div[@class='article']/div[@class='content']",
    "lixin": "//div[@class='article']/div[@class='content']",
    "biganzi": "//div[@class='doc-text']",
    "sanweiyuan": "//div[@class='left']/div[@class='content']",
}


def replica_config(specs: list[dict[str, Any]], database_url: str, *, delay: float = 0.0) -> dict[str, Any]:
    """A config document whose [[sites]] are the replica's sites on 127.0.0.1."""
    names = [spec["name"] for spec in specs]
    return {
        "profiles": {name: {"body_xpath": REPLICA_BODY_HINTS[name]} for name in names if name in REPLICA_BODY_HINTS},
        "archive": {"database_url": database_url},
        "crawl": {"delay": delay, "obey_robots": True, "concurrency_per_domain": 8, "retries": 1, "timeout": 10},
        "sites": [
            {
                "name": spec["name"],
                "title": spec["title"],
                "base_url": spec["base_url"],
                "start_urls": list(spec["start_urls"]),
                "article_pattern": spec["article_pattern"],
                "pagination_pattern": spec["pagination_pattern"],
                "schedule": "every 1h",
            }
            for spec in specs
        ],
    }
