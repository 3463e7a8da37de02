"""Real texts for the works benchmark: CleanEval's hand-cleaned Chinese pages (../shared/corpus/cleaneval-zh).

Nobody here wrote them, so they test the matcher on language our generator
does not produce. Each text (of at least 300 characters) becomes a work of
three copies: the text, a truncated copy (30–90 % kept, ended with our gap
marker, flagged partial) and a re-flowed copy in which two words that occur in
the text are masked (``**`` and ``XX``), as a re-post hiding names would.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

from archive.cleaning.metadata import count_masks
from archive.cleaning.result import GAP_MARKER
from benchmarks.works_corpus import Doc, true_length

MIN_CHARS = 300
_WORD = re.compile(r"[\u4e00-\u9fff]{2,3}")


def _masked(text: str, rng: random.Random) -> str:
    words = sorted(set(_WORD.findall(text)))
    for mask, word in zip(("**", "XX"), rng.sample(words, min(2, len(words))), strict=False):
        text = text.replace(word, mask)
    return "\n".join(" ".join(line.split()) for line in text.replace("。", "。\n").splitlines() if line.strip())


def real_docs(directory: Path, seed: int = 0) -> list[Doc]:
    rng = random.Random(f"works-real:{seed}")
    docs: list[Doc] = []
    for number, path in enumerate(sorted(directory.glob("*.txt"))):
        text = path.read_text(encoding="utf-8", errors="replace").strip()
        if len(text) < MIN_CHARS:
            continue
        keep = rng.uniform(0.3, 0.9)
        masked = _masked(text, rng)
        copies = [
            (text, 1.0, False),
            (text[: int(len(text) * keep)] + GAP_MARKER, keep, True),
            (masked, 1.0, False),
        ]
        for i, (body, kept, partial) in enumerate(copies):
            key = number * 10 + i
            url = f"http://127.0.0.1/cleaneval/{path.stem}/{i}"
            masks = count_masks(body)
            docs.append(
                Doc(key, "cleaneval", url, number, kept, masks, body, path.stem, partial, False, true_length(body))
            )
    rng.shuffle(docs)
    return docs
