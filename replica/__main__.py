"""``python -m replica``: serve the replica sites until Ctrl-C (no CLI dependencies)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from replica.server import serve
from replica.sites import ALL_SITE_NAMES


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and serve; returns the process exit status."""
    parser = argparse.ArgumentParser(prog="python -m replica", description=__doc__)
    parser.add_argument("--port", type=int, default=8800, help="first port (0: any free ports)")
    parser.add_argument("--articles", type=int, default=30, help="articles per site")
    parser.add_argument("--per-page", type=int, default=10, help="articles per list page")
    parser.add_argument("--page-kb", type=int, default=20, help="pad pages toward this size")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sites", nargs="*", choices=ALL_SITE_NAMES, help="subset of sites to serve")
    args = parser.parse_args(argv)
    try:
        serve(
            port=args.port,
            articles_per_site=args.articles,
            per_page=args.per_page,
            seed=args.seed,
            page_kb=args.page_kb,
            sites=args.sites,
        )
    except (OSError, ValueError) as exc:
        print(f"replica: cannot serve on port {args.port}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
