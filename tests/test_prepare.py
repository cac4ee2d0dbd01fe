"""The worker pool: input order, time limits that kill and replace workers, and the Dask path."""

from __future__ import annotations

import time
import zlib
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

import warehouse
from tasks.clean import clean_document, repeated_by_source
from tasks.dedup import sign
from tasks.fetch.files import read_folder
from tasks.language import detect_language
from tasks.normalize import to_article
from tasks.pool import DocumentPool, Failed, start_early, take_early
from tasks.prepare import PRELOAD, PrepareConfig, prepare_all, worker_pool
from tasks.records import Article, Prepared, Quarantined, RawDocument, Source
from tests.conftest import accounted

NOW = datetime(2024, 5, 1, tzinfo=UTC)
CONFIG = PrepareConfig(NOW, 0.80, 2000, 25, timeout=60.0, run_id="r0")
# A flat body of 60,000 paragraphs: trafilatura goes superlinear on it (15 s on one core).
PATHOLOGICAL = (
    "<html><body>" + "".join(f"<p>mot{i} et encore</p>" for i in range(60_000)) + "</body></html>"
).encode()


def nap(seconds: float) -> float:
    """Sleep, then return the argument: a job whose duration the test chooses."""
    time.sleep(seconds)
    return seconds


def fail(value: int) -> int:
    raise ValueError(f"bad input {value}")


@pytest.fixture(scope="module")
def pool() -> DocumentPool:
    with DocumentPool(2, preload=["tasks.prepare"]) as pool:
        yield pool


def seed_documents(seed_dir: Path) -> list[RawDocument]:
    docs, bad = read_folder(seed_dir, Source("seeds", str(seed_dir)), now=NOW, max_bytes=10**7)
    assert bad == []
    return docs


def test_results_keep_input_order_whatever_finishes_first(pool: DocumentPool) -> None:
    jobs = [0.4, 0.0, 0.3, 0.0, 0.1, 0.0]
    assert pool.map(nap, jobs, timeout=30) == jobs


def test_a_stuck_job_is_killed_and_its_worker_replaced(pool: DocumentPool) -> None:
    started = time.monotonic()
    results = pool.map(nap, [0.0, 3600.0, 0.1, 0.0], timeout=1.0)
    assert time.monotonic() - started < 30
    assert results[0] == 0.0 and results[2:] == [0.1, 0.0]
    assert isinstance(results[1], Failed) and results[1].reason == "timeout"
    assert pool.map(nap, [0.0, 0.0, 0.0], timeout=30) == [0.0, 0.0, 0.0]  # the pool recovered


def test_an_error_in_a_job_is_raised_in_the_caller(pool: DocumentPool) -> None:
    with pytest.raises(ValueError, match="bad input 2"):
        pool.map(fail, [2], timeout=30)
    assert pool.map(nap, [0.0], timeout=30) == [0.0]


def test_a_pool_whose_workers_cannot_start_says_so_when_first_used() -> None:
    # the workers start in the background; what stops them is raised to the caller, not lost
    with DocumentPool(1, warm=lambda: None) as broken, pytest.raises(AttributeError, match="pickle"):
        broken.map(nap, [0.0], timeout=30)


def serial(docs: list[RawDocument]) -> tuple[list, list]:
    """The stages one after another, as the flow ran them before the pool."""
    repeated = repeated_by_source(docs)
    cleaned, dropped = [], []
    for raw in docs:
        doc = clean_document(raw, repeated.get(raw.source_id, frozenset()))
        (dropped if isinstance(doc, Quarantined) else cleaned).append(doc)
    articles, too_short = [], []
    for doc in cleaned:
        guess = detect_language(
            doc.text, threshold=CONFIG.language_threshold, sample_chars=CONFIG.language_sample_chars
        )
        result = to_article(doc, guess, now=NOW, min_words=CONFIG.min_words, run_id="r0")
        if isinstance(result, Article):
            raw = doc.raw
            articles.append(Prepared(result, zlib.compress(raw.body, 6), raw.media_type, *sign(result.text)))
        else:
            too_short.append(result)
    return articles, dropped + too_short


@pytest.mark.parametrize(
    "workers",
    [
        2,  # worker processes
        0,  # in process: what a daemonic Dask worker does
    ],
)
def test_pool_gives_what_the_serial_stages_give(seed_dir: Path, workers: int) -> None:
    (seed_dir / "short.txt").write_text("Trop court pour un article.", encoding="utf-8")
    docs = seed_documents(seed_dir)
    with worker_pool(workers) as pool:
        articles, bad = prepare_all(docs, CONFIG, pool)
    assert (articles, bad) == serial(docs)
    assert [p.article.raw_uri for p in articles] == [d.uri for d in docs if d.uri != "seeds/short.txt"]
    assert [(q.uri, q.reason) for q in bad] == [("seeds/short.txt", "too_short")]
    assert all(a.signature for a in articles)
    # Level 6, compressed where the article was prepared: the bytes raw_documents always held.
    assert [zlib.decompress(a.body_zlib) for a in articles] == [
        d.body for d in docs if d.uri != "seeds/short.txt"
    ]


@pytest.mark.slow
def test_a_pathological_page_is_quarantined_while_the_others_complete(seed_dir: Path) -> None:
    docs = seed_documents(seed_dir)
    stuck = RawDocument(
        docs[0].source_id,
        "http://127.0.0.1/flat.html",
        PATHOLOGICAL,
        "text/html",
        NOW,
        final_url="http://127.0.0.1/flat.html",
    )
    batch = [*docs[:2], stuck, *docs[2:]]
    with worker_pool(2) as pool:
        articles, bad = prepare_all(batch, replace(CONFIG, timeout=5.0), pool)
        again, _ = prepare_all(docs, CONFIG, pool)
    assert [p.article.raw_uri for p in articles] == [d.uri for d in docs]
    assert [(q.uri, q.stage, q.reason) for q in bad] == [
        ("http://127.0.0.1/flat.html", "clean", "extract_timeout")
    ]
    assert again == articles


@pytest.mark.slow
@pytest.mark.prefect
@pytest.mark.usefixtures("prefect_harness")
def test_the_flow_runs_its_batches_on_a_dask_cluster(
    seed_dir: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    distributed = pytest.importorskip("distributed")
    from flows.ingest import ingest

    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        # Only the setting changes: the flow itself picks the cluster up.
        monkeypatch.setenv("NEWSFLOW_DASK_ADDRESS", cluster.scheduler_address)
        # 3 batches, 2 prepared at once: staged in order all the same.
        monkeypatch.setenv("NEWSFLOW_BATCH_SIZE", "2")
        monkeypatch.setenv("NEWSFLOW_DASK_BATCHES", "2")
        summary = accounted(ingest(db=str(db_path), seeds=str(seed_dir)))
        with distributed.Client(cluster) as client:
            ran = client.run_on_scheduler(lambda dask_scheduler: dict(dask_scheduler.task_prefixes))
    assert (summary.new, summary.languages) == (5, {"fr": 5})
    assert [name for name in ran if name.startswith("prepare")], ran
    with warehouse.connect(db_path, read_only=True) as con:
        stored = [row[0] for row in con.execute("SELECT raw_uri FROM articles").fetchall()]
    assert sorted(stored) == sorted(f"seeds/{p.name}" for p in seed_dir.glob("*.txt"))


def test_the_workers_newsflow_run_starts_before_prefect_are_the_flows(
    seed_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tasks.pool
    from flows.cli import _start_workers

    monkeypatch.setenv("NEWSFLOW_WORKERS", "2")
    _start_workers()  # what `newsflow run` does first
    (started,) = tasks.pool._early.values()
    with worker_pool(2) as pool:
        assert pool is started
        articles, bad = prepare_all(seed_documents(seed_dir), CONFIG, pool)
    assert len(articles) + len(bad) == len(seed_documents(seed_dir))
    assert take_early(2, PRELOAD) is None  # taken once


def test_workers_started_early_with_another_size_are_closed_not_used() -> None:
    start_early(1, PRELOAD)
    with worker_pool(2) as pool:
        assert pool is not None and pool.size == 2
    assert take_early(1, PRELOAD) is None
