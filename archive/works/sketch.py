"""One content's sketch: its shingle set, MinHash signatures and LSH bucket keys.

Two kinds of LSH keys go into the one bucket table (docs/WORKS.md has the figures):

* **whole-text bands** of the stored MinHash signature (``num_perm`` / ``bands``
  rows per band) find full copies and variants: Jaccard ≥ 0.8 is a candidate
  with probability ≥ 0.94, while two different speeches of these sites
  (Jaccard 0.10–0.19 on the replica's formulaic generator) almost never are;
* **head windows**: a truncated copy keeps only part of the text, so its
  Jaccard with the full copy is its kept share (0.2 for a 20 % preview), far
  below any usable band threshold. Sites truncate from the end (paywalls and
  previews show the beginning), so the sketch also signs a few windows of
  ``head_window_shingles`` shingles at the start of the text: one at the start
  and one at each of the first content-defined anchors (a shingle whose CRC-32
  is 0 modulo ``head_anchor_every``), so leading boilerplate the cleaner left
  shifts the windows without changing them. Window keys carry no window number:
  any window of one text may meet any window of another.

MinHash comes from rensa (R-MinHash, Rust): 0.04 ms for 5,000 shingles and 128
permutations, where the text normalisation costs ~1 ms.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from rensa import RMinHash

from archive.config import WorksSettings
from archive.works.textform import FORM_VERSION, form_facts, matching_form, shingle_sequence

WHOLE_SEED = 20261
HEAD_SEED = 20262


@dataclass(frozen=True)
class Sketch:
    shingles: frozenset[str]
    length: int
    masks: int
    signature: bytes
    """Whole-text MinHash, little-endian uint32 per permutation."""
    buckets: tuple[int, ...]
    """LSH bucket keys (signed 64-bit); empty for texts below ``min_shingles``, which never join."""


def params_digest(settings: WorksSettings) -> str:
    """What made a stored sketch: a changed value means the stored signatures and buckets are stale."""
    parts = (
        FORM_VERSION,
        RMinHash.ALGORITHM_VERSION,
        settings.shingle_size,
        settings.num_perm,
        settings.bands,
        settings.head_windows,
        settings.head_window_shingles,
        settings.head_num_perm,
        settings.head_bands,
        settings.head_anchor_every,
        settings.min_shingles,
    )
    return hashlib.sha1(repr(parts).encode()).hexdigest()[:16]


def _minhash(tokens: Sequence[str], perms: int, seed: int) -> list[int]:
    sketch = RMinHash(num_perm=perms, seed=seed)
    sketch.update(list(tokens))
    return [int(v) for v in sketch.digest()]


def band_keys(values: Sequence[int], bands: int, kind: bytes) -> list[int]:
    """One key per band: a 64-bit hash of the band's rows, its number and the signature kind."""
    rows = len(values) // bands
    keys = []
    for band in range(bands):
        chunk = struct.pack(f"<{rows}I", *values[band * rows : (band + 1) * rows])
        digest = hashlib.blake2b(chunk, digest_size=8, person=kind + bytes([band])).digest()
        keys.append(int.from_bytes(digest, "little", signed=True))
    return keys


def anchors(sequence: Sequence[str], count: int, every: int) -> list[int]:
    """The start and the first ``count - 1`` content-defined anchors (at least ``every // 2`` apart)."""
    found = [0]
    last = 0
    for i in range(every // 2, len(sequence)):
        if len(found) >= count:
            break
        if i - last >= every // 2 and zlib.crc32(sequence[i].encode()) % every == 0:
            found.append(i)
            last = i
    return found


def head_keys(sequence: Sequence[str], settings: WorksSettings) -> list[int]:
    width = settings.head_window_shingles
    keys: list[int] = []
    for start in anchors(sequence, settings.head_windows, settings.head_anchor_every):
        window = sequence[start : start + width]
        if len(window) < width:
            break
        keys += band_keys(_minhash(window, settings.head_num_perm, HEAD_SEED), settings.head_bands, b"h")
    return keys


def sketch(text: str, settings: WorksSettings) -> Sketch:
    """Normalise, shingle and sign one stored text."""
    form = matching_form(text)
    sequence = shingle_sequence(form, settings.shingle_size)
    shingles = frozenset(sequence)
    facts = form_facts(text, form)
    signature = _minhash(list(shingles), settings.num_perm, WHOLE_SEED) if shingles else [0] * settings.num_perm
    buckets: list[int] = []
    if len(shingles) >= settings.min_shingles:
        buckets = band_keys(signature, settings.bands, b"w")
        if settings.head_windows:
            buckets += head_keys(sequence, settings)
    packed = struct.pack(f"<{len(signature)}I", *signature)
    return Sketch(shingles, facts.length, facts.masks, packed, tuple(dict.fromkeys(buckets)))


def shingle_set(text: str, settings: WorksSettings) -> frozenset[str]:
    """Just the shingles, for the exact check of a candidate stored earlier."""
    return frozenset(shingle_sequence(matching_form(text), settings.shingle_size))


def unpack_signature(data: bytes) -> list[int]:
    return list(struct.unpack(f"<{len(data) // 4}I", data))


def estimated_jaccard(a: bytes, b: bytes) -> float:
    """The MinHash estimate of the Jaccard similarity of two stored signatures."""
    left, right = unpack_signature(a), unpack_signature(b)
    return sum(x == y for x, y in zip(left, right, strict=True)) / max(1, len(left))
