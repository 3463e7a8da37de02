"""Search: a query string → the texts that hold every term, newest first, with highlighted snippets.

Semantics are those of ``LIKE '%term%'`` for each term, ANDed (case folded as
``LIKE`` folds ASCII): terms are separated by white space, a "quoted phrase"
keeps its spaces. Terms of 3+ characters go to the trigram index, terms of 1-2
characters to the 1-2-character tokens (archive/storage/search.py explains
both); each is exact, so mixing them never over-matches. A result is one
*text* with the pages whose latest version it is (a speech re-posted on three
sites is one result naming three pages); ``all_versions`` also finds texts
only older versions carry. Pagination is by text id (keyset): no OFFSET, no
count of all matches.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, bindparam, text

from archive.storage.search import TRIGRAM_MIN, grams, term_gram

MAX_TERMS = 8
MAX_TERM_CHARS = 100
SNIPPET_BEFORE = 40
SNIPPET_AFTER = 90
_TOKEN = re.compile(r'"([^"]+)"|“([^”]+)”|(\S+)')


@dataclass(frozen=True)
class SearchQuery:
    terms: tuple[str, ...]
    site_id: int | None = None
    published_from: dt.datetime | None = None
    published_to: dt.datetime | None = None
    all_versions: bool = False
    after: int | None = None
    """Keyset cursor: only texts with a smaller id (the last id of the previous page)."""
    limit: int = 20


def parse_terms(query: str) -> tuple[str, ...]:
    """Terms of a query string: white-space separated, "quoted phrases" (also “…”) kept whole, duplicates dropped."""
    found: dict[str, None] = {}
    for match in _TOKEN.finditer(query.replace("\u3000", " ")):
        term = next(g for g in match.groups() if g is not None).strip()
        if term:
            found[term[:MAX_TERM_CHARS]] = None
    return tuple(found)[:MAX_TERMS]


def _like_pattern(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _fts_string(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def _tsquery_lexeme(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


@dataclass
class _Sql:
    where: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)


def _doc_filter(q: SearchQuery, sql: _Sql, text_id: str) -> str:
    """EXISTS: the text is (one of) the version(s) searched, on a page passing the filters."""
    conds: list[str] = []
    if q.all_versions:
        source = (
            "versions v JOIN pages p ON p.id = v.page_id "
            f"JOIN search_texts st ON st.content_hash = v.content_hash AND st.id = {text_id}"
        )
        site, published = "p.site_id", "v.published_at"
    else:
        source = "search_docs d"
        conds.append(f"d.text_id = {text_id}")
        site, published = "d.site_id", "d.published_at"
    if q.site_id is not None:
        conds.append(f"{site} = :site_id")
        sql.params["site_id"] = q.site_id
    if q.published_from is not None:
        conds.append(f"{published} >= :published_from")
        sql.params["published_from"] = q.published_from
    if q.published_to is not None:
        conds.append(f"{published} < :published_to")
        sql.params["published_to"] = q.published_to
    return f"EXISTS (SELECT 1 FROM {source}" + (f" WHERE {' AND '.join(conds)})" if conds else ")")


def _sqlite_ids(q: SearchQuery) -> tuple[str, dict[str, Any]]:
    long = [t for t in q.terms if len(t) >= TRIGRAM_MIN]
    short = [t for t in q.terms if len(t) < TRIGRAM_MIN]
    sql = _Sql()
    tri = " AND ".join(_fts_string(t) for t in long)
    gram = " AND ".join(_fts_string(term_gram(t)) for t in short)
    driver, match = ("search_trigram", tri) if long else ("search_grams", gram)
    if long and short:
        # Checked per candidate (a rowid lookup in the short terms' doclists), never materialised: a common
        # character's list is every text in the archive.
        sql.where.append(
            "EXISTS (SELECT 1 FROM search_grams WHERE search_grams MATCH :gram "
            f"AND search_grams.rowid = {driver}.rowid)"
        )
        sql.params["gram"] = gram
    sql.params["match"] = match
    sql.where.insert(0, f"{driver} MATCH :match")  # FTS5 wants the table's own name here, not an alias
    if q.after is not None:
        sql.where.append(f"{driver}.rowid < :after")
        sql.params["after"] = q.after
    sql.where.append(_doc_filter(q, sql, f"{driver}.rowid"))
    sql.params["limit"] = q.limit + 1
    where = " AND ".join(sql.where)
    return f"SELECT {driver}.rowid FROM {driver} WHERE {where} ORDER BY {driver}.rowid DESC LIMIT :limit", sql.params


def _postgres_ids(q: SearchQuery) -> tuple[str, dict[str, Any]]:
    sql = _Sql()
    lexemes: dict[str, None] = {}
    for n, term in enumerate(q.terms):
        if len(term) < TRIGRAM_MIN:
            lexemes[term_gram(term)] = None
        else:  # its pairs narrow the candidates through the GIN index; ILIKE (pg_trgm) decides
            lexemes.update(dict.fromkeys(g for g in grams(term) if len(g) == 2))
            sql.where.append(f"c.text ILIKE :like{n} ESCAPE '\\'")
            sql.params[f"like{n}"] = _like_pattern(term)
    sql.where.insert(0, "t.grams @@ CAST(:tsq AS tsquery)")
    sql.params["tsq"] = " & ".join(_tsquery_lexeme(x) for x in lexemes)
    if q.after is not None:
        sql.where.append("t.id < :after")
        sql.params["after"] = q.after
    sql.where.append(_doc_filter(q, sql, "t.id"))
    sql.params["limit"] = q.limit + 1
    return (
        "SELECT t.id FROM search_texts t JOIN contents c ON c.hash = t.content_hash "
        f"WHERE {' AND '.join(sql.where)} ORDER BY t.id DESC LIMIT :limit",
        sql.params,
    )


def matching_text_ids(conn: Connection, q: SearchQuery) -> tuple[list[int], int | None]:
    """One page of matching text ids (newest first) and the cursor of the next page (None: last page)."""
    if not q.terms:
        return [], None
    statement, params = (_postgres_ids if conn.dialect.name == "postgresql" else _sqlite_ids)(q)
    ids = [int(r[0]) for r in conn.execute(text(statement), params)]
    more = len(ids) > q.limit
    ids = ids[: q.limit]
    return ids, (ids[-1] if more and ids else None)


def search(conn: Connection, q: SearchQuery) -> dict[str, Any]:
    """Results with their pages and snippets, and the next cursor."""
    ids, after = matching_text_ids(conn, q)
    if not ids:
        return {"results": [], "next": None}
    hits = _pages_of(conn, q, ids)
    texts: dict[int, str] = {
        tid: value
        for tid, value in conn.execute(
            text(
                "SELECT t.id, c.text FROM search_texts t JOIN contents c ON c.hash = t.content_hash WHERE t.id IN :ids"
            )
            .bindparams(bindparam("ids", expanding=True)),
            {"ids": ids},
        )
    }  # fmt: skip
    results = [
        {"text_id": tid, "pages": hits.get(tid, []), "snippet": snippet(texts.get(tid, ""), q.terms)} for tid in ids
    ]
    return {"results": results, "next": after}


def _pages_of(conn: Connection, q: SearchQuery, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The pages (and version numbers) that carry each text, within the query's filters."""
    params: dict[str, Any] = {"ids": ids}
    filters = ""
    if q.site_id is not None:
        filters += " AND p.site_id = :site_id"
        params["site_id"] = q.site_id
    for name, op in (("published_from", ">="), ("published_to", "<")):
        value = getattr(q, name)
        if value is not None:
            filters += f" AND v.published_at {op} :{name}"
            params[name] = value
    if q.all_versions:
        source = "search_texts t JOIN versions v ON v.content_hash = t.content_hash"
    else:
        source = "search_docs d JOIN search_texts t ON t.id = d.text_id JOIN versions v ON v.id = d.version_id"
    statement = text(
        "SELECT t.id AS text_id, p.id AS page_id, p.url, s.name AS site, v.number, v.title, v.published_at, "
        "v.created_at, v.partial "
        f"FROM {source} JOIN pages p ON p.id = v.page_id JOIN sites s ON s.id = p.site_id "
        f"WHERE t.id IN :ids{filters} ORDER BY t.id DESC, p.id DESC, v.number DESC"
    ).bindparams(bindparam("ids", expanding=True))
    out: dict[int, list[dict[str, Any]]] = {}
    for row in conn.execute(statement, params).mappings():
        pages = out.setdefault(row["text_id"], [])
        if pages and pages[-1]["page_id"] == row["page_id"]:
            pages[-1]["versions"].append(row["number"])
            continue
        pages.append(
            {
                "page_id": row["page_id"],
                "url": row["url"],
                "site": row["site"],
                "title": row["title"],
                "published_at": _as_datetime(row["published_at"]),
                "versions": [row["number"]],
                "partial": bool(row["partial"]),
            }
        )
    return out


def _as_datetime(value: Any) -> dt.datetime | None:
    """Raw SQL returns SQLite's stored text; the archive stores UTC."""
    if value is None or isinstance(value, dt.datetime):
        return value if value is None or value.tzinfo else value.replace(tzinfo=dt.UTC)
    parsed = dt.datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def snippet(value: str, terms: tuple[str, ...], *, windows: int = 2) -> list[dict[str, Any]]:
    """Up to ``windows`` stretches of the text around the first matches, as (text, marked) parts.

    Parts are plain text; the template escapes them. Matching folds case as
    the search does; a term absent from the text (cannot happen for a hit)
    simply marks nothing.
    """
    if not terms:
        return [{"text": value[: SNIPPET_AFTER * 2], "mark": False}]
    pattern = re.compile("|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)), re.IGNORECASE)
    spans = [m.span() for m in pattern.finditer(value)]
    if not spans:
        return [{"text": value[: SNIPPET_AFTER * 2], "mark": False}]
    firsts: list[tuple[int, int]] = []
    seen: set[str] = set()
    for start, end in spans:
        key = value[start:end].lower()
        if key not in seen:
            seen.add(key)
            firsts.append((start, end))
    cuts: list[tuple[int, int]] = []
    for start, end in firsts:
        lo, hi = max(0, start - SNIPPET_BEFORE), min(len(value), end + SNIPPET_AFTER)
        if cuts and lo <= cuts[-1][1]:
            cuts[-1] = (cuts[-1][0], max(cuts[-1][1], hi))
        elif len(cuts) < windows:
            cuts.append((lo, hi))
    parts: list[dict[str, Any]] = []
    for n, (lo, hi) in enumerate(sorted(cuts)):
        if n or lo:
            parts.append({"text": "…", "mark": False, "ellipsis": True})
        pos = lo
        for start, end in spans:
            if start < lo or end > hi:
                continue
            if start > pos:
                parts.append({"text": value[pos:start], "mark": False})
            parts.append({"text": value[start:end], "mark": True})
            pos = end
        if pos < hi:
            parts.append({"text": value[pos:hi], "mark": False})
    if cuts and sorted(cuts)[-1][1] < len(value):
        parts.append({"text": "…", "mark": False, "ellipsis": True})
    return parts
