"""Where export bytes go: a temporary file renamed into place only when complete.

A reader (or a sync job) must never see half an export, and a failed export
must leave nothing behind, so bytes go to a hidden temporary file in the
target directory (same file system: the final ``os.replace`` is atomic) and
the rename happens last. The SHA-256 the manifest records is taken on the way
out, over the bytes as stored (after compression), without re-reading.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, BinaryIO

import zstandard

from archive.errors import ExportError

_BUFFER = 1 << 20


class HashingSink(io.RawIOBase):
    """A write-only stream that hashes and counts what passes through to ``raw``."""

    def __init__(self, raw: BinaryIO | io.RawIOBase) -> None:
        super().__init__()
        self.raw = raw
        self.sha256 = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        self.raw.write(view)
        self.sha256.update(view)
        self.size += len(view)
        return len(view)


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def manifest_path(path: Path) -> Path:
    """The manifest sits beside the file: ``NAME.manifest.json``."""
    return path.with_name(path.name + ".manifest.json")


class Target:
    """The stream an export writes to, committed with :meth:`finish` or discarded with :meth:`abort`."""

    def __init__(self, path: Path | None, compression: str | None) -> None:
        self.path = path
        self.compression = compression
        self._tmp: Path | None = None
        self._file: BinaryIO
        if path is None:
            self._file = sys.stdout.buffer
        else:
            self._file = self._open_temp(path)
        self.sink = HashingSink(self._file)
        self._buffered = io.BufferedWriter(self.sink, buffer_size=_BUFFER)
        self._compressor: Any = None
        if compression == "gzip":
            self._compressor = gzip.GzipFile(fileobj=self._buffered, mode="wb", compresslevel=6, mtime=0)
        elif compression == "zstd":
            self._compressor = zstandard.ZstdCompressor(level=3).stream_writer(self._buffered, closefd=False)
        self.stream: BinaryIO = self._compressor if self._compressor is not None else self._buffered

    def _open_temp(self, path: Path) -> BinaryIO:
        parent = path.parent if str(path.parent) else Path(".")
        if path.is_dir():
            raise ExportError(f"-o {path} is a directory; give a file name such as {path / 'export.jsonl'}")
        if parent.exists() and not parent.is_dir():
            raise ExportError(f"cannot write {path}: {parent} is not a directory; choose another -o")
        if not parent.is_dir():
            raise ExportError(f"cannot write {path}: directory {parent} does not exist; create it or choose another -o")
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=parent)
        except OSError as exc:
            raise ExportError(f"cannot write {path}: {_reason(exc)}; choose a writable directory with -o") from None
        self._tmp = Path(tmp)
        return os.fdopen(fd, "wb")

    @property
    def sha256(self) -> str:
        return self.sink.sha256.hexdigest()

    @property
    def size(self) -> int:
        return self.sink.size

    def finish(self) -> None:
        """Flush every layer, then move the file into place (readable as a normal file would be)."""
        try:
            if self._compressor is not None:
                self._compressor.close()
            self._buffered.flush()
            self._file.flush()
            if self._tmp is not None and self.path is not None:
                os.fsync(self._file.fileno())
                self._file.close()
                umask = os.umask(0)
                os.umask(umask)
                os.chmod(self._tmp, 0o666 & ~umask)
                os.replace(self._tmp, self.path)
                self._tmp = None
        except BrokenPipeError:
            raise ExportError("standard output was closed before the export finished") from None
        except OSError as exc:
            raise ExportError(f"cannot write {self.path or 'standard output'}: {_reason(exc)}") from None

    def abort(self) -> None:
        """Drop whatever was written; the target path is left as it was.

        The layers above the file are closed first, into a sink that discards,
        so no buffered tail is flushed later (at garbage collection) into a
        closed file or a broken pipe.
        """
        self.sink.raw = _Discard()
        for layer in (self._compressor, self._buffered):
            if layer is not None:
                with contextlib.suppress(Exception):
                    layer.close()
        if self._tmp is None:
            return
        with contextlib.suppress(OSError):
            self._file.close()
        with contextlib.suppress(OSError):
            self._tmp.unlink()
        self._tmp = None


class _Discard(io.RawIOBase):
    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        return len(memoryview(data))


def write_atomic(path: Path, data: bytes) -> None:
    """Write a small file (the manifest) with the same temporary-name-then-rename rule."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError, UnboundLocalError):
            Path(tmp).unlink()
        raise ExportError(f"cannot write {path}: {_reason(exc)}") from None
