"""Raw pages: compressed, content-addressed, stored once per SHA-256.

zstd level 3 costs ~0.25 ms on a 50 KB page (ratio ~2.9 on these sites), cheap
enough to keep every distinct raw page, which WARC export and re-cleaning need.
A site's pages share most of their bytes (the CMS template, the sidebars), so
once a site has a zstd dictionary trained on its stored pages
(archive/storage/dictionaries.py), new pages are compressed with it, at the
same level and about the same cost, to a fraction of the plain size. Each
stored page names the dictionary it needs (``raw_pages.dict_id``), so pages
written with older dictionaries, or none, stay readable.

Packing (hash + compress) is separate from storing so that it runs in the
cleaning workers, off the crawl's reactor thread.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from typing import Any

import zstandard
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from archive.errors import ArchiveError
from archive.records import PackedRaw
from archive.storage.models import RawDictionary, RawPage, utcnow

LEVEL = 3


def bytes_hash(data: bytes) -> str:
    """SHA-256 (hex) of raw bytes: the address of a stored raw page."""
    return hashlib.sha256(data).hexdigest()


def compress(data: bytes) -> bytes:
    return zstandard.ZstdCompressor(level=LEVEL).compress(data)


def decompress(data: bytes) -> bytes:
    return zstandard.ZstdDecompressor().decompress(data)


@dataclass(frozen=True)
class Dictionary:
    """One stored dictionary as the workers get it: its archive id and its bytes (plain, picklable)."""

    id: int
    data: bytes


class Packer:
    """Compresses bodies with one dictionary, or none.

    Built once per process: the dictionary is digested for level 3 once
    (``precompute_compress``, ~0.5 ms), after which a compressor per call
    costs what a plain one does and no compressor is shared between threads.
    """

    def __init__(self, dictionary: Dictionary | None = None) -> None:
        self.dict_id = dictionary.id if dictionary is not None else None
        self._digested: zstandard.ZstdCompressionDict | None = None
        if dictionary is not None:
            self._digested = zstandard.ZstdCompressionDict(dictionary.data)
            self._digested.precompute_compress(level=LEVEL)

    def compress(self, data: bytes) -> bytes:
        if self._digested is None:
            return compress(data)
        return zstandard.ZstdCompressor(level=LEVEL, dict_data=self._digested).compress(data)


PLAIN = Packer()


def pack_raw(body: bytes, *, keep: bool = True, packer: Packer = PLAIN) -> PackedRaw:
    """Hash (and, when the archive keeps raw pages, compress) a body as fetched."""
    if not keep:
        return PackedRaw(bytes_hash(body), len(body), "zstd", None)
    return PackedRaw(bytes_hash(body), len(body), "zstd", packer.compress(body), packer.dict_id)


@functools.cache
def _insert_raw(dialect: str) -> Any:
    """Built once per dialect, executed with parameters (cheaper than a statement per page)."""
    upsert = pg_insert if dialect == "postgresql" else sqlite_insert
    return upsert(RawPage.metadata.tables[RawPage.__tablename__]).on_conflict_do_nothing()


def store_packed(session: Session, raw: PackedRaw) -> str | None:
    """Store a packed body unless its hash is already there; return the hash, or None when not kept.

    An INSERT … ON CONFLICT DO NOTHING, so two crawl processes storing the
    same bytes at once cannot fail on the primary key.
    """
    if raw.data is None:
        return None
    values = {
        "sha256": raw.sha256, "size": raw.size, "compression": raw.compression, "data": raw.data,
        "created_at": utcnow(), "dict_id": raw.dict_id,
    }  # fmt: skip
    session.connection().execute(_insert_raw(session.get_bind().dialect.name), values)
    return raw.sha256


def store_raw(session: Session, body: bytes, packer: Packer = PLAIN) -> str:
    """Pack and store a body here and now (tests and tools; a crawl packs in its workers)."""
    sha = store_packed(session, pack_raw(body, packer=packer))
    assert sha is not None
    return sha


class RawReader:
    """Reads stored raw pages back, loading each dictionary they need once.

    One reader per job (an export, a re-clean, a training): dictionaries are
    never changed, so its cache stays true for as long as it lives.
    """

    def __init__(self) -> None:
        self._decompressors: dict[int | None, zstandard.ZstdDecompressor] = {None: zstandard.ZstdDecompressor()}

    def preload(self, session: Session) -> None:
        """Load every dictionary now (before a streaming query holds the connection)."""
        for dict_id, data in session.execute(select(RawDictionary.id, RawDictionary.data)):
            self._add(dict_id, data)

    def _add(self, dict_id: int, data: bytes) -> zstandard.ZstdDecompressor:
        decompressor = zstandard.ZstdDecompressor(dict_data=zstandard.ZstdCompressionDict(data))
        self._decompressors[dict_id] = decompressor
        return decompressor

    def _decompressor(self, session: Session, dict_id: int | None) -> zstandard.ZstdDecompressor:
        found = self._decompressors.get(dict_id)
        if found is not None:
            return found
        data = session.execute(select(RawDictionary.data).where(RawDictionary.id == dict_id)).scalar_one_or_none()
        if data is None:
            raise ArchiveError(f"raw page dictionary {dict_id} is missing from the archive; restore it from a backup")
        return self._add(int(dict_id), data)  # type: ignore[arg-type]

    def unpack(self, session: Session, data: bytes, compression: str, dict_id: int | None) -> bytes:
        """The original bytes of one stored raw page, from its row's columns."""
        if compression != "zstd":
            return bytes(data)
        return self._decompressor(session, dict_id).decompress(data)

    def load(self, session: Session, sha256: str) -> bytes | None:
        """The original bytes of a stored raw page, or None when it was not kept."""
        row = session.execute(
            select(RawPage.data, RawPage.compression, RawPage.dict_id).where(RawPage.sha256 == sha256)
        ).first()
        return None if row is None else self.unpack(session, row.data, row.compression, row.dict_id)


def load_raw(session: Session, sha256: str, reader: RawReader | None = None) -> bytes | None:
    """The original bytes of a stored raw page, or None when it was not kept."""
    return (reader or RawReader()).load(session, sha256)
