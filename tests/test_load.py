"""Loading: schema migrations, idempotent loads and atomic runs on a real DuckDB file."""

from __future__ import annotations

import shutil
import zlib
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

import warehouse
from tasks.dedup import BANDS, Verdicts
from tasks.load import LoadResult, load_batches
from tasks.records import Quarantined, Source
from tasks.report import ARTIFACT_ROWS
from warehouse.ledger import start_run

from .conftest import SEEDS
from .test_dedup import RULE, edited, first_words, make

NOW = datetime(2026, 11, 22, tzinfo=UTC)
TABLES = (
    "articles",
    "duplicates",
    "quarantine",
    "sources",
    "raw_documents",
    "signatures",
    "search_docs",
    "search_terms",
)
TEXTS = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]


def counts(db: Path) -> dict[str, int]:
    with warehouse.connect(db, read_only=True) as con:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


def run(db: Path, run_id: str, articles: list, quarantined: list | None = None, sources: list | None = None):
    with warehouse.connect(db) as con:
        start_run(con, run_id, None, NOW)
        return load_batches(
            con,
            run_id=run_id,
            batches=[articles],
            quarantined=quarantined or [],
            sources=sources or [Source("seeds", "/seeds")],
            now=NOW,
            near=RULE,
        )


def test_migrations_apply_once(db_path: Path) -> None:
    with warehouse.connect(db_path) as con:
        files = sorted((warehouse.MIGRATIONS / "lake").glob("*.sql"))
        assert warehouse.migrate(con) == [int(f.name[:3]) for f in files]
        assert warehouse.migrate(con) == []
        assert con.execute("SELECT count(*) FROM schema_migrations").fetchone() == (len(files),)
        views = {
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_type = 'VIEW'"
            ).fetchall()
        }
    assert {
        "latest_articles",
        "articles_per_day",
        "duplicate_pairs",
        "quarantine_summary",
        "run_history",
        "articles_by_language",
    } <= views


def test_second_load_of_the_same_input_adds_no_rows(db_path: Path) -> None:
    articles = [make(t, key=f"seeds/{i}.txt") for i, t in enumerate(TEXTS)]
    bad = [Quarantined("s", "seeds/empty.txt", "fetch", "empty", "no content")]
    first = run(db_path, "r1", articles, bad)
    after_first = counts(db_path)
    second = run(db_path, "r2", articles, bad)
    assert (first.new, second.new, second.unchanged) == (5, 0, 5)
    assert counts(db_path) == after_first
    assert after_first["articles"] == 5 and after_first["signatures"] == 5
    with warehouse.connect(db_path, read_only=True) as con:
        assert con.execute("SELECT times_seen, run_id, last_run_id FROM quarantine").fetchall() == [
            (2, "r1", "r2")
        ]


def test_near_duplicate_is_found_across_runs_through_the_band_index(db_path: Path) -> None:
    original = make(TEXTS[0], key="seeds/original.txt")
    run(db_path, "r1", [original])
    result = run(db_path, "r2", [make(edited(TEXTS[0]), key="seeds/edited.txt")])
    assert (result.new, result.duplicate_kinds) == (0, {"near": 1})
    with warehouse.connect(db_path, read_only=True) as con:
        assert con.execute("SELECT kind, duplicate_id, duplicate_of, run_id FROM duplicates").fetchall() == [
            ("near", "seeds/edited.txt", original.article.article_id, "r2")
        ]
        assert con.execute("SELECT original_uri FROM duplicate_pairs").fetchall() == [("seeds/original.txt",)]


def test_raw_documents_keep_the_body_compressed_as_prepared(db_path: Path) -> None:
    article = replace(make(TEXTS[1], key="seeds/1.txt"), body_zlib=zlib.compress(TEXTS[1].encode(), 6))
    run(db_path, "r1", [article])
    with warehouse.connect(db_path, read_only=True) as con:
        [(body,)] = con.execute("SELECT body_zlib FROM raw_documents").fetchall()
    assert body == article.body_zlib  # the worker compressed it; the load stores it as given
    assert zlib.decompress(body).decode() == TEXTS[1]


def test_a_failing_load_writes_nothing(db_path: Path) -> None:
    good = make(TEXTS[0], key="seeds/0.txt")
    broken = make(TEXTS[1], key="seeds/1.txt", language=None)  # violates NOT NULL
    with pytest.raises(duckdb.ConstraintException):
        run(db_path, "r1", [good, broken], [Quarantined("s", "x", "fetch", "empty")])
    assert set(counts(db_path).values()) == {0}
    assert run(db_path, "r2", [good]).new == 1  # and the next run loads it once


def test_quarantine_rows_repeated_within_a_run_are_merged(db_path: Path) -> None:
    same = Quarantined("s", "http://x/feed", "fetch", "http_503", "first")
    run(db_path, "r1", [], [same, replace(same, detail="second")])
    with warehouse.connect(db_path, read_only=True) as con:
        assert con.execute("SELECT detail, times_seen FROM quarantine").fetchall() == [("second", 1)]


def test_copies_in_later_batches_of_one_transaction_are_duplicates(db_path: Path) -> None:
    original = make(TEXTS[0], key="seeds/original.txt")
    other = make(TEXTS[1], key="seeds/other.txt")
    exact = make(TEXTS[0], key="seeds/exact.txt")
    near = make(edited(TEXTS[1]), key="seeds/near.txt")
    with warehouse.connect(db_path) as con:
        start_run(con, "r1", None, NOW)
        # The lookups of a later batch run inside the same transaction, before its commit:
        # they must see the rows the earlier batches inserted.
        result = load_batches(
            con,
            run_id="r1",
            batches=[[original], [other], [exact, near]],
            quarantined=[],
            sources=[Source("seeds", "/seeds")],
            now=NOW,
            near=RULE,
        )
    assert (result.new, result.duplicate_kinds) == (2, {"content": 1, "near": 1})
    with warehouse.connect(db_path, read_only=True) as con:
        assert con.execute(
            "SELECT duplicate_id, duplicate_of, kind FROM duplicates ORDER BY duplicate_id"
        ).fetchall() == [
            ("seeds/exact.txt", original.article.article_id, "content"),
            ("seeds/near.txt", other.article.article_id, "near"),
        ]
    assert counts(db_path)["articles"] == 2


def test_a_load_result_keeps_counts_and_only_the_first_new_articles() -> None:
    many = [make(TEXTS[0], key=f"seeds/{i}.txt", article_id=str(i)) for i in range(70)]
    result = LoadResult()
    result.add(Verdicts(many[:30], [], 2))
    result.add(Verdicts(many[30:], [], 1))
    assert (result.new, result.unchanged, result.languages) == (70, 3, {"fr": 70})
    assert [a.article_id for a in result.first_new] == [str(i) for i in range(ARTIFACT_ROWS)]


def test_a_truncated_copy_is_found_across_runs_with_its_containment(db_path: Path) -> None:
    original = make(TEXTS[1], key="seeds/original.txt")
    copy = make(first_words(TEXTS[1], 0.55), key="seeds/teaser.txt")  # Jaccard 0.50, wholly inside
    run(db_path, "r1", [original])
    result = run(db_path, "r2", [copy])
    assert (result.new, result.duplicate_kinds) == (0, {"near": 1})
    with warehouse.connect(db_path, read_only=True) as con:
        [(kind, of, similarity, contained)] = con.execute(
            "SELECT kind, duplicate_of, similarity, containment FROM duplicates"
        ).fetchall()
        assert con.execute("SELECT shingles FROM signatures").fetchall() == [(original.shingles,)]
        assert con.execute("SELECT containment FROM duplicate_pairs").fetchall() == [(contained,)]
    assert (kind, of) == ("near", original.article.article_id)
    assert similarity < RULE.threshold <= 1 and contained >= RULE.containment
    after = counts(db_path)
    again = run(db_path, "r3", [copy])
    assert (again.new, again.duplicates, again.unchanged) == (0, 0, 1)
    assert counts(db_path) == after


def index_keys(db: Path) -> dict[str, list[tuple[object, ...]]]:
    """Return the writer index's rows, table by table, in a stable order."""
    with warehouse.connect(db) as con:
        index = warehouse.index_cursor(con)
        return {
            t: index.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
            for t in ("article_keys", "duplicate_keys", "signature_keys", "lsh_bands")
        }


def test_a_deleted_index_is_rebuilt_from_the_lake_with_the_same_keys(db_path: Path) -> None:
    articles = [make(t, key=f"seeds/{i}.txt") for i, t in enumerate(TEXTS)]
    run(db_path, "r1", articles + [make(TEXTS[0], key="seeds/copy.txt")])
    built_by_load = index_keys(db_path)
    assert len(built_by_load["lsh_bands"]) == len(TEXTS) * BANDS
    assert len(built_by_load["duplicate_keys"]) == 1
    db_path.with_name(f".{db_path.stem}.index.duckdb").unlink()
    # Rebuilt in SQL from the stored signatures: the same band keys as tasks.dedup computes.
    assert index_keys(db_path) == built_by_load
    again = run(db_path, "r2", [make(edited(TEXTS[2]), key="seeds/edited.txt")])
    assert again.duplicate_kinds == {"near": 1}


def test_an_index_left_behind_the_lake_catches_up(db_path: Path, tmp_path: Path) -> None:
    # A run killed after the lake's commit and before the index's leaves the index one run behind.
    run(db_path, "r1", [make(TEXTS[0], key="seeds/a.txt")])
    index = db_path.with_name(f".{db_path.stem}.index.duckdb")
    shutil.copy(index, tmp_path / "behind.duckdb")
    run(db_path, "r2", [make(TEXTS[1], key="seeds/b.txt")])
    shutil.copy(tmp_path / "behind.duckdb", index)
    after = counts(db_path)
    third = run(db_path, "r3", [make(TEXTS[1], key="seeds/b.txt"), make(TEXTS[1], key="seeds/b-copy.txt")])
    assert (third.new, third.unchanged, third.duplicate_kinds) == (0, 1, {"content": 1})
    assert counts(db_path)["articles"] == after["articles"]


def test_a_stored_article_whose_text_changed_is_revised_and_its_keys_follow(db_path: Path) -> None:
    from dataclasses import replace

    first = [make(t, key=f"seeds/{i}.txt") for i, t in enumerate(TEXTS)]
    run(db_path, "r1", first)
    later = NOW.replace(hour=6)
    changed = TEXTS[1] + " " + TEXTS[3]  # a long passage added: a revision
    minor = TEXTS[2].replace(TEXTS[2].split()[5], "autrement", 1)  # one word: below the threshold
    again = [
        replace(p, article=replace(p.article, fetched_at=later))
        for p in (make(changed, key="seeds/1.txt"), make(minor, key="seeds/2.txt"), first[0])
    ]
    second = run(db_path, "r2", again)
    assert (second.new, second.unchanged, second.revisions.revised, second.revisions.minor) == (0, 3, 1, 1)
    with warehouse.connect(db_path, read_only=True) as con:
        text, run_id, fetched = con.execute(
            "SELECT text, run_id, fetched_at FROM articles WHERE raw_uri = 'seeds/1.txt'"
        ).fetchone()
        assert (text, run_id, fetched) == (changed, "r2", later)
        assert con.execute(
            "SELECT text, fetched_at FROM articles WHERE raw_uri = 'seeds/2.txt'"
        ).fetchone() == (
            TEXTS[2],
            later,
        )
        version = con.execute(
            "SELECT version, text, run_id, replaced_by, reason, change_size FROM article_versions"
        ).fetchall()
        assert [(v[0], v[1], v[3], v[4]) for v in version] == [(1, TEXTS[1], "r2", "refetch")]
        assert 0.05 <= version[0][5] <= 1
        assert con.execute("SELECT versions, last_reason FROM changed_stories").fetchall() == [(2, "refetch")]
        assert con.execute("SELECT count(*) FROM articles").fetchone() == (len(TEXTS),)
    keys = index_keys(db_path)
    # The index follows the new text; rebuilt from the lake, it holds the same keys.
    db_path.with_name(f".{db_path.stem}.index.duckdb").unlink()
    assert index_keys(db_path) == keys
    # A copy of the new text is now a content duplicate of the revised article.
    third = run(db_path, "r3", [make(changed, key="seeds/copy.txt")])
    assert third.duplicate_kinds == {"content": 1}
    assert counts(db_path)["articles"] == len(TEXTS)


def test_an_index_left_behind_a_revision_catches_up(db_path: Path, tmp_path: Path) -> None:
    run(db_path, "r1", [make(TEXTS[0], key="seeds/a.txt")])
    index = db_path.with_name(f".{db_path.stem}.index.duckdb")
    shutil.copy(index, tmp_path / "behind.duckdb")
    run(db_path, "r2", [make(TEXTS[1], key="seeds/a.txt")])  # the same key, another story
    revised = index_keys(db_path)
    shutil.copy(tmp_path / "behind.duckdb", index)
    assert index_keys(db_path) == revised
