"""Full-text search over the lake's inverted index (migration 002_search): indexing a run's new
articles, ranked queries with filters, and snippets with the matched words marked."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb
import pyarrow as pa

MARK = ("[[", "]]")  # around a matched word in a snippet
_LETTERS = re.compile(r"[^\W\d_]+")  # a run of letters: what search_words() splits a text into


def index_articles(con: duckdb.DuckDBPyConnection, articles: pa.Table) -> None:
    """Append the search postings of new articles (columns article_id, language, title, text)
    in the connection's open transaction: the same one that inserts the articles."""
    if articles.num_rows == 0:
        return
    con.register("search_incoming", articles.select(["article_id", "language", "title", "text"]))
    try:
        con.execute("INSERT INTO search_docs BY NAME SELECT * FROM search_docs_of('search_incoming')")
        con.execute("INSERT INTO search_terms BY NAME SELECT * FROM search_terms_of('search_incoming')")
    finally:
        con.unregister("search_incoming")


def reindex_articles(con: duckdb.DuckDBPyConnection, articles: pa.Table) -> None:
    """Replace the search postings of revised articles by those of their new texts, in the open
    transaction that updates them."""
    if articles.num_rows == 0:
        return
    con.register("search_revised", articles.select(["article_id"]))
    try:
        for table in ("search_docs", "search_terms"):
            con.execute(f"DELETE FROM {table} WHERE article_id IN (SELECT article_id FROM search_revised)")
    finally:
        con.unregister("search_revised")
    index_articles(con, articles)


@dataclass(frozen=True, slots=True)
class Filter:
    """Which articles a search returns; None takes all."""

    since: date | None = None  # dated (published, else fetched) on or after
    language: str | None = None
    source: str | None = None  # a source's URI, or a subscription's name or URI


# The ranked articles, best first; ties by id so the order is stable.
RANKED = """
SELECT s.score, a.article_id, a.title, a.language,
       coalesce(a.published_at, a.fetched_at) AS dated_at, src.uri AS source_uri, a.url,
       a.text, search_stemmer(a.language) AS stemmer
FROM search($q) AS s
JOIN articles AS a USING (article_id)
LEFT JOIN sources AS src USING (source_id)
WHERE ($since IS NULL OR CAST(coalesce(a.published_at, a.fetched_at) AS DATE) >= $since)
  AND ($language IS NULL OR a.language = $language)
  AND ($source IS NULL OR src.uri = $source
       OR a.source_id IN (SELECT source_id FROM subscriptions WHERE name = $source OR uri = $source))
ORDER BY s.score DESC, a.article_id
LIMIT $limit
"""
COLUMNS = ["score", "title", "language", "dated_at", "source_uri", "url", "snippet", "article_id"]
TABLE_COLUMNS = ["score", "title", "language", "dated_at", "source_uri", "snippet"]  # on a terminal


@dataclass(frozen=True, slots=True)
class Hit:
    """One ranked article."""

    score: float
    article_id: str
    title: str | None
    language: str
    dated_at: Any
    source_uri: str | None
    url: str | None
    snippet: str

    def row(self, columns: list[str] = COLUMNS) -> tuple[Any, ...]:
        """Return the hit's values of these columns (score rounded)."""
        values = {
            "score": round(self.score, 4),
            "title": self.title,
            "language": self.language,
            "dated_at": self.dated_at,
            "source_uri": self.source_uri,
            "url": self.url,
            "snippet": self.snippet,
            "article_id": self.article_id,
        }
        return tuple(values[c] for c in columns)


def search(
    con: duckdb.DuckDBPyConnection, query: str, only: Filter, *, limit: int, width: int = 160
) -> list[Hit]:
    """Return the articles matching any word of query, best BM25 score first, with a snippet of
    about `width` characters around the first matched word of each text."""
    params = {"q": query, "since": only.since, "language": only.language, "source": only.source}
    rows = con.execute(RANKED, {**params, "limit": limit}).fetchall()
    stems = _stems(con, query, {r[8] for r in rows}, {w for r in rows for w in _LETTERS.findall(r[7])})
    return [
        Hit(
            score,
            article_id,
            title,
            language,
            dated_at,
            source_uri,
            url,
            snippet(text, stems[stemmer], width),
        )
        for score, article_id, title, language, dated_at, source_uri, url, text, stemmer in rows
    ]


def _stems(
    con: duckdb.DuckDBPyConnection, query: str, stemmers: set[str], words: set[str]
) -> dict[str, dict[str, bool]]:
    """Return, per stemmer, which words of the texts match a word of the query: the words are
    tokenized and stemmed by the same macros as the index."""
    if not stemmers:
        return {}
    rows = con.execute(
        """
        WITH wanted AS (
            SELECT DISTINCT s.stemmer, stem(q.word, s.stemmer) AS term
            FROM unnest(search_words($q)) AS q(word), unnest($stemmers) AS s(stemmer)
        ),
        parts AS (
            SELECT s.stemmer, w.word, unnest(search_words(w.word)) AS part
            FROM unnest($words) AS w(word), unnest($stemmers) AS s(stemmer)
        )
        SELECT DISTINCT p.stemmer, p.word
        FROM parts AS p JOIN wanted AS q ON q.stemmer = p.stemmer AND q.term = stem(p.part, p.stemmer)
        """,
        {"q": query, "stemmers": sorted(stemmers), "words": sorted(words)},
    ).fetchall()
    found: dict[str, dict[str, bool]] = {s: {} for s in stemmers}
    for stemmer, word in rows:
        found[stemmer][word] = True
    return found


def snippet(text: str, matches: dict[str, bool], width: int = 160) -> str:
    """Return about `width` characters of text around its first matched word (its start when
    only the title matched), on one line, each matched word marked [[so]]."""
    words = list(_LETTERS.finditer(text))
    first = next((m for m in words if matches.get(m.group())), None)
    start = 0 if first is None else max(0, first.start() - width // 4)
    if start:  # begin at a word
        start = next((m.start() for m in words if m.start() >= start), start)
    end = min(len(text), start + width)
    if end < len(text):  # end after a word
        end = next((m.end() for m in reversed(words) if m.end() <= end and m.start() >= start), end)
    out, at = [], start
    for m in words:
        if m.start() >= start and m.end() <= end and matches.get(m.group()):
            out += [text[at : m.start()], MARK[0], m.group(), MARK[1]]
            at = m.end()
    out.append(text[at:end])
    body = " ".join("".join(out).split())
    return ("…" if start else "") + body + ("…" if end < len(text) else "")
