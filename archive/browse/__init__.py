"""Browse: the read-only web view of the archive (the end of crawl → clean → store → … → browse).

``create_app`` builds one Starlette application over a :class:`ReadOnlyArchive`
(``db``): sites and their crawl health (``sites``), page lists, histories,
texts and raw captures (``pages``, ``textview``), character diffs (``diff``),
full-text search (``search``, over the index archive.storage keeps), runs.
Every view is HTML (Jinja2, ``templates/``; the vendored htmx in ``static/``)
or the same data as JSON (``respond``). ``guard`` adds the safety headers and
the token; ``server`` runs it under uvicorn. Nothing here writes the archive,
and nothing imports Scrapy, the crawler, the scheduler or the command line.
"""

from archive.browse.app import create_app
from archive.browse.db import ReadOnlyArchive
from archive.browse.options import BrowseOptions
from archive.browse.server import WebServer, bind, is_local

__all__ = ["BrowseOptions", "ReadOnlyArchive", "WebServer", "bind", "create_app", "is_local"]
