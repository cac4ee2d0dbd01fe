"""The stream from jobs to staging: job order, the time limit, the bound on documents in flight,
and unchanged seed files left alone."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prefect.task_runners import ThreadPoolTaskRunner
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

import warehouse
from tasks.fetch.files import list_folder
from tasks.fetch.pages import in_host_turns
from tasks.fetch.polite import fetch_session
from tasks.pool import DocumentPool
from tasks.prepare import PrepareConfig, worker_pool
from tasks.records import FileJob, PageJob, Prepared, Source
from tasks.settings import Settings
from tasks.stream import Engine, Streamed, run_stream
from tasks.tally import Tally
from tests.conftest import FIXTURES, accounted

NOW = datetime(2024, 5, 1, tzinfo=UTC)
CONFIG = PrepareConfig(NOW, 0.80, 2000, 25, timeout=120.0, run_id="r0")
# Twice test_prepare's flat page: minutes of trafilatura on one core, far past any limit here.
PATHOLOGICAL = (
    "<html><body>" + "".join(f"<p>mot{i} et encore</p>" for i in range(120_000)) + "</body></html>"
).encode()
PAGES = sorted((FIXTURES / "pages").glob("*.html"))


@pytest.fixture(scope="module")
def pool() -> Iterator[DocumentPool | None]:
    with worker_pool(2) as pool:
        yield pool


def engine(pool: DocumentPool | None, batch_size: int) -> Iterator[Engine]:
    with fetch_session(Settings().fetch_policy()) as fetcher:
        yield Engine(fetcher, pool, ThreadPoolTaskRunner(), batch_size)


def keys(staged: list[list[Prepared]]) -> list[str]:
    return [p.article.raw_uri for batch in staged for p in batch]


@pytest.mark.parametrize(
    ("urls", "expected"),
    [
        # one host: its order
        (["http://a/1", "http://a/2"], ["http://a/1", "http://a/2"]),
        # hosts take turns in the order they first appear; a host with more pages ends the list
        (
            ["http://a/1", "http://a/2", "http://a/3", "http://b/1", "http://c/1", "http://b/2"],
            ["http://a/1", "http://b/1", "http://c/1", "http://a/2", "http://b/2", "http://a/3"],
        ),
    ],
)
def test_pages_take_turns_by_host_after_the_seed_files(urls: list[str], expected: list[str]) -> None:
    seed = FileJob(Path("s/x.txt"), Path("s"), "s/x.txt", "s", "text/plain")
    ordered = in_host_turns([PageJob(urls[0], "f"), seed, *(PageJob(u, "f") for u in urls[1:])])
    assert ordered[0] == seed
    assert [j.url for j in ordered[1:] if isinstance(j, PageJob)] == expected


@pytest.mark.slow
def test_a_stream_with_nothing_to_prepare_does_not_wait_for_its_workers() -> None:
    # workers that can never start: a stream that waited for them would raise their error
    with DocumentPool(1, warm=lambda: None) as broken:
        for run in engine(broken, 10):
            staged: list[list[Prepared]] = []
            assert run_stream([], run, CONFIG, staged.append) == Streamed(tally=Tally(jobs=0))
            assert staged == []


def test_the_stream_keeps_job_order_and_quarantines_a_page_past_its_time_limit(
    seed_dir: Path, pool: DocumentPool | None
) -> None:
    (seed_dir / "001z_flat.html").write_bytes(PATHOLOGICAL)  # sorted between two good files
    jobs = list_folder(seed_dir, Source("seeds", str(seed_dir)))
    good = [j for j in jobs if "flat" not in j.key]
    staged: list[list[Prepared]] = []
    for e in engine(pool, 2):
        run_stream(good, e, CONFIG, staged.append)  # warm both workers: imports on the first document
        staged.clear()
        streamed = run_stream(jobs, e, replace(CONFIG, timeout=20.0), staged.append)
    assert keys(staged) == [j.key for j in good]
    assert [len(batch) for batch in staged] == [2, 2, 1]
    assert [(q.uri, q.stage, q.reason) for q in streamed.dropped] == [
        ("seeds/001z_flat.html", "clean", "extract_timeout")
    ]
    assert streamed.documents == len(jobs)


def test_documents_in_flight_never_exceed_the_batch_size(
    httpserver: HTTPServer, pool: DocumentPool | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Fetching alone would take every page at once: 8 per host, 8 threads.
    monkeypatch.setenv("NEWSFLOW_HOST_CONCURRENCY", "8")
    monkeypatch.setenv("NEWSFLOW_FETCH_WORKERS", "8")
    lock = threading.Lock()
    requests: list[str] = []

    def page(request: Request) -> Response:
        with lock:
            requests.append(request.path)
        body = PAGES[int(request.path.removeprefix("/p")) % len(PAGES)].read_bytes()
        return Response(body, content_type="text/html; charset=utf-8")

    jobs = [PageJob(httpserver.url_for(f"/p{i}"), "site") for i in range(16)]
    for i in range(len(jobs)):
        httpserver.expect_request(f"/p{i}").respond_with_handler(page)
    bound = 3
    staged: list[list[Prepared]] = []
    requested_at_stage: list[int] = []

    def stage(articles: list[Prepared]) -> None:
        with lock:
            requested_at_stage.append(len(requests))
        staged.append(list(articles))

    for e in engine(pool, bound):
        streamed = run_stream(jobs, e, CONFIG, stage)
    assert streamed.dropped == [] and streamed.documents == len(jobs)
    assert keys(staged) == [j.url for j in jobs]
    # When a batch is staged, no page past the staged ones and the window has been asked for.
    done = 0
    for batch, requested in zip(staged, requested_at_stage, strict=True):
        done += len(batch)
        assert requested <= done + bound, (requested, done)
    assert streamed.peak_in_flight <= bound


def test_a_batch_that_fails_to_stage_fails_the_stream_and_none_is_staged_after_it(
    httpserver: HTTPServer, pool: DocumentPool | None
) -> None:
    for i, path in enumerate(PAGES):
        httpserver.expect_request(f"/p{i}").respond_with_data(path.read_bytes(), content_type="text/html")
    jobs = [PageJob(httpserver.url_for(f"/p{i}"), "site") for i in range(len(PAGES))]
    staged: list[list[Prepared]] = []

    def stage(articles: list[Prepared]) -> None:
        staged.append(list(articles))
        if len(staged) == 1:
            raise OSError("disk full")

    for e in engine(pool, 2):
        with pytest.raises(OSError, match="disk full"):
            run_stream(jobs, e, CONFIG, stage)
    # Staging runs beside the stream: the second batch is handed over only once the first is staged.
    assert len(staged) == 1


@pytest.mark.prefect
@pytest.mark.usefixtures("prefect_harness")
def test_unchanged_seed_files_are_not_prepared_again(seed_dir: Path, db_path: Path) -> None:
    from flows.ingest import ingest

    first = accounted(ingest(db=str(db_path), seeds=str(seed_dir)))
    assert (first.documents, first.new) == (5, 5)
    with warehouse.connect(db_path, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM seed_files").fetchall() == [(5,)]

    second = accounted(ingest(db=str(db_path), seeds=str(seed_dir)))
    assert (second.documents, second.new, second.unchanged) == (0, 0, 5)

    edited = seed_dir / "002_5df296c2523e40f1.txt"
    edited.write_text(edited.read_text(encoding="utf-8") + "\nUne ligne de plus.\n", encoding="utf-8")
    touched = seed_dir / "004_d9cb10f2baa0daab.txt"
    mtime = touched.stat().st_mtime_ns
    os.utime(touched, ns=(mtime, mtime + 10**9))  # same bytes, another mtime: read again
    third = accounted(ingest(db=str(db_path), seeds=str(seed_dir)))
    assert (third.documents, third.unchanged) == (2, 5)

    fourth = accounted(ingest(db=str(db_path), seeds=str(seed_dir)))
    assert (fourth.documents, fourth.unchanged) == (0, 5)


@pytest.mark.prefect
@pytest.mark.usefixtures("prefect_harness")
def test_a_new_seed_file_loses_the_template_its_unchanged_neighbours_share(
    seed_dir: Path, db_path: Path
) -> None:
    from flows.ingest import ingest

    footer = "Ce texte est publié sous licence libre par la coopérative des journalistes du Rhône."
    for path in sorted(seed_dir.glob("*.txt")):
        path.write_text(path.read_text(encoding="utf-8").rstrip() + f"\n\n{footer}\n", encoding="utf-8")
    accounted(ingest(db=str(db_path), seeds=str(seed_dir)))
    new = (FIXTURES / "plaintext" / "fr_aoc_media_archaisme.txt").read_text(encoding="utf-8")
    (seed_dir / "new.txt").write_text(new.rstrip() + f"\n\n{footer}\n", encoding="utf-8")

    second = accounted(ingest(db=str(db_path), seeds=str(seed_dir)))
    assert (second.documents, second.new) == (1, 1)  # the five others are unchanged, not read again
    with warehouse.connect(db_path, read_only=True) as con:
        [(text,)] = con.execute("SELECT text FROM articles WHERE raw_uri = 'seeds/new.txt'").fetchall()
        stored = [
            t for (t,) in con.execute("SELECT text FROM articles WHERE raw_uri <> 'seeds/new.txt'").fetchall()
        ]
    assert all(footer not in t for t in stored)
    assert footer not in text  # its unchanged neighbours still say it is the source's template
