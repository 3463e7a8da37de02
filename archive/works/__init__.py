"""Works: the contents that are copies of one speech, linked (never merged), the most complete copy canonical.

A stage beside cleaning and storage (docs/WORKS.md). Contents are matched on a
normalised form (``textform``): character shingles, a MinHash signature and
LSH band buckets (``sketch``) kept in the archive database (``store``), an
exact containment check on the candidates, then star clustering around the
canonical copy (``cluster``). ``match`` drives it after each crawl and for
``works rebuild``; ``fills`` records which copies print the names others mask;
``queries`` is the read side of ``works``, ``work``, ``history``/``show`` and
``export --works``.
"""

from archive.works.match import MatchReport, RebuildReport, match_pending, rebuild

__all__ = ["MatchReport", "RebuildReport", "match_pending", "rebuild"]
