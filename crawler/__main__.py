"""``python -m crawler``: one crawl child (the daemon's contract is in crawler/child.py).

Reads one JSON CrawlRequest on stdin, writes one JSON CrawlResult as the last
line of stdout, logs structured lines to stderr (configured here: this is a
process edge, like the command line).
"""

from __future__ import annotations

import sys

from archive.logs import install, structured_handler
from crawler.child import CrawlRequest, CrawlResult, run_request


def main() -> int:
    install(structured_handler())
    try:
        request = CrawlRequest.from_json(sys.stdin.read())
    except (ValueError, TypeError) as exc:
        result = CrawlResult({}, f"the crawl request on stdin is not a CrawlRequest document: {exc}", 2)
    else:
        try:
            result = run_request(request)
        except KeyboardInterrupt:
            result = CrawlResult({}, "interrupted", 130)
    sys.stdout.write("\n" + result.to_json() + "\n")
    sys.stdout.flush()
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main())
