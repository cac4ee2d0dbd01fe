"""newsflow export: articles copied by DuckDB to Parquet, CSV and JSON lines, read back."""

from __future__ import annotations

import zlib
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

import warehouse
from flows.cli import app
from tasks.records import Source
from tests.test_dedup import make
from tests.test_load import TEXTS, run

runner = CliRunner()
SEEDS = Source("seeds", "/seeds")
FEED = Source("feed", "https://news.example.org/rss.xml")
READ = {"parquet": "read_parquet", "csv": "read_csv", "jsonl": "read_json"}
# raw_uri -> (source, language, published day or None: dated by its fetch, 2026-11-22)
ARTICLES = {
    "seeds/0.txt": (SEEDS, "fr", datetime(2026, 11, 20, 8, tzinfo=UTC)),
    "seeds/1.txt": (SEEDS, "fr", None),
    "seeds/2.txt": (SEEDS, "en", datetime(2026, 11, 21, 23, 59, tzinfo=UTC)),
    "https://news.example.org/a": (FEED, "en", datetime(2026, 11, 20, 12, tzinfo=UTC)),
    "https://news.example.org/b": (FEED, "fr", datetime(2026, 11, 21, 6, tzinfo=UTC)),
}


@pytest.fixture
def news_db(db_path: Path) -> Path:
    """Five articles of two sources, two languages and three days; the feed subscribed by name."""
    prepared = []
    for text, (key, (source, language, published)) in zip(TEXTS, ARTICLES.items(), strict=True):
        article = make(text, key=key, source_id=source.source_id, language=language, published_at=published)
        # one document stored in Latin-1: exported as text in its own charset
        body, charset = (
            (text.encode("latin-1", "replace"), "iso-8859-1")
            if key.endswith("b")
            else (text.encode(), "utf-8")
        )
        prepared.append(
            replace(
                article, body_zlib=zlib.compress(body, 6), article=replace(article.article, encoding=charset)
            )
        )
    run(db_path, "r1", prepared, sources=[SEEDS, FEED])
    added = runner.invoke(
        app, ["sources", "add", FEED.uri, "--kind", "feed", "--name", "Le Flux", "--db", str(db_path)]
    )
    assert added.exit_code == 0, added.output
    return db_path


def exported(path: Path, fmt: str, query: str = "SELECT * FROM t ORDER BY raw_uri") -> list[dict]:
    """Return the rows of exported files, read back by DuckDB."""
    if path.is_file() and path.stat().st_size == 0:  # JSON lines of no article: nothing to read
        return []
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        source = (
            f"{READ[fmt]}('{path}/**/*', hive_partitioning = true)"
            if path.is_dir()
            else f"{READ[fmt]}('{path}')"
        )
        cursor = con.execute(query.replace("FROM t", f"FROM {source}"))
        columns = [d[0] for d in cursor.description or []]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def article_columns(db: Path) -> list[str]:
    with warehouse.connect(db, read_only=True) as con:
        return [d[0] for d in con.execute("SELECT * FROM articles LIMIT 0").description or []]


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
def test_export_writes_every_article_with_its_columns(news_db: Path, tmp_path: Path, fmt: str) -> None:
    target = tmp_path / f"articles.{fmt}"
    out = runner.invoke(app, ["export", "--format", fmt, "-o", str(target), "--db", str(news_db)])
    assert out.exit_code == 0, out.output
    assert out.stdout.strip() == f"wrote 5 articles to {target} ({fmt})"
    rows = exported(target, fmt)
    assert list(rows[0]) == [*article_columns(news_db), "source_kind", "source_uri", "day"]
    assert [r["raw_uri"] for r in rows] == sorted(ARTICLES)
    assert {r["raw_uri"]: r["source_uri"] for r in rows} == {k: s.uri for k, (s, _, _) in ARTICLES.items()}
    assert [r["text"] for r in rows if r["raw_uri"] == "seeds/0.txt"] == [TEXTS[0]]  # text survives as is


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        # published on or after the day, or, undated, fetched on or after it
        (["--since", "2026-11-21"], ["https://news.example.org/b", "seeds/1.txt", "seeds/2.txt"]),
        (["--lang", "en"], ["https://news.example.org/a", "seeds/2.txt"]),
        # a source by its URI, or a subscription by its name
        (["--source", "/seeds"], ["seeds/0.txt", "seeds/1.txt", "seeds/2.txt"]),
        (["--source", "Le Flux"], ["https://news.example.org/a", "https://news.example.org/b"]),
        # filters combine
        (["--source", "Le Flux", "--lang", "fr", "--since", "2026-11-21"], ["https://news.example.org/b"]),
        (["--lang", "de"], []),
    ],
)
def test_export_filters(news_db: Path, tmp_path: Path, args: list[str], expected: list[str]) -> None:
    target = tmp_path / "out.jsonl"
    out = runner.invoke(app, ["export", "--format", "jsonl", "-o", str(target), *args, "--db", str(news_db)])
    assert out.exit_code == 0, out.output
    assert f"wrote {len(expected)} article" in out.stdout
    assert [r["raw_uri"] for r in exported(target, "jsonl")] == expected


def test_export_partitions_parquet_by_day(news_db: Path, tmp_path: Path) -> None:
    target = tmp_path / "by-day"
    out = runner.invoke(app, ["export", "-o", str(target), "--partition-by-day", "--db", str(news_db)])
    assert out.exit_code == 0, out.output
    assert "wrote 5 articles" in out.stdout
    assert sorted(p.name for p in target.iterdir()) == ["day=2026-11-20", "day=2026-11-21", "day=2026-11-22"]
    rows = exported(target, "parquet", "SELECT CAST(day AS VARCHAR) AS day, raw_uri FROM t ORDER BY raw_uri")
    assert {r["raw_uri"]: r["day"] for r in rows} == {
        "https://news.example.org/a": "2026-11-20",
        "https://news.example.org/b": "2026-11-21",
        "seeds/0.txt": "2026-11-20",
        "seeds/1.txt": "2026-11-22",  # undated: the day it was fetched
        "seeds/2.txt": "2026-11-21",  # 23:59 UTC is still that day
    }


def test_export_with_raw_documents(news_db: Path, tmp_path: Path) -> None:
    target = tmp_path / "raw.parquet"
    out = runner.invoke(app, ["export", "-o", str(target), "--with-raw", "--db", str(news_db)])
    assert out.exit_code == 0, out.output
    rows = {r["raw_uri"]: r for r in exported(target, "parquet")}
    latin = rows["https://news.example.org/b"]
    assert (latin["raw_encoding"], latin["raw_media_type"]) == ("iso-8859-1", "text/plain")
    assert latin["raw_body"] == TEXTS[4].encode("latin-1", "replace").decode("latin-1")
    assert rows["seeds/0.txt"]["raw_body"] == TEXTS[0]


def test_export_refuses_to_replace_unless_asked(news_db: Path, tmp_path: Path) -> None:
    target = tmp_path / "articles.csv"
    target.write_text("mine\n")
    args = ["export", "--format", "csv", "-o", str(target), "--db", str(news_db)]
    refused = runner.invoke(app, args)
    assert refused.exit_code == 2 and "--overwrite" in refused.stderr and refused.stdout == ""
    assert target.read_text() == "mine\n"
    assert runner.invoke(app, [*args, "--overwrite"]).exit_code == 0
    assert len(exported(target, "csv")) == 5


def test_export_without_a_warehouse_says_what_to_do(tmp_path: Path) -> None:
    out = runner.invoke(
        app, ["export", "-o", str(tmp_path / "x.parquet"), "--db", str(tmp_path / "none.duckdb")]
    )
    assert out.exit_code == 2 and "newsflow run" in out.stderr
