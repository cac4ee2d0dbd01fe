"""Revisions end to end: a feed re-lists a stored page with a newer `updated` date and the page's
text changed; the newest text is kept, the earlier one in article_versions."""

from __future__ import annotations

import html
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

import warehouse
from flows.ingest import ingest
from tests.conftest import SEEDS, accounted, runs_accounted

pytestmark = [pytest.mark.prefect, pytest.mark.usefixtures("prefect_harness")]

TABLES = ("articles", "article_versions", "raw_documents", "signatures", "duplicates", "quarantine")


def page(*paragraphs: str) -> bytes:
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return (
        "<html><head><title>Altman et Nadella</title></head><body><article><h1>Altman et Nadella</h1>"
        f"{body}</article></body></html>"
    ).encode()


def feed(server: HTTPServer, updated: datetime) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>site</title><id>{server.url_for('/')}</id><updated>{updated:%Y-%m-%dT%H:%M:%SZ}</updated>"
        f"<entry><title>Altman et Nadella</title><id>urn:story:1</id>"
        f'<link href="{server.url_for("/story")}"/><updated>{updated:%Y-%m-%dT%H:%M:%SZ}</updated></entry>'
        "</feed>"
    ).encode()


def serve(server: HTTPServer, updated: datetime, body: bytes) -> None:
    server.clear()
    server.expect_request("/feed.xml").respond_with_data(
        feed(server, updated), content_type="application/atom+xml"
    )
    server.expect_request("/story").respond_with_data(body, content_type="text/html; charset=utf-8")


def table_counts(db: Path) -> dict[str, int]:
    with warehouse.connect(db, read_only=True) as con:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


def test_a_page_relisted_with_a_newer_date_and_changed_text_is_revised(
    httpserver: HTTPServer, tmp_path: Path, db_path: Path
) -> None:
    lines = [ln.strip("- ") for ln in (SEEDS / "000_ad7065b6d2865418.txt").read_text().splitlines()[1:] if ln]
    added = [
        ln.strip("- ") for ln in (SEEDS / "002_5df296c2523e40f1.txt").read_text().splitlines()[1:6] if ln
    ]
    empty = tmp_path / "no-seeds"
    empty.mkdir()
    params = dict(db=str(db_path), seeds=str(empty), feeds=[httpserver.url_for("/feed.xml")])
    first_date = datetime(2026, 1, 1, tzinfo=UTC)
    serve(httpserver, first_date, page(*lines))
    first = accounted(ingest(**params))
    assert (first.new, first.revisited, first.revised) == (1, 0, 0)
    with warehouse.connect(db_path, read_only=True) as con:
        (old_text, old_hash, old_run) = con.execute(
            "SELECT text, content_hash, run_id FROM articles"
        ).fetchone()

    # The feed says the story changed after it was fetched; the page has two more paragraphs.
    updated = (datetime.now(UTC) + timedelta(seconds=1)).replace(microsecond=0)
    time.sleep(max(0.0, (updated - datetime.now(UTC)).total_seconds()) + 0.2)
    serve(httpserver, updated, page(*lines[:3], *added, *lines[3:]))
    second = accounted(ingest(**params))
    assert (second.new, second.unchanged, second.revisited, second.revised) == (0, 1, 1, 1)
    with warehouse.connect(db_path, read_only=True) as con:
        text, content_hash, run_id = con.execute("SELECT text, content_hash, run_id FROM articles").fetchone()
        versions = con.execute(
            "SELECT version, text, content_hash, run_id, replaced_by, reason, change_size "
            "FROM article_versions"
        ).fetchall()
        stories = con.execute("SELECT versions, title, last_reason FROM changed_stories").fetchall()
        # The search index follows the new text: one document, with the added paragraph's words.
        new_word = max(set(re.findall(r"[^\W\d_]{9,}", added[0])) - set(re.findall(r"[^\W\d_]+", old_text)))
        found = con.execute("SELECT count(*) FROM search(?)", [new_word]).fetchone()
        docs = con.execute("SELECT count(*) FROM search_docs").fetchone()
    assert found == (1,) and docs == (1,), new_word
    assert added[0] in text and added[0] not in old_text and content_hash != old_hash
    assert run_id == second_run_id(db_path)
    assert [v[:6] for v in versions] == [(1, old_text, old_hash, old_run, run_id, "refetch")]
    assert versions[0][6] >= 0.05
    assert stories == [(2, "Altman et Nadella", "refetch")]

    # The same input again: the feed's body is the same, nothing is fetched or added.
    before = table_counts(db_path)
    third = accounted(ingest(**params))
    assert (third.new, third.revisited, third.revised) == (0, 0, 0)
    assert table_counts(db_path) == before

    # A forced run fetches the recently stored story again: same text, nothing added.
    requests = len(httpserver.log)
    forced = accounted(ingest(**params, force=True))
    assert (forced.new, forced.unchanged, forced.revisited, forced.revised) == (0, 1, 1, 0)
    assert sorted(r.path for r, _ in httpserver.log[requests:]) == ["/feed.xml", "/story"]
    assert table_counts(db_path) == before
    runs_accounted(db_path)


def second_run_id(db: Path) -> str:
    with warehouse.connect(db, read_only=True) as con:
        return con.execute("SELECT run_id FROM runs ORDER BY started_at LIMIT 1 OFFSET 1").fetchone()[0]
