"""Throughput, re-run cost and peak memory of `newsflow run` on corpus pages served over HTTP."""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
import psutil
import trafilatura

import warehouse
from benchmarks import save
from benchmarks.site import SIZE_CAP, Page, corpus_dir, load_pages, serve

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = Path(__file__).resolve().parent.parent
PREFECT = Path(sys.executable).with_name("prefect")
# `newsflow` as the console script runs it, but on this checkout's code (cwd first on sys.path).
NEWSFLOW = [sys.executable, "-c", "import sys; sys.argv[0] = 'newsflow'; from flows.cli import main; main()"]
SEEDS = ROOT / "seeds"
TIME_LIMIT = 30.0  # seconds per page in the bare loop: NEWSFLOW_EXTRACT_TIMEOUT's default
_LINE = re.compile(r"^(\d\d):(\d\d):(\d\d\.\d+) \| \w+ +\| (.*)$")


class PageTimeout(Exception):
    """A bare extraction ran past the per-page time limit."""


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise PageTimeout


def bare_loop(pages: Sequence[Page], time_limit: float = TIME_LIMIT) -> dict[str, Any]:
    """Return the pages/s of plain trafilatura.extract over the pages in this one process."""
    outputs = timed_out = 0
    previous = signal.signal(signal.SIGALRM, _alarm)
    cpu, start = time.process_time(), time.perf_counter()
    try:
        for page in pages:
            signal.setitimer(signal.ITIMER_REAL, time_limit)
            try:
                outputs += trafilatura.extract(page.body) is not None
            except PageTimeout:
                timed_out += 1
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
    finally:
        signal.signal(signal.SIGALRM, previous)
    seconds = time.perf_counter() - start
    return {
        "load_avg_before": _load(),
        "pages": len(pages),
        "with_text": outputs,
        "timed_out": timed_out,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(time.process_time() - cpu, 2),
        "pages_per_s": round(len(pages) / seconds, 2),
    }


# Functions whose cumulative time the profile of preparation reports, by what they do.
PROFILED = {
    "trafilatura.bare_extraction (main text)": ("trafilatura/core.py", "bare_extraction"),
    "page metadata (title, author, tags...)": ("tasks/clean/html.py", "page_metadata"),
    "  byline search (no author in meta tags)": ("tasks/clean/byline.py", "find_author"),
    "date search (htmldate, not run)": ("htmldate/core.py", "find_date"),
    "language (langdetect + py3langid)": ("tasks/language.py", "detect_language"),
    "normalize (to_article)": ("tasks/normalize.py", "to_article"),
    "signature and shingles": ("tasks/dedup.py", "sign"),
}


def stage_costs(pages: Sequence[Page], now: datetime) -> dict[str, Any]:
    """Return the CPU seconds per page of each preparation stage, in this process, on a sample:
    timed without a profiler, then split by a cProfile run over the same pages."""
    import cProfile
    import pstats

    from tasks.clean import clean_document
    from tasks.dedup import sign
    from tasks.language import detect_language
    from tasks.normalize import to_article
    from tasks.prepare import prepare_document, warm_up
    from tasks.records import Quarantined, RawDocument
    from tasks.settings import Settings

    warm_up()  # the models load on first use (in a run, in the workers' fork server): not timed
    sample_chars = Settings().language_sample_chars  # as a run reads it
    docs = [RawDocument("bench", f"http://bench.invalid/{p.name}", p.body, "text/html", now) for p in pages]
    cpu: dict[str, float] = {"bare trafilatura.extract": 0.0, "clean (decode + extract + metadata)": 0.0}
    cpu |= {"language": 0.0, "normalize": 0.0, "signature": 0.0}
    for page, raw in zip(pages, docs, strict=True):
        t0 = time.process_time()
        trafilatura.extract(page.body)
        t1 = time.process_time()
        cleaned = clean_document(raw, frozenset())
        t2 = time.process_time()
        cpu["bare trafilatura.extract"] += t1 - t0
        cpu["clean (decode + extract + metadata)"] += t2 - t1
        if isinstance(cleaned, Quarantined):
            continue
        guess = detect_language(cleaned.text, threshold=0.8, sample_chars=sample_chars)
        t3 = time.process_time()
        article = to_article(cleaned, guess, now=now, min_words=25, run_id="bench")
        t4 = time.process_time()
        if not isinstance(article, Quarantined):
            sign(article.text)
        t5 = time.process_time()
        cpu["language"] += t3 - t2
        cpu["normalize"] += t4 - t3
        cpu["signature"] += t5 - t4
    from tasks.prepare import PrepareConfig

    config = PrepareConfig(now, 0.8, sample_chars, 25, 60.0, "bench")
    profile = cProfile.Profile()
    profile.enable()
    for raw in docs:
        prepare_document(raw, frozenset(), config)
    profile.disable()
    stats = pstats.Stats(profile)
    total = max(stats.total_tt, 1e-9)  # type: ignore[attr-defined]
    shares = {}
    for label, (path, name) in PROFILED.items():
        cumulative = sum(
            entry[3]
            for (file, _, func), entry in stats.stats.items()  # type: ignore[attr-defined]
            if func == name and file.endswith(path)
        )
        shares[label] = round(cumulative / total, 3)
    return {
        "load_avg_before": _load(),
        "pages": len(pages),
        "cpu_ms_per_page": {k: round(1000 * v / len(pages), 1) for k, v in cpu.items()},
        "profile_share_of_prepare": shares,
    }


def _load() -> float:
    """Return the 1-minute load average: the machine is shared, so each figure carries it."""
    return round(os.getloadavg()[0], 2)


def _poll_memory(proc: psutil.Process, peaks: dict[str, float], done: threading.Event) -> None:
    children: dict[int, float] = {}  # CPU seconds last seen per child: workers are not reaped by us
    while not done.is_set():
        try:
            main = proc.memory_info().rss
            cpu = proc.cpu_times()
            tree = main
            for child in proc.children(recursive=True):
                tree += child.memory_info().rss
                times = child.cpu_times()
                children[child.pid] = times.user + times.system
        except psutil.Error:
            pass  # a child exited between listing and reading: the next poll sees the rest
        else:
            peaks["main"] = max(peaks["main"], main)
            peaks["tree"] = max(peaks["tree"], tree)
            peaks["main_cpu"] = cpu.user + cpu.system  # the flow's process, workers apart
            peaks["children_cpu"] = sum(children.values())
        done.wait(0.1)


def _phases(log: str, started: datetime) -> dict[str, float]:
    """Return seconds from process start to the end of each flow step, read from Prefect's log."""
    origin = started.hour * 3600 + started.minute * 60 + started.second + started.microsecond / 1e6
    marks: dict[str, float] = {}
    for line in log.splitlines():
        match = _LINE.match(line)
        if not match:
            continue
        at = int(match[1]) * 3600 + int(match[2]) * 60 + float(match[3]) - origin
        at += 86400 if at < -3600 else 0  # past midnight
        text = match[4]
        if "Beginning flow run" in text:
            marks.setdefault("flow_started", at)
        task = re.match(r"Task run '([a-z-]+)-[0-9a-f]+' - Finished in state", text)
        if task:
            marks[f"{task[1]}_done"] = at  # the last batch of a repeated task wins
        if text.startswith("Finished in state") or re.search(r"Flow run '.*' - Finished in", text):
            marks["flow_finished"] = at
    return {k: round(v, 2) for k, v in marks.items()}


def run_newsflow(
    feeds: Sequence[str], db: Path, env: dict[str, str], log: Path, seeds: Path | None = None
) -> dict[str, Any]:
    """Run `newsflow run` on the feeds (and seeds) into db; return wall and flow seconds,
    memory and counts."""
    if seeds is None:
        seeds = db.parent / "no-seeds"
        seeds.mkdir(exist_ok=True)
    cmd = [*NEWSFLOW, "run", "--db", str(db), "--seeds", str(seeds)]
    cmd += [arg for feed in feeds for arg in ("--feed", feed)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load = _load()
    started, start = datetime.now(), time.perf_counter()
    with log.open("w") as out:
        child = subprocess.Popen(
            cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **env, "COLUMNS": "200"},
            cwd=ROOT,
        )
        peaks: dict[str, float] = {"main": 0, "tree": 0, "main_cpu": 0.0, "children_cpu": 0.0}
        done = threading.Event()
        poller = threading.Thread(target=_poll_memory, args=(psutil.Process(child.pid), peaks, done))
        poller.start()
        code = child.wait()
        done.set()
        poller.join()
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    text = log.read_text(errors="replace")
    if code != 0:
        raise RuntimeError(f"newsflow run exited with {code}; log: {log}\n{text[-3000:]}")
    with warehouse.connect(db, read_only=True) as con:
        row = con.execute(
            "SELECT documents, new_articles, unchanged, duplicates, quarantined, counts, "
            "epoch(finished_at) - epoch(started_at) FROM runs ORDER BY started_at DESC LIMIT 1"
        ).fetchone()
    assert row is not None
    counts = json.loads(row[5])
    return {
        "load_avg_before": load,
        "wall_seconds": round(wall, 2),
        "flow_seconds": round(row[6], 2),  # flow body only: no interpreter or server start
        # The flow's process and its workers (forkserver children, which we do not reap).
        "cpu_seconds": round(peaks["main_cpu"] + peaks["children_cpu"], 2),
        "reaped_cpu_seconds": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 2),
        "main_cpu_seconds": round(peaks["main_cpu"], 2),  # last sample: fetch, staging, load, Prefect
        "peak_rss_mb": round(peaks["main"] / 2**20, 1),
        "peak_rss_tree_mb": round(peaks["tree"] / 2**20, 1),
        "documents": row[0],
        "skipped_known": counts.get("skipped_known"),
        "new": row[1],
        "unchanged": row[2],
        "duplicates": row[3],
        "quarantined": row[4],
        "quarantine_reasons": counts.get("quarantine_reasons"),
        "phases": _phases(text, started),
        "server": next((line for line in text.splitlines() if line.startswith("newsflow: ")), ""),
    }


@contextmanager
def prefect_server(home: Path) -> Iterator[str]:
    """Run `prefect server start` on a free port with its own home; yield its API URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    home.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false")
    url = f"http://127.0.0.1:{port}/api"
    with (home / "server.log").open("wb") as log:
        server = subprocess.Popen(
            [
                str(PREFECT),
                "server",
                "start",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 180
        while not _healthy(url):
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"prefect server did not start: see {home / 'server.log'}")
            time.sleep(0.5)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def _environ(variables: dict[str, str]) -> Iterator[None]:
    """Set environment variables in this process (its children inherit them), then restore them."""
    before = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def dask_run(pages: Sequence[Page], workers: int, env: dict[str, str]) -> dict[str, Any]:
    """Return a first run on a fresh warehouse whose preparation runs on a local Dask cluster
    of `workers` single-threaded processes (their CPU is not in the run's cpu_seconds)."""
    from distributed import LocalCluster  # late: slow to import, and only this run needs it

    # The workers report their task runs to the same Prefect API as the flow (else each starts
    # a temporary server of its own): they inherit this process's environment.
    with (
        _environ({k: v for k, v in env.items() if k.startswith("PREFECT_")}),
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        tempfile.TemporaryDirectory(prefix="newsflow-bench-") as tmp,
        serve(pages) as site,
    ):
        dask_env = {**site.env(), **env, "NEWSFLOW_DASK_ADDRESS": cluster.scheduler_address}
        run = run_newsflow(site.feeds, Path(tmp) / "newsflow.sqlite", dask_env, RESULTS / "dask.log")
    return {**run, "dask_workers": workers}


def measure(
    limit: int | None,
    memory_n: int,
    time_limit: float,
    memory_batch: int = 20,
    sample: int = 100,
    dask_workers: int = 0,
) -> dict[str, Any]:
    """Return the bare loop, first run, re-run, seeds re-run, stage costs and memory figures."""
    pages, over = load_pages(limit)
    env = {"NEWSFLOW_EXTRACT_TIMEOUT": str(time_limit)}
    report: dict[str, Any] = {
        "pages": len(pages),
        "over_size_cap": over,
        "size_cap": SIZE_CAP,
        "time_limit_s": time_limit,
        "cpus": os.cpu_count(),
        "load_avg_before": os.getloadavg(),
    }
    print(f"bare trafilatura.extract loop over {len(pages)} pages ...", flush=True)
    report["bare"] = bare_loop(pages, time_limit)
    with tempfile.TemporaryDirectory(prefix="newsflow-bench-") as tmp, serve(pages) as site:
        db = Path(tmp) / "first" / "newsflow.sqlite"
        db.parent.mkdir()
        print(f"newsflow run over {len(site.feeds)} feeds ...", flush=True)
        report["first"] = run_newsflow(site.feeds, db, {**site.env(), **env}, RESULTS / "first.log")
        hits = site.hits()
        print("newsflow run again on the loaded warehouse ...", flush=True)
        report["rerun"] = run_newsflow(site.feeds, db, {**site.env(), **env}, RESULTS / "rerun.log")
        report["rerun"]["page_requests"] = sum((site.hits() - hits).get(k, 0) for k in ("c0",))
        report["rerun"]["feed_requests"] = (site.hits() - hits).get("feed", 0)
        seeds = Path(tmp) / "seeds"
        shutil.copytree(SEEDS, seeds)
        seeds_db = Path(tmp) / "seeds-db" / "newsflow.sqlite"
        seeds_db.parent.mkdir()
        print(f"newsflow run on the {len(list(seeds.glob('*.txt')))} seed files, twice ...", flush=True)
        report["seeds_first"] = run_newsflow([], seeds_db, env, RESULTS / "seeds-first.log", seeds)
        report["seeds_noop"] = run_newsflow([], seeds_db, env, RESULTS / "seeds-noop.log", seeds)
        # As a user who keeps `prefect server start` (or `newsflow serve`) running sees it:
        # no ephemeral server to start in the run's process.
        with prefect_server(Path(tmp) / "prefect") as api:
            served = {**env, "PREFECT_API_URL": api}
            print(f"newsflow run into a new warehouse, running Prefect server {api} ...", flush=True)
            served_db = Path(tmp) / "served" / "newsflow.sqlite"
            served_db.parent.mkdir()
            report["first_served"] = run_newsflow(
                site.feeds, served_db, {**site.env(), **served}, RESULTS / "first-served.log"
            )
            print("newsflow run again on it ...", flush=True)
            hits = site.hits()
            report["rerun_served"] = run_newsflow(
                site.feeds, served_db, {**site.env(), **served}, RESULTS / "rerun-served.log"
            )
            report["rerun_served"]["page_requests"] = sum((site.hits() - hits).get(k, 0) for k in ("c0",))
            report["seeds_noop_served"] = run_newsflow(
                [], seeds_db, served, RESULTS / "seeds-noop-served.log", seeds
            )
            if dask_workers:
                print(f"newsflow run, its preparation on {dask_workers} local Dask workers ...", flush=True)
                report["dask"] = dask_run(pages, dask_workers, served)
    print(f"CPU per page by stage on {min(sample, len(pages))} pages ...", flush=True)
    step = max(1, len(pages) // max(1, sample))
    report["stages"] = stage_costs(pages[::step][:sample], datetime.now().astimezone())
    # Batches far smaller than the run, so 1x and 10x differ in batch count, not batch size:
    # flat peak memory then shows the run streams.
    report["memory"] = {"batch_size": memory_batch}
    memory_env = {**env, "NEWSFLOW_BATCH_SIZE": str(memory_batch)}
    base = pages[:memory_n]
    for copies in (1, 10):
        with tempfile.TemporaryDirectory(prefix="newsflow-bench-") as tmp, serve(base, copies=copies) as site:
            db = Path(tmp) / "newsflow.sqlite"
            print(f"newsflow run over {len(base)} pages x {copies} ...", flush=True)
            report["memory"][f"{copies}x"] = run_newsflow(
                site.feeds, db, {**site.env(), **memory_env}, RESULTS / f"memory-{copies}x.log"
            )
    report["load_avg_after"] = os.getloadavg()
    return report


def table(report: dict[str, Any]) -> str:
    """Return the throughput, re-run, stage and memory tables as text."""
    bare, first, rerun = report["bare"], report["first"], report["rerun"]
    served, first_served = report["rerun_served"], report["first_served"]
    pipe_rate = first["documents"] / first["wall_seconds"]
    flow_rate = first["documents"] / first["flow_seconds"]
    served_rate = first_served["documents"] / first_served["wall_seconds"]
    served_flow_rate = first_served["documents"] / first_served["flow_seconds"]
    lines = [
        f"{report['pages']} corpus pages (<= {report['size_cap'] // 1000} kB; {report['over_size_cap']}"
        f" larger skipped in both), {report['time_limit_s']:g} s limit per page, "
        f"{report['cpus']} CPUs",
        f"{'':34} {'pages':>6} {'seconds':>8} {'cpu s':>8} {'pages/s':>8} {'vs bare':>8} {'load':>6}",
        f"{'bare trafilatura.extract, 1 proc':34} {bare['pages']:6d} {bare['seconds']:8.1f}"
        f" {bare['cpu_seconds']:8.1f} {bare['pages_per_s']:8.2f} {1:8.2f} {bare['load_avg_before']:6.2f}",
        f"{'newsflow run, running server':34} {first_served['documents']:6d}"
        f" {first_served['wall_seconds']:8.1f} {first_served['cpu_seconds']:8.1f} {served_rate:8.2f}"
        f" {served_rate / bare['pages_per_s']:8.2f} {first_served['load_avg_before']:6.2f}",
        f"{'  flow body only':34} {first_served['documents']:6d} {first_served['flow_seconds']:8.1f}"
        f" {first_served['main_cpu_seconds']:8.1f} {served_flow_rate:8.2f}"
        f" {served_flow_rate / bare['pages_per_s']:8.2f}",
        f"{'newsflow run, temporary server':34} {first['documents']:6d} {first['wall_seconds']:8.1f}"
        f" {first['cpu_seconds']:8.1f} {pipe_rate:8.2f} {pipe_rate / bare['pages_per_s']:8.2f}"
        f" {first['load_avg_before']:6.2f}",
        f"{'  flow body only':34} {first['documents']:6d} {first['flow_seconds']:8.1f}"
        f" {first['main_cpu_seconds']:8.1f} {flow_rate:8.2f} {flow_rate / bare['pages_per_s']:8.2f}",
        *(
            [
                f"{'newsflow run, Dask ' + str(dask['dask_workers']) + ' local workers':34}"
                f" {dask['documents']:6d} {dask['wall_seconds']:8.1f} {dask['cpu_seconds']:8.1f}"
                f" {dask['documents'] / dask['wall_seconds']:8.2f}"
                f" {dask['documents'] / dask['wall_seconds'] / bare['pages_per_s']:8.2f}"
                f" {dask['load_avg_before']:6.2f}  (flow body {dask['flow_seconds']:.1f} s;"
                " cpu s without the Dask workers'; running Prefect server)"
            ]
            if (dask := report.get("dask"))
            else []
        ),
        f"first run: {first['new']} new, {first['duplicates']} duplicates, {first['quarantined']}"
        f" quarantined {first['quarantine_reasons']}; bare loop: {bare['with_text']} with text,"
        f" {bare['timed_out']} timed out; flow process CPU {first['main_cpu_seconds']} s of"
        f" {first['cpu_seconds']} s",
        f"phases of the first run, running server (s from process start): {first_served['phases']}",
        f"phases of the first run, temporary server: {first['phases']}",
        f"server: {first['server']}",
        "",
        f"{'re-run':34} {'wall s':>8} {'flow s':>8} {'% of 1st':>8} {'docs':>5} {'pages GET':>9} {'load':>6}",
    ]
    for name, run, of in [
        ("same feeds, temporary server", rerun, first),
        ("same feeds, running server", served, first_served),
        ("5 seeds, first run, temp. server", report["seeds_first"], first),
        ("5 seeds no-op, temporary server", report["seeds_noop"], first),
        ("5 seeds no-op, running server", report["seeds_noop_served"], first_served),
    ]:
        lines.append(
            f"{name:34} {run['wall_seconds']:8.1f} {run['flow_seconds']:8.1f}"
            f" {100 * run['wall_seconds'] / of['wall_seconds']:7.1f}% {run['documents']:5d}"
            f" {run.get('page_requests', 0):9d} {run['load_avg_before']:6.2f}"
        )
    lines += [
        f"phases, re-run with a temporary server: {rerun['phases']}",
        f"phases, re-run with a running server: {served['phases']}",
        "",
        f"CPU ms per page by stage, in one process, {report['stages']['pages']} pages"
        f" (load {report['stages']['load_avg_before']}):",
        *(f"  {k:40} {v:7.1f}" for k, v in report["stages"]["cpu_ms_per_page"].items()),
        "share of prepare_document's time (cProfile, cumulative):",
        *(f"  {k:40} {100 * v:6.1f}%" for k, v in report["stages"]["profile_share_of_prepare"].items()),
        "",
        f"{'memory':34} {'docs':>6} {'wall s':>8} {'flow RSS MB':>11} {'tree RSS MB':>11} {'load':>6}",
    ]
    runs = {k: v for k, v in report["memory"].items() if isinstance(v, dict)}
    for name, run in [
        ("first run (batch default)", first),
        *((f"{k}, batch {report['memory']['batch_size']}", v) for k, v in runs.items()),
    ]:
        lines.append(
            f"{name:34} {run['documents']:6d} {run['wall_seconds']:8.1f}"
            f" {run['peak_rss_mb']:11.1f} {run['peak_rss_tree_mb']:11.1f} {run['load_avg_before']:6.2f}"
        )
    return "\n".join(lines)


def dask_only(limit: int | None, workers: int, time_limit: float) -> int:
    """Measure the bare loop and a first run prepared on a local Dask cluster, against a running
    Prefect server; print the ratio and write benchmarks/results/dask.json."""
    pages, _ = load_pages(limit)
    env = {"NEWSFLOW_EXTRACT_TIMEOUT": str(time_limit)}
    bare = bare_loop(pages, time_limit)
    with (
        tempfile.TemporaryDirectory(prefix="newsflow-bench-") as tmp,
        prefect_server(Path(tmp) / "prefect") as api,
    ):
        run = dask_run(pages, workers, {**env, "PREFECT_API_URL": api})
    rate = run["documents"] / run["wall_seconds"]
    report = {"pages": len(pages), "bare": bare, "dask": run}
    text = (
        f"{len(pages)} pages: bare trafilatura.extract {bare['seconds']:.1f} s; newsflow run on {workers} "
        f"local Dask workers {run['wall_seconds']:.1f} s wall (flow body {run['flow_seconds']:.1f} s): "
        f"{rate / bare['pages_per_s']:.2f}x bare"
    )
    return save(report, text, RESULTS / "dask.json")


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, print the tables and write benchmarks/results/throughput.json."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.throughput", description=__doc__)
    parser.add_argument("--limit", type=int, help="only the first N pages (by file name)")
    parser.add_argument("--memory-n", type=int, default=60, help="pages of the 1x memory run")
    parser.add_argument("--memory-batch", type=int, default=20, help="NEWSFLOW_BATCH_SIZE of the memory runs")
    parser.add_argument("--time-limit", type=float, default=TIME_LIMIT)
    parser.add_argument("--sample", type=int, default=100, help="pages of the CPU-per-stage sample")
    parser.add_argument(
        "--dask-workers", type=int, default=0, help="also run with preparation on a local Dask cluster"
    )
    parser.add_argument(
        "--dask-only",
        action="store_true",
        help="only the bare loop and the Dask run (with --dask-workers, default 2): dask.json",
    )
    args = parser.parse_args(argv)
    if not (corpus_dir() / "pages" / "web").is_dir():
        print(f"throughput skipped: no corpus at {corpus_dir()} (set NEWSFLOW_CORPUS)")
        return 0
    RESULTS.mkdir(parents=True, exist_ok=True)
    if args.dask_only:
        return dask_only(args.limit, args.dask_workers or 2, args.time_limit)
    report = measure(
        args.limit, args.memory_n, args.time_limit, args.memory_batch, args.sample, args.dask_workers
    )
    (RESULTS / "throughput.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
