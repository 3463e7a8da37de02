"""The archive browser's benchmark: latency of each view over a synthetic archive, served by the real server.

The archive is the export benchmark's synthetic one (benchmarks/export.py:
pages of one or two ~1,000-character versions over five sites, their captures
spread over 30 crawl runs a site), plus a page
with 50 versions and a 30,000-character speech with an edited version, both
written through the real version writer; then the search index is rebuilt
(timed). A child process (``python -m benchmarks.web serve URL PORTFILE``)
serves it with uvicorn exactly as ``speech-archive serve`` does; this process
sends each request ``repeat`` times over one keep-alive connection and reports
p50/p95. Beside the server figures: the diff of the 30,000-character speech
in-process (diff-match-patch) against difflib's SequenceMatcher on the same
characters, and each search against a plain ``LIKE`` scan of the latest texts
(what a search without the index costs).
"""

from __future__ import annotations

import datetime as dt
import difflib
import http.client
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text, update

from archive.cleaning import Extraction, content_hash
from archive.storage.engine import Archive
from archive.storage.models import CrawlRun, Page, SearchDoc, Site
from archive.storage.search import rebuild_index
from archive.storage.versions import write_version
from benchmarks.export import _vocabulary, build_synthetic_archive, synthetic_text

REPEAT = 50
WARMUP = 3
SEARCHES = {
    "search 1 char (common)": "同",
    "search 1 char (rare)": None,  # a character of the synthetic vocabulary, picked at build time
    "search 2 chars": "发展",
    "search 4 chars": "稳中求进",
    "search 4 chars (rare)": None,
    "search 2 terms (1 + 4 chars)": "同 稳中求进",
}


def _extraction(value: str, title: str) -> Extraction:
    return Extraction("ok", text=value, title=title, char_count=len(value), method="hint")


def add_special_pages(url: str, seed: int = 7) -> dict[str, Any]:
    """A page with 50 versions and a 30,000-character speech with an edited second version (real writer)."""
    rng = random.Random(seed)
    vocab = _vocabulary(rng)
    with Archive(url) as archive, archive.session() as session:
        first = int(session.execute(select(func.max(Page.id))).scalar_one()) + 1
        for pid in (first, first + 1):
            session.execute(
                insert(Page).values(id=pid, site_id=1, url=f"http://127.0.0.1:9000/bench/{pid}.html", missing_count=0)
            )
        base = synthetic_text(rng, vocab, 1000)
        for n in range(1, 51):
            body = base.replace("。", f",第{n}次修订。", 1) + f"\n(第{n}版)"
            write_version(session, page_id=first, number=n, content_hash=content_hash(body),
                          extraction=_extraction(body, "五十个版本的讲话"), capture_id=None,
                          change="first" if n == 1 else "edit")  # fmt: skip
        long_a = synthetic_text(rng, vocab, 30_000)
        paragraphs = long_a.split("\n")
        for i in range(3, len(paragraphs), max(1, len(paragraphs) // 6)):  # six edits and a mask swap
            paragraphs[i] = (
                paragraphs[i][: len(paragraphs[i]) // 2]
                + "新增加的一句要求,"
                + paragraphs[i][len(paragraphs[i]) // 2 :]
            )
        long_b = "\n".join(paragraphs).replace("_", "××", 1)
        for n, body in enumerate((long_a, long_b), start=1):
            write_version(session, page_id=first + 1, number=n, content_hash=content_hash(body),
                          extraction=_extraction(body, "三万字的讲话"), capture_id=None,
                          change="first" if n == 1 else "edit")  # fmt: skip
    return {"page_50_versions": first, "page_30k": first + 1, "texts_30k": (long_a, long_b), "vocab": vocab}


RUNS_PER_SITE = 30


def add_runs(url: str) -> None:
    """Crawl runs for the synthetic captures (30 a site), so the site list reads run history and health as live."""
    with Archive(url) as archive, archive.session() as session:
        sites = session.execute(select(Site.id)).scalars().all()
        for site_id in sites:
            for k in range(RUNS_PER_SITE):
                when = dt.datetime(2025, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=k)
                run_id = session.execute(
                    insert(CrawlRun).values(site_id=site_id, trigger="scheduled", status="finished", started_at=when,
                                            finished_at=when + dt.timedelta(minutes=5), stats={}).returning(CrawlRun.id)
                ).scalar_one()  # fmt: skip
                session.execute(
                    text(
                        "UPDATE captures SET run_id = :run WHERE id % :n = :k "
                        "AND page_id IN (SELECT id FROM pages WHERE site_id = :site)"
                    ),
                    {"run": run_id, "n": RUNS_PER_SITE, "k": k, "site": site_id},
                )
                new = session.execute(
                    text("SELECT count(*) FROM captures WHERE run_id = :run AND outcome = 'new_version'"),
                    {"run": run_id},
                ).scalar_one()
                session.execute(
                    update(CrawlRun).where(CrawlRun.id == run_id).values(stats={"new_versions": new, "pages": new})
                )


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000, 1),
        "n": len(ordered),
    }


def _timed(call: Callable[[], Any], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        out.append(time.perf_counter() - started)
    return out


def _get(conn: http.client.HTTPConnection, path: str) -> None:
    conn.request("GET", path, headers={"accept": "text/html"})
    response = conn.getresponse()
    body = response.read()
    if response.status != 200:
        raise RuntimeError(f"GET {path}: HTTP {response.status}: {body[:200]!r}")


def _targets(url: str, special: dict[str, Any]) -> dict[str, str]:
    with Archive(url, upgrade=False) as archive, archive.session() as session:
        ids = (
            session.execute(select(SearchDoc.page_id).where(SearchDoc.site_id == 1).order_by(SearchDoc.page_id))
            .scalars()
            .all()
        )
    deep = ids[len(ids) // 20]  # 95% of the way down the list, newest first
    vocab = special["vocab"]
    searches = dict(SEARCHES)
    searches["search 1 char (rare)"] = vocab[7][0]
    searches["search 4 chars (rare)"] = vocab[11][:2] + vocab[12][:2]
    targets = {
        "site list": "/",
        "page list, first page": "/sites/wm114",
        "page list, deep page (keyset)": f"/sites/wm114?after={deep}",
        "page with 50 versions": f"/pages/{special['page_50_versions']}",
        "page with 50 versions, version 25": f"/pages/{special['page_50_versions']}?v=25",
        "diff of a 30,000-character speech": f"/pages/{special['page_30k']}/diff?a=1&b=2",
        "runs": "/runs",
    }
    for name, query in searches.items():
        targets[name] = "/search?" + urllib.parse.urlencode({"q": query})
    return targets


def _like_scan(url: str, terms: list[str]) -> float:
    """Seconds of a plain LIKE scan over every page's latest text for the same terms (no index)."""
    conds = " AND ".join(f"c.text LIKE :t{n}" for n in range(len(terms)))
    sql = text(
        "SELECT d.page_id FROM search_docs d JOIN versions v ON v.id = d.version_id "
        f"JOIN contents c ON c.hash = v.content_hash WHERE {conds} ORDER BY d.page_id DESC LIMIT 21"
    )
    with Archive(url, upgrade=False) as archive, archive.session() as session:
        started = time.perf_counter()
        session.execute(sql, {f"t{n}": f"%{t}%" for n, t in enumerate(terms)}).all()
        return time.perf_counter() - started


def run_benchmark(
    versions: int, workdir: Path | None, echo: Callable[[str], None], repeat: int = REPEAT
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="sa-bench-web-") as tmp:
        work = workdir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        db = work / f"bench-web-{versions}.sqlite3"
        url = f"sqlite:///{db}"
        db.unlink(missing_ok=True)
        echo(f"building a synthetic archive of {versions:,} versions in {db} …")
        started = time.perf_counter()
        build_synthetic_archive(url, versions)
        special = add_special_pages(url)
        add_runs(url)
        build_seconds = time.perf_counter() - started
        echo("rebuilding the search index …")
        started = time.perf_counter()
        with Archive(url) as archive, archive.session() as session:
            counts = rebuild_index(session.connection())
        index_seconds = time.perf_counter() - started
        targets = _targets(url, special)
        results = _serve_and_measure(url, targets, repeat, echo, work)
        long_a, long_b = special["texts_30k"]
        from archive.browse.diff import diff_versions

        ours = _timed(lambda: diff_versions(long_a, long_b), 20)
        plain = _timed(lambda: difflib.SequenceMatcher(None, long_a, long_b, autojunk=False).get_opcodes(), 3)
        like = {}
        for name, path in targets.items():
            if name.startswith("search"):
                terms = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)["q"][0].split()
                like[name] = round(_like_scan(url, terms) * 1000, 1)
        return {
            "versions": versions,
            "build_seconds": round(build_seconds, 1),
            "index_seconds": round(index_seconds, 1),
            "indexed": counts,
            "database_bytes": db.stat().st_size,
            "repeat": repeat,
            "results": results,
            "diff_30k_chars": {
                "chars": [len(long_a), len(long_b)],
                "diff_match_patch": _percentiles(ours),
                "difflib_sequence_matcher_ms": round(statistics.median(plain) * 1000, 1),
            },
            "like_scan_ms": like,
            "python": sys.version.split()[0],
        }


def _serve_and_measure(
    url: str, targets: dict[str, str], repeat: int, echo: Callable[[str], None], work: Path
) -> dict[str, dict[str, float]]:
    port_file = work / "port"
    port_file.unlink(missing_ok=True)
    child = subprocess.Popen([sys.executable, "-m", "benchmarks.web", "serve", url, str(port_file)])
    try:
        deadline = time.monotonic() + 60
        while not port_file.exists() or not port_file.read_text():
            if child.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the benchmark server did not start")
            time.sleep(0.1)
        conn = http.client.HTTPConnection("127.0.0.1", int(port_file.read_text()), timeout=60)
        results = {}
        for name, path in targets.items():
            echo(f"measuring {name} …")
            for _ in range(WARMUP):
                _get(conn, path)
            results[name] = _percentiles(_timed(lambda p=path: _get(conn, p), repeat))  # type: ignore[misc]
        conn.close()
        return results
    finally:
        child.terminate()
        child.wait(timeout=30)


def serve(url: str, port_file: str) -> None:
    """The measured server: what `speech-archive serve` runs, on a free port written to ``port_file``."""
    from archive.browse import BrowseOptions, ReadOnlyArchive, WebServer, bind, create_app
    from archive.config import WebSettings

    sock = bind("127.0.0.1", 0)
    server = WebServer(create_app(ReadOnlyArchive(url), BrowseOptions()), sock, WebSettings(), access_log=False)
    Path(port_file).write_text(str(server.address[1]))
    server.run()


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        serve(sys.argv[2], sys.argv[3])
    else:
        print(json.dumps(run_benchmark(int(sys.argv[1]), None, lambda m: print(m, file=sys.stderr)), indent=2))
