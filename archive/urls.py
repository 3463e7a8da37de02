"""One article, one page: URL canonicalisation shared by the crawler and the CLI.

w3lib does the RFC work (percent-encoding, query order); on top we drop what
these sites and their referrers add without changing the article: fragments,
tracking parameters, a trailing ``index.html``, and credentials (``user:pw@``):
a page URL never carries a password into the archive or an export.
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


def url_netloc(url: str) -> str | None:
    """``host[:port]`` of an absolute http(s) URL, lower-case, without credentials or a default port.

    None for anything else (another scheme, no host, a port that is not a number): such a
    URL belongs to no site.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    default = 80 if parts.scheme.lower() == "http" else 443
    host = parts.hostname.lower()
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    return host if port is None or port == default else f"{host}:{port}"


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
    netloc = parts.netloc.rpartition("@")[2].lower()
    if parts.scheme == "http" and netloc.endswith(":80"):
        netloc = netloc[:-3]
    if parts.scheme == "https" and netloc.endswith(":443"):
        netloc = netloc[:-4]
    rebuilt = urlunsplit((parts.scheme.lower(), netloc, path, urlencode(query), ""))
    return canonicalize_url(rebuilt, keep_fragments=False)
