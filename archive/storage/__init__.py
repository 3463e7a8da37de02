"""Storage: the versioned archive in SQLAlchemy (SQLite or PostgreSQL).

``engine`` opens (and migrates) an archive; ``ingest`` records one processed
page as a capture (+ version + content) in the caller's transaction (a crawl's
writer batches pages; ``capture`` stores one page alone); ``versions`` is the
one writer of versions (crawl and reclean) and the shrink rule; ``rawstore``
keeps raw pages content-addressed; ``runs`` and ``leases`` record who crawls
what; ``queries`` is the read side of the command line; ``reclean`` re-reads
stored raw pages with the current cleaner. Nothing here imports Scrapy.
"""

from archive.storage.engine import Archive, make_engine
from archive.storage.ingest import Ingested, RecheckPolicy, ingest

__all__ = ["Archive", "Ingested", "RecheckPolicy", "ingest", "make_engine"]
