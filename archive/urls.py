"""One article, one page: URL canonicalisation shared by the crawler and the CLI.

w3lib does the RFC work (percent-encoding, query order); on top we drop what
these sites and their referrers add without changing the article: fragments,
tracking parameters, and a trailing ``index.html``.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

TRACKING_PARAMS = frozenset(
    {
        "from",
        "spm",
        "source",
        "src",
        "ref",
        "referer",
        "share",
        "timestamp",
        "t",
        "fbclid",
        "gclid",
        "isappinstalled",
        "scene",
    }
)


def canonical_url(url: str) -> str:
    """The canonical form under which a page is stored."""
    parts = urlsplit(url.strip())
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in TRACKING_PARAMS and not k.lower().startswith("utm_")
    ]
    path = parts.path or "/"
    for index in ("index.html", "index.htm", "index.shtml", "index.php"):
        if path.endswith("/" + index):
            path = path[: -len(index)]
    netloc = parts.netloc.lower()
    if parts.scheme == "http" and netloc.endswith(":80"):
        netloc = netloc[:-3]
    if parts.scheme == "https" and netloc.endswith(":443"):
        netloc = netloc[:-4]
    rebuilt = urlunsplit((parts.scheme.lower(), netloc, path, urlencode(query), ""))
    return canonicalize_url(rebuilt, keep_fragments=False)
