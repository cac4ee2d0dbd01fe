"""Re-extraction on a real warehouse: stored raw documents cleaned again, without refetching."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

import tasks.prepare
import warehouse
from flows.ingest import ingest
from flows.reextract import reextract
from tasks.records import Document, Quarantined, RawDocument
from tests.conftest import accounted, runs_accounted

pytestmark = [pytest.mark.prefect, pytest.mark.usefixtures("prefect_harness")]


def rows(db: Path, sql: str) -> list[tuple]:
    with warehouse.connect(db, read_only=True) as con:
        return con.execute(sql).fetchall()


def test_reextract_revises_changed_articles_and_a_second_one_changes_nothing(
    seed_dir: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    accounted(ingest(db=str(db_path), seeds=str(seed_dir)))
    stored = dict(rows(db_path, "SELECT raw_uri, text FROM articles"))
    words = rows(db_path, "SELECT raw_uri, word_count FROM articles ORDER BY word_count")
    shortest, longest = words[0][0], words[-1][0]
    # The cleaner changed: it now drops the last fifth of the longest story, and stories as short
    # as the shortest one are too short.
    clean = tasks.prepare.clean_document

    def cleaner(raw: RawDocument, repeated: frozenset[str]) -> Document | Quarantined:
        doc = clean(raw, repeated)
        if isinstance(doc, Document) and raw.uri == longest:
            words = doc.text.split(" ")
            return replace(doc, text=" ".join(words[: len(words) * 4 // 5]))
        return doc

    monkeypatch.setattr(tasks.prepare, "clean_document", cleaner)
    monkeypatch.setenv("NEWSFLOW_MIN_WORDS", str(words[0][1] + 1))
    before = rows(db_path, "SELECT count(*) FROM articles")

    first = reextract(db=str(db_path))
    assert (first.reextracted, first.changed, first.unchanged, first.quarantined) == (5, 1, 3, 1)
    assert first.quarantine_reasons == {"normalize:too_short": 1}
    assert rows(db_path, "SELECT count(*) FROM articles") == before  # the short one stays stored
    text = rows(db_path, f"SELECT text FROM articles WHERE raw_uri = '{longest}'")[0][0]
    assert text != stored[longest] and stored[longest].startswith(text.splitlines()[0])
    assert rows(db_path, f"SELECT text FROM articles WHERE raw_uri = '{shortest}'")[0][0] == stored[shortest]
    versions = rows(db_path, "SELECT raw_uri, version, text, reason FROM article_versions")
    assert versions == [(longest, 1, stored[longest], "reextract")]
    assert rows(db_path, "SELECT uri, stage, reason FROM quarantine") == [
        (shortest, "normalize", "too_short")
    ]
    # One run row, counted as every run is.
    counts = rows(
        db_path,
        "SELECT counts ->> 'kind', counts ->> 'revised' FROM runs WHERE counts ->> 'kind' IS NOT NULL",
    )
    assert counts == [("reextract", "1")]
    runs_accounted(db_path)

    second = reextract(db=str(db_path))
    assert (second.reextracted, second.changed, second.unchanged, second.quarantined) == (5, 0, 4, 1)
    assert rows(db_path, "SELECT count(*) FROM article_versions") == [(1,)]
    assert rows(db_path, "SELECT count(*) FROM articles") == before

    # --source by URI, --since past every document: nothing selected.
    seeds_uri = rows(db_path, "SELECT uri FROM sources WHERE kind = 'seeds'")[0][0]
    assert reextract(db=str(db_path), source=seeds_uri).reextracted == 5
    assert reextract(db=str(db_path), source="no-such-source").reextracted == 0
