"""Cleaning: one raw page in, the text and metadata a version stores out.

The stage's public face; ``core`` is its driver (decode -> drop noise ->
metadata -> body -> profile rules -> quality gate), and ``normalize`` gives the
content hash the next stage deduplicates by. Nothing here touches storage or
Scrapy: cleaning is a pure function of (raw bytes, profile).
"""

from archive.cleaning.core import clean, extract_html, extractor_version
from archive.cleaning.decode import decode_html
from archive.cleaning.metadata import SHANGHAI
from archive.cleaning.normalize import content_hash, normalise_text
from archive.cleaning.profiles import Profile, ProfileBook, check_profiles, page_identity
from archive.cleaning.result import EXTRACTOR_VERSION, GAP_MARKER, Extraction, Gap

__all__ = [
    "EXTRACTOR_VERSION",
    "GAP_MARKER",
    "SHANGHAI",
    "Extraction",
    "Gap",
    "Profile",
    "ProfileBook",
    "check_profiles",
    "clean",
    "content_hash",
    "decode_html",
    "extract_html",
    "extractor_version",
    "normalise_text",
    "page_identity",
]
