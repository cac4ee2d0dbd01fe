"""newsflow search: the lake's inverted index kept by each load, BM25 as fts computes it, the
search(q) macro in plain SQL, filters and snippets, on real DuckLake files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

import warehouse
from flows.cli import app
from tests.flows.test_export import ARTICLES, news_db  # noqa: F401  (the fixture)
from tests.test_dedup import make
from tests.test_load import TEXTS, run
from warehouse import extensions
from warehouse.search import snippet

runner = CliRunner()
MIGRATION = warehouse.MIGRATIONS / "lake" / "002_search.sql"


def search(db: Path, *args: str) -> list[dict]:
    out = runner.invoke(app, ["search", *args, "--db", str(db), "--format", "json"])
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)


def uris(db: Path, hits: list[dict]) -> list[str]:
    ids = [h["article_id"] for h in hits]
    with warehouse.connect(db, read_only=True) as con:
        found = dict(con.execute("SELECT article_id, raw_uri FROM articles").fetchall())
    return [found[i] for i in ids]


def test_a_word_frequent_in_one_article_ranks_it_first(news_db: Path) -> None:  # noqa: F811
    # "Microsoft" is said most often, for its length, in the last seed
    per_word = [t.count("Microsoft") / len(t.split()) for t in TEXTS]
    best = list(ARTICLES)[per_word.index(max(per_word))]
    hits = search(news_db, "microsoft")
    assert uris(news_db, hits)[0] == best
    assert len(hits) == sum(1 for t in TEXTS if "Microsoft" in t)
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    assert "[[Microsoft]]" in hits[0]["snippet"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--lang", "en"], ["https://news.example.org/a", "seeds/2.txt"]),
        (["--since", "2026-11-21"], ["https://news.example.org/b", "seeds/1.txt", "seeds/2.txt"]),
        (
            ["--source", "https://news.example.org/rss.xml"],
            ["https://news.example.org/a", "https://news.example.org/b"],
        ),
        (["--source", "Le Flux", "--lang", "fr"], ["https://news.example.org/b"]),
        (["--limit", "1"], None),
    ],
)
def test_filters(news_db: Path, args: list[str], expected: list[str] | None) -> None:  # noqa: F811
    everything = uris(news_db, search(news_db, "altman"))
    assert len(everything) == 5
    got = uris(news_db, search(news_db, "altman", *args))
    assert sorted(got) == (expected if expected is not None else everything[:1])
    assert got == [u for u in everything if u in got]  # filtered, not ranked otherwise


def test_accents_and_case_are_folded_and_words_stemmed(db_path: Path) -> None:
    text = (
        "L’élection présidentielle aura lieu en avril. Les candidats à l’élection "
        "préparent leurs programmes et les électeurs attendent les débats télévisés."
    )
    run(db_path, "r1", [make(text, key="seeds/e.txt"), make(TEXTS[0], key="seeds/0.txt")])
    for query in ("ÉLECTION", "election", "élections", "Débat"):
        hits = search(db_path, query)
        assert uris(db_path, hits) == ["seeds/e.txt"], query
    assert search(db_path, "ÉLECTION")[0]["snippet"].startswith("L’[[élection]] présidentielle")
    assert "[[élection]]" in search(db_path, "élections")[0]["snippet"]


def test_a_query_with_no_match_exits_0_with_0_rows(news_db: Path) -> None:  # noqa: F811
    for query in ("zyzzyva", "", "!!! 42"):
        out = runner.invoke(app, ["search", query, "--db", str(news_db)])
        assert out.exit_code == 0, out.output
        assert out.stdout.strip().endswith("0 rows")


def test_table_output_shows_the_snippet_and_a_row_count(news_db: Path) -> None:  # noqa: F811
    out = runner.invoke(app, ["search", "Nadella", "--db", str(news_db)], env={"COLUMNS": "250"})
    assert out.exit_code == 0, out.output
    assert "[[Nadella]]" in out.stdout and out.stdout.strip().endswith("rows")


def test_the_search_macro_works_in_plain_sql_through_newsflow_query(news_db: Path) -> None:  # noqa: F811
    sql = (
        "SELECT a.raw_uri, s.score FROM search('Microsoft OpenAI') AS s "
        "JOIN articles AS a USING (article_id) ORDER BY s.score DESC"
    )
    out = runner.invoke(app, ["query", sql, "--db", str(news_db), "--format", "json"])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.stdout)
    ranked = search(news_db, "Microsoft OpenAI")
    assert [r["raw_uri"] for r in rows] == uris(news_db, ranked)
    assert [round(r["score"], 4) for r in rows] == [h["score"] for h in ranked]


def test_scores_are_those_of_the_fts_extension(db_path: Path) -> None:
    """The same BM25 as fts's match_bm25 on an index of the same texts (one stemmer, no stop
    words, split on non-letters)."""
    run(db_path, "r1", [make(t, key=f"seeds/{i}.txt", title=t.split("\n")[0]) for i, t in enumerate(TEXTS)])
    query = "Microsoft partenariat concurrents Altman"
    with warehouse.connect(db_path, read_only=True) as con:
        ours = dict(con.execute(f"SELECT article_id, score FROM search('{query}')").fetchall())
        docs = con.execute("SELECT article_id, title, text FROM articles").arrow()
    with duckdb.connect() as con:
        extensions.load(con, "fts")
        con.register("texts", docs)
        con.execute("CREATE TABLE docs AS SELECT * FROM texts")
        con.execute(
            "PRAGMA create_fts_index('docs', 'article_id', 'title', 'text', "
            r"stemmer = 'french', stopwords = 'none', ignore = '[^\p{L}]+', overwrite = 1)"
        )
        theirs = dict(
            con.execute(
                "SELECT article_id, score FROM (SELECT article_id, "
                f"fts_main_docs.match_bm25(article_id, '{query}') AS score FROM docs) WHERE score IS NOT NULL"
            ).fetchall()
        )
    assert ours.keys() == theirs.keys() and len(ours) == 5
    assert {k: round(v, 9) for k, v in ours.items()} == {k: round(v, 9) for k, v in theirs.items()}


def test_a_warehouse_from_before_search_is_indexed_by_the_migration(db_path: Path) -> None:
    run(db_path, "r1", [make(t, key=f"seeds/{i}.txt") for i, t in enumerate(TEXTS)])
    postings = "SELECT * FROM search_terms ORDER BY ALL"
    lengths = "SELECT * FROM search_docs ORDER BY ALL"
    with warehouse.connect(db_path) as con:
        indexed = (
            con.execute(postings).fetchall(),
            con.execute(lengths).fetchall(),
        )
        con.execute("BEGIN TRANSACTION")  # as a warehouse of the version before this one
        con.execute("DROP MACRO TABLE search")
        con.execute("DROP TABLE search_terms")
        con.execute("DROP TABLE search_docs")
        con.execute("DELETE FROM schema_migrations WHERE version = 2")
        con.execute("COMMIT")
        assert warehouse.migrate(con) == [2]
        backfilled = (
            con.execute(postings).fetchall(),
            con.execute(lengths).fetchall(),
        )
    assert backfilled == indexed and len(indexed[1]) == 5
    assert len(search(db_path, "microsoft")) == 4


def test_every_stemmer_named_is_one_fts_has() -> None:
    languages = re.findall(r"WHEN '(\w+)' THEN", MIGRATION.read_text(encoding="utf-8"))
    with warehouse.connect(":memory:") as con:
        warehouse.migrate(con)
        stemmers = con.execute(
            "SELECT list(DISTINCT search_stemmer(l)) FROM unnest(?) AS t(l)", [languages]
        ).fetchone()[0]
        assert len(stemmers) == 26  # all of fts's but porter (english is its successor)
        for stemmer in stemmers:  # an unknown name raises
            con.execute("SELECT stem('elections', ?)", [stemmer]).fetchone()
        assert con.execute("SELECT search_stemmer('ja'), search_stemmer('und')").fetchone() == (
            "none",
            "none",
        )


def test_snippets_window_the_first_match_and_mark_every_match() -> None:
    text = "Début. " + "mot " * 40 + "Le climat change.\nLe climat, encore. " + "fin " * 40
    got = snippet(text, {"climat": True}, width=60)
    assert got.startswith("…mot") and got.endswith("…")
    assert got.count("[[climat]]") == 2 and "\n" not in got
    assert snippet("Titre seul sans le mot.", {}, width=60) == "Titre seul sans le mot."
