"""Warehouse scale: what one run of 200 new articles costs when the lake already holds 10k, 100k
or 1M articles (wall time, bytes written, disk), against a bare DuckLake INSERT of the same rows
measured in the same run; and what the design before DuckLake copied per run.

Stored articles are built from real pages (WCXB: the gzipped HTML, compressed as newsflow stores
raw documents, and the ground-truth text), made unique by a suffix; signatures are random.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

import warehouse
from benchmarks import save
from tasks.dedup import PERMUTATIONS, NearRule
from tasks.load import load_batches
from tasks.records import Article, Prepared, Source
from tasks.staging import ARTICLE_SCHEMA, article_columns
from warehouse import extensions
from warehouse.lake import Lake, compact, data_files
from warehouse.ledger import finish_run, start_run

RESULTS = Path(__file__).resolve().parent / "results" / "warehouse.json"
WCXB = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "wcxb-dev" / "dev"
RUN = 200  # new articles per measured run
CHUNK = 10_000  # stored articles per building transaction (a run's worth of files)
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _pool(limit: int = 300) -> list[tuple[str, bytes, str]]:
    """Return (text, raw html compressed as a worker compresses it, url) of real article pages."""
    pool = []
    for truth in sorted((WCXB / "ground-truth").glob("*.json"))[: limit * 2]:
        data = json.loads(truth.read_text(encoding="utf-8"))
        text = data["ground_truth"].get("main_content") or ""
        html = WCXB / "html" / f"{truth.stem}.html.gz"
        if len(text) > 500 and html.exists():
            pool.append((text, zlib.compress(gzip.decompress(html.read_bytes()), 6), data["url"]))
        if len(pool) >= limit:
            break
    return pool


def _article(i: int, text: str, url: str, prefix: str) -> Article:
    unknown = dict.fromkeys(f.name for f in fields(Article))
    key = f"{prefix}{i:012d}"
    return Article(
        **unknown
        | {
            "article_id": key,
            "source_id": "bench",
            "raw_uri": f"{url}?{prefix}={i}",
            "url": f"{url}?{prefix}={i}",
            "canonical_url": f"{url}?{prefix}={i}",
            "title": text[:80],
            "language": "en",
            "language_prob": 0.99,
            "text": f"{text}\n{key}",
            "word_count": len(text.split()),
            "content_hash": key,
            "tags": (),
            "fetched_at": NOW,
            "run_id": prefix,
        }
    )


def _prepared(pool: list[tuple[str, bytes, str]], start: int, n: int, prefix: str) -> list[Prepared]:
    rng = np.random.default_rng(start)
    out = []
    for i in range(start, start + n):
        text, body_zlib, url = pool[i % len(pool)]
        signature = rng.integers(0, 2**32, PERMUTATIONS, dtype=np.uint32).astype("<u4").tobytes()
        out.append(Prepared(_article(i, text, url, prefix), body_zlib, "text/html", signature, 400))
    return out


def _grow(db: Path, pool: list[tuple[str, bytes, str]], have: int, want: int) -> None:
    """Add stored articles have..want straight into the lake, CHUNK a transaction, then compact
    and let the writer's index catch up, as a warehouse years of runs built would be."""
    with warehouse.connect(db) as con:
        warehouse.migrate(con)
        for start in range(have, want, CHUNK):
            items = _prepared(pool, start, min(CHUNK, want - start), "stored")
            articles = [p.article for p in items]
            con.execute("BEGIN TRANSACTION")
            for table, rows in _lake_rows(items, articles):
                con.register("incoming", rows)
                con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming")
                con.unregister("incoming")
            con.execute("COMMIT")
    with warehouse.connect(db) as con:  # the index takes in the new rows from the lake
        compact(con, keep_days=0)


def _lake_rows(items: list[Prepared], articles: list[Article]) -> Iterator[tuple[str, pa.Table]]:
    yield "articles", pa.table(article_columns(articles), ARTICLE_SCHEMA)
    yield (
        "raw_documents",
        pa.table(
            {
                "raw_uri": [a.raw_uri for a in articles],
                "article_id": [a.article_id for a in articles],
                "media_type": ["text/html"] * len(items),
                "fetched_at": pa.array([NOW] * len(items), pa.timestamp("us", tz="UTC")),
                "body_zlib": pa.array([p.body_zlib for p in items], pa.binary()),
            }
        ),
    )
    yield (
        "signatures",
        pa.table(
            {
                "article_id": [a.article_id for a in articles],
                "signature": pa.array([p.signature for p in items], pa.binary()),
                "shingles": pa.array([p.shingles for p in items], pa.int32()),
            }
        ),
    )


def _written() -> int:
    """Return the bytes this process has caused to be written to storage so far."""
    with open("/proc/self/io", encoding="ascii") as io:
        return next(int(line.split()[1]) for line in io if line.startswith("write_bytes"))


def _disk(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


READER = """
import select, sys, warehouse
con = warehouse.connect(sys.argv[1], read_only=True)
seen, reads, errors = set(), 0, 0
print("ready", flush=True)
while True:
    try:
        seen.add(con.execute("SELECT count(*) FROM articles").fetchall()[0][0])
        reads += 1
    except Exception:
        errors += 1
    if select.select([sys.stdin], [], [], 0)[0]:
        break
print(reads, errors, *sorted(seen), flush=True)
"""


def _reading(db: Path) -> subprocess.Popen[str]:
    """Start a reader that counts the articles in a loop until told to stop."""
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert reader.stdout is not None and reader.stdout.readline().strip() == "ready"
    return reader


def _read_back(reader: subprocess.Popen[str]) -> dict[str, Any]:
    out, _ = reader.communicate("stop\n", timeout=120)
    reads, errors, *seen = (int(x) for x in out.split())
    return {"reads": reads, "errors": errors, "counts_seen": seen}


def _run(db: Path, items: list[Prepared], run_id: str) -> dict[str, float]:
    """Open, load and close one run as the flow does (minus fetching); return its costs."""
    os.sync()
    written, started = _written(), time.perf_counter()
    with warehouse.connect(db) as con:
        start_run(con, run_id, None, NOW)
        result = load_batches(
            con,
            run_id=run_id,
            batches=[items],
            quarantined=[],
            sources=[Source("seeds", "bench")],
            now=NOW,
            near=NearRule(0.55, 0.95),
        )
        finish_run(con, run_id, "completed", NOW, {"new": result.new}, result.snapshot)
    os.sync()
    assert result.new == len(items), result
    return {"seconds": time.perf_counter() - started, "bytes_written": _written() - written}


def _bare(db: Path, items: list[Prepared]) -> dict[str, float]:
    """The same rows appended to a bare DuckLake table: no dedup, no index, no ledger."""
    os.sync()
    written, started = _written(), time.perf_counter()
    with duckdb.connect() as con:
        extensions.load(con, "ducklake", "sqlite_scanner")
        con.execute(Lake.at(db).attach_sql("bare", read_only=False))
        con.execute("USE bare")
        con.execute("CREATE TABLE IF NOT EXISTS bare_articles AS SELECT * FROM articles LIMIT 0")
        con.execute("CREATE TABLE IF NOT EXISTS bare_raw AS SELECT * FROM raw_documents LIMIT 0")
        con.execute("BEGIN TRANSACTION")
        for table, rows in _lake_rows(items, [p.article for p in items]):
            if table == "signatures":
                continue
            con.register("incoming", rows)
            target = "bare_articles" if table == "articles" else "bare_raw"
            con.execute(f"INSERT INTO {target} BY NAME SELECT * FROM incoming")
            con.unregister("incoming")
        con.execute("COMMIT")
    os.sync()
    return {"seconds": time.perf_counter() - started, "bytes_written": _written() - written}


def measure(sizes: Sequence[int]) -> dict[str, Any]:
    """Grow one warehouse through the sizes; at each, time a run and a bare insert of RUN rows."""
    pool = _pool()
    report: dict[str, Any] = {"run": RUN, "sizes": {}}
    with tempfile.TemporaryDirectory(
        prefix="newsflow-scale-", dir=os.environ.get("NEWSFLOW_BENCH_TMP")
    ) as tmp:
        db, bare_db = Path(tmp) / "w" / "newsflow.sqlite", Path(tmp) / "bare" / "bare.sqlite"
        have = 0
        for size in sizes:
            started = time.perf_counter()
            _grow(db, pool, have, size)
            _grow(bare_db, pool, have, size)
            have, build = size, time.perf_counter() - started
            live = _disk(db.parent)
            with warehouse.connect(db, read_only=True) as con:
                files = data_files(con)
            items = _prepared(pool, 10**9 + size, RUN, "new")
            reader = _reading(db)
            cost = _run(db, items, f"run-{size}")
            readers = _read_back(reader)
            bare = _bare(bare_db, _prepared(pool, 2 * 10**9 + size, RUN, "new"))
            after = _disk(db.parent)
            row = {
                "seconds": round(cost["seconds"], 3),
                "bare_seconds": round(bare["seconds"], 3),
                "ratio_to_bare": round(cost["seconds"] / bare["seconds"], 2),
                "bytes_written": int(cost["bytes_written"]),
                "bare_bytes_written": int(bare["bytes_written"]),
                "disk_before": live,
                "disk_after": after,
                "disk_ratio": round(after / live, 3),
                "data_files": files,
                "copied_by_the_old_design": live,  # a full copy of the warehouse per run
                "build_seconds": round(build, 1),
                "reader": readers,  # a reader counting articles in a loop during the run
            }
            report["sizes"][str(size)] = row
            print(
                f"  {size:>9,} stored: run {row['seconds']:.2f} s ({row['ratio_to_bare']}x bare), "
                f"wrote {row['bytes_written'] / 2**20:.1f} MiB, disk {live / 2**30:.2f} GiB",
                flush=True,
            )
    return report


def table(report: dict[str, Any]) -> str:
    """Return the scale table as text."""
    sizes = report["sizes"]
    first = next(iter(sizes.values()))
    lines = [
        f"one run of {report['run']} new articles into a warehouse of N stored ones",
        f"{'N':>9} {'run s':>7} {'bare s':>7} {'x bare':>6} {'x N0':>5} {'written MiB':>11} "
        f"{'bare MiB':>8} {'disk GiB':>8} {'disk after/before':>17} {'old copy GiB':>12} "
        "reader (reads, errors, counts seen)",
    ]
    for size, row in sizes.items():
        lines.append(
            f"{int(size):>9,} {row['seconds']:7.2f} {row['bare_seconds']:7.2f} {row['ratio_to_bare']:6.2f} "
            f"{row['seconds'] / first['seconds']:5.2f} {row['bytes_written'] / 2**20:11.1f} "
            f"{row['bare_bytes_written'] / 2**20:8.1f} {row['disk_before'] / 2**30:8.2f} "
            f"{row['disk_ratio']:17.3f} {row['copied_by_the_old_design'] / 2**30:12.2f} "
            f"{row['reader']['reads']}, {row['reader']['errors']}, {row['reader']['counts_seen']}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, print the table and write benchmarks/results/warehouse.json."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.warehouse", description=__doc__)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    args = parser.parse_args(argv)
    if not WCXB.exists():
        print(f"skipped: no corpus at {WCXB}")
        return 0
    report = measure([int(s) for s in args.sizes.split(",")])
    return save(report, table(report), RESULTS)


if __name__ == "__main__":
    sys.exit(main())
