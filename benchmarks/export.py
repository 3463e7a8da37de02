"""The export benchmark: a synthetic archive of N versions, each format measured in its own process.

Each format runs in a fresh child interpreter, so one format's peak never
hides another's. The child reads its own peak RSS (``/proc/self/status``)
after every batch and reports it at 10,000 rows and at the end: the question
is whether memory stays flat while the export streams, not how big Python is.

Run ``python -m benchmarks.export DB_URL FORMAT OUT`` for one child
measurement (what ``bench-export`` does for each format).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import zstandard
from sqlalchemy import func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from archive.cleaning.normalize import content_hash
from archive.storage.engine import Archive
from archive.storage.models import Capture, Content, Page, RawPage, Site, Version

SITES = ("wm114", "zy-mishu", "biganzi", "lixin", "sanweiyuan")
_PHRASES = (
    "同志们",
    "今天我们召开全区经济工作会议",
    "主要任务是总结去年工作",
    "部署今年任务",
    "以习近平新时代中国特色社会主义思想为指导",
    "全面贯彻党的二十大精神",
    "坚持稳中求进工作总基调",
    "一要抓项目建设",
    "二要抓改革创新",
    "三要抓民生实事",
    "四要抓安全生产",
    "五要抓作风建设",
    "切实增强责任感和紧迫感",
    "以_同志为核心的党中央",
    "坚决扛起政治责任",
    "推动高质量发展取得新成效",
    "乡村振兴战略深入实施",
    "营商环境持续优化",
    "生态环境质量稳步提升",
    "基层治理能力不断增强",
    "各级领导干部要带头",
    "真抓实干、埋头苦干",
    "确保各项目标任务圆满完成",
    "为全面建设社会主义现代化国家贡献力量",
)
MEASURE_AT = 10_000


def _vocabulary(rng: random.Random, size: int = 3000) -> list[str]:
    """Two- and three-character "words" from the common CJK block: text that compresses like real prose
    (~2.5x with zstd), where a small phrase pool alone would compress 20x and flatter every figure."""
    return ["".join(chr(rng.randint(0x4E00, 0x7FFF)) for _ in range(rng.choice((2, 2, 3)))) for _ in range(size)]


def synthetic_text(rng: random.Random, vocab: list[str], chars: int = 1000) -> str:
    """About ``chars`` characters (~3 KB UTF-8) of speech-like Chinese in short paragraphs."""
    lines: list[str] = []
    size = 0
    while size < chars:
        words = rng.choices(_PHRASES, k=rng.randint(1, 2)) + rng.choices(vocab, k=rng.randint(6, 14))
        rng.shuffle(words)
        sentence = ",".join("".join(words[i : i + 3]) for i in range(0, len(words), 3)) + "。"
        if not lines or rng.random() < 0.25:
            lines.append(sentence)
        else:
            lines[-1] += sentence
        size += len(sentence)
    lines.append(f"(编号{rng.getrandbits(48):012x})")  # keeps every text distinct
    return "\n".join(lines)


def _page_html(title: str, text: str, noise: int) -> bytes:
    body = "".join(f"<p>{line}</p>\n" for line in text.split("\n"))
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head><body>"
        f"<div class='nav'>您的位置:首页>>公文范文>>正文</div><h1>{title}</h1>"
        f"<div class='content'>{body}</div><div class='ad'>浏览次数:{noise}</div></body></html>"
    ).encode()


class _Synthesizer:
    """Rows for one synthetic page at a time: two versions, 5% re-posts, every 10th page re-fetched unchanged."""

    def __init__(self, versions: int, seed: int) -> None:
        self.versions = versions
        self.rng = random.Random(seed)
        self.zstd = zstandard.ZstdCompressor(level=3)
        self.base = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
        self.capture_id = 0
        self.version_id = 0
        self.reposts: list[str] = []
        self.vocab = _vocabulary(self.rng)

    def page(self, pid: int, out: dict[str, list[dict[str, Any]]]) -> None:
        site_id = pid % len(SITES) + 1
        seen = self.base + dt.timedelta(minutes=pid)
        out["page"].append(
            {
                "id": pid,
                "site_id": site_id,
                "url": f"http://127.0.0.1:{8999 + site_id}/a/{pid}.html",
                "first_seen_at": seen,
                "missing_count": 0,
            }
        )
        repost = pid > 20 and self.rng.random() < 0.05
        text = self.reposts[self.rng.randrange(len(self.reposts))] if repost else synthetic_text(self.rng, self.vocab)
        if len(self.reposts) < 1000:
            self.reposts.append(text)
        texts = [text]
        if pid <= self.versions // 2:
            texts.append(text.replace("。", ",并抓好落实。", 1) + "\n(修订)")
        fetches = [(text, n + 1) for n, text in enumerate(texts)]
        if pid % 10 == 0:  # re-fetched unchanged: the same payload again, a WARC revisit
            fetches.insert(1, (text, 0))
        for day, (body_text, number) in enumerate(fetches):
            self._capture(pid, seen + dt.timedelta(days=day), body_text, number, out)

    def _capture(self, pid: int, when: dt.datetime, text: str, number: int, out: dict[str, list[Any]]) -> None:
        title = f"区委书记在全区经济工作会议上的讲话({pid})"
        raw = _page_html(title, text, pid)
        sha = hashlib.sha256(raw).hexdigest()
        digest = content_hash(text)
        self.capture_id += 1
        out["raw"].append(
            {
                "sha256": sha,
                "size": len(raw),
                "compression": "zstd",
                "data": self.zstd.compress(raw),
                "created_at": when,
            }
        )
        out["capture"].append(
            {
                "id": self.capture_id,
                "page_id": pid,
                "fetched_at": when,
                "status_code": 200,
                "outcome": "new_version" if number else "unchanged",
                "raw_sha256": sha,
                "encoding": "utf-8",
                "headers": {"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip", "Server": "nginx"},
                "content_hash": digest,
            }
        )
        if not number:
            return
        self.version_id += 1
        partial = self.rng.random() < 0.2
        out["content"].append({"hash": digest, "text": text, "char_count": len(text), "created_at": when})
        out["version"].append(
            {
                "id": self.version_id,
                "page_id": pid,
                "number": number,
                "content_hash": digest,
                "capture_id": self.capture_id,
                "created_at": when,
                "change": "first" if number == 1 else "edit",
                "title": title,
                "published_at": self.base - dt.timedelta(days=pid % 400),
                "category": ["首页", "公文范文", "讲话稿"],
                "source": "网友投稿",
                "outline": ["一、抓项目", "二、抓改革"],
                "partial": partial,
                "gaps": [{"offset": 500, "omitted_chars": 778}] if partial else [],
                "declared_chars": 4149 if partial else None,
                "shown_chars": 2186 if partial else None,
                "masked_count": 1,
                "char_count": len(text),
                "speaker": "区委书记",
                "occasion": "全区经济工作会议",
                "genre": "讲话",
                "extractor_version": "bench",
            }
        )


def build_synthetic_archive(url: str, versions: int, seed: int = 1, chunk: int = 2000) -> int:
    """Fill an empty archive with ``versions`` versions (pages of two versions each).

    Bulk inserts through SQLAlchemy Core, ``chunk`` pages per transaction:
    a minute for 100,000 versions rather than the hour per-page ingest would
    take, and ingest is not what this benchmark measures.
    """
    synth = _Synthesizer(versions, seed)
    pages = (versions + 1) // 2
    with Archive(url) as archive:
        with archive.session() as s:
            s.execute(
                insert(Site),
                [
                    {
                        "id": i + 1,
                        "name": n,
                        "title": n,
                        "base_url": f"http://127.0.0.1:{9000 + i}",
                        "created_at": synth.base,
                    }
                    for i, n in enumerate(SITES)
                ],
            )
        for start in range(1, pages + 1, chunk):
            out: dict[str, list[dict[str, Any]]] = {k: [] for k in ("page", "raw", "content", "capture", "version")}
            for pid in range(start, min(start + chunk, pages + 1)):
                synth.page(pid, out)
            with archive.session() as s:
                upsert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
                s.execute(insert(Page), out["page"])
                s.execute(upsert(RawPage).on_conflict_do_nothing(), out["raw"])
                s.execute(upsert(Content).on_conflict_do_nothing(), out["content"])
                s.execute(insert(Capture), out["capture"])
                s.execute(insert(Version), out["version"])
        with archive.session() as s:
            return s.execute(select(func.count()).select_from(Version)).scalar_one()


def _peak_rss() -> int:
    """This process's peak resident set so far (bytes), from ``/proc/self/status``.

    Linux updates ``VmHWM`` lazily (a later reading can be lower than an
    earlier one), so take the larger of VmHWM and VmRSS; the sampler below
    also keeps the maximum of every reading. ``ru_maxrss`` is only a fallback:
    it survives ``exec``, so a child would inherit its parent's peak.
    """
    try:
        readings = [
            int(line.split()[1]) * 1024
            for line in Path("/proc/self/status").read_text().splitlines()
            if line.startswith(("VmHWM:", "VmRSS:"))
        ]
    except OSError:
        readings = []
    return max(readings) if readings else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class _Sampler:
    """Progress sink that reads the peak RSS after every batch, and notes it when ``MEASURE_AT`` rows are done."""

    def __init__(self) -> None:
        self.done = 0
        self.total = 0
        self.peak = _peak_rss()
        self.at_mark: int | None = None

    def start(self, total: int) -> None:
        self.total = total

    def advance(self, rows: int) -> None:
        self.done += rows
        self.peak = max(self.peak, _peak_rss())
        if self.at_mark is None and self.done >= MEASURE_AT:
            self.at_mark = self.peak


def child(url: str, fmt: str, out: str) -> dict[str, Any]:
    """One measured export in this (fresh) process."""
    from archive.export import ExportOptions, export

    sampler = _Sampler()
    baseline = sampler.peak
    with Archive(url) as archive:
        started = time.perf_counter()
        result = export(
            archive,
            ExportOptions(format=fmt, output=Path(out), compression=_compression(out)),
            tool_version="bench",
            progress=sampler,
        )
        seconds = time.perf_counter() - started
    versions = result.counts.get("versions", result.rows)
    return {
        "format": fmt,
        "file": Path(out).name,
        "rows": versions,
        "captures": result.counts.get("captures"),
        "seconds": round(seconds, 2),
        "rows_per_s": round(versions / seconds),
        "bytes": result.size,
        "baseline_rss_mb": round(baseline / 2**20, 1),
        "peak_rss_at_10k_mb": round(sampler.at_mark / 2**20, 1) if sampler.at_mark else None,
        "peak_rss_mb": round(max(sampler.peak, _peak_rss()) / 2**20, 1),
    }


def _compression(name: str) -> str | None:
    return "gzip" if name.endswith(".gz") else "zstd" if name.endswith(".zst") else None


OUTPUTS = {"jsonl": "bench.jsonl", "csv": "bench.csv", "parquet": "bench.parquet", "warc": "bench.warc.gz"}


def run_benchmark(rows: int, formats: list[str], workdir: Path | None, echo: Callable[[str], None]) -> dict[str, Any]:
    """Build (or reuse) the synthetic archive, then measure each format in a child process."""
    with tempfile.TemporaryDirectory(prefix="sa-bench-") as tmp:
        work = workdir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        db = work / f"bench-{rows}.sqlite3"
        url = f"sqlite:///{db}"
        build_seconds = 0.0
        if not db.exists():
            echo(f"building a synthetic archive of {rows:,} versions in {db} …")
            started = time.perf_counter()
            try:
                build_synthetic_archive(url, rows)
            except BaseException:
                db.unlink(missing_ok=True)
                raise
            build_seconds = time.perf_counter() - started
        results = []
        for fmt in formats:
            out = work / OUTPUTS[fmt]
            echo(f"exporting {fmt} …")
            proc = subprocess.run(
                [sys.executable, "-m", "benchmarks.export", url, fmt, str(out)],
                capture_output=True,
                text=True,
                check=False,
            )
            if proc.returncode != 0:
                from archive.errors import ExportError

                raise ExportError(f"benchmark child for {fmt} failed: {proc.stderr.strip().splitlines()[-1:]}")
            results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            out.unlink(missing_ok=True)
            out.with_name(out.name + ".manifest.json").unlink(missing_ok=True)
        return {
            "rows": rows,
            "build_seconds": round(build_seconds, 1),
            "database_bytes": db.stat().st_size,
            "python": sys.version.split()[0],
            "results": results,
        }


if __name__ == "__main__":
    print(json.dumps(child(sys.argv[1], sys.argv[2], sys.argv[3])))
