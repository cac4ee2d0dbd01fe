"""Near-duplicate lookup cost per new article with 10k, 100k and 1M stored signatures, on the
writer's index (a DuckDB file: warehouse/migrations/index/)."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

import warehouse
from tasks.dedup import BANDS, PERMUTATIONS, NearRule, band_hashes, classify
from tasks.lookup import lookup_known
from tasks.records import Article, Prepared
from tasks.settings import Settings

RESULTS = Path(__file__).resolve().parent / "results" / "lookup.json"
BATCH = 200  # new articles per lookup, the flow's batch size
REAL_BANDS = 1000  # stored rows whose bands are computed from their signature, to be near-copied
SHINGLES = 400  # shingle count of every stored article
NOW = datetime(2024, 5, 1, tzinfo=UTC)


def _store(con: Any, rng: np.random.Generator, start: int, stop: int) -> np.ndarray:
    """Insert articles start..stop with random signatures; return those signatures."""
    n = stop - start
    ids = [f"{i:032x}" for i in range(start, stop)]
    sigs = rng.integers(0, 2**32, (n, PERMUTATIONS), dtype=np.uint32)
    con.register(
        "incoming",
        pa.table(
            {
                "article_id": ids,
                "raw_uri": [f"http://stored.example/{i}" for i in range(start, stop)],
                "canonical_url": [f"http://stored.example/{i}" for i in range(start, stop)],
                "content_hash": ids,
                "fetched_at": pa.array([NOW] * n, pa.timestamp("us", tz="UTC")),
            }
        ),
    )
    con.execute("INSERT INTO article_keys BY NAME SELECT * FROM incoming")
    blobs = [row.astype("<u4").tobytes() for row in sigs]
    con.register(
        "incoming",
        pa.table(
            {
                "article_id": ids,
                "signature": pa.array(blobs, pa.binary()),
                "shingles": pa.array([SHINGLES] * n, pa.int32()),
            }
        ),
    )
    con.execute("INSERT INTO signature_keys BY NAME SELECT * FROM incoming")
    # Random band keys behave like the real ones of random signatures, at a fraction of the cost;
    # the first REAL_BANDS rows get their real keys so near-copies of them are found.
    bands = rng.integers(-(2**63), 2**63 - 1, (n, BANDS), dtype=np.int64)
    for i in range(max(0, REAL_BANDS - start)):
        bands[i] = band_hashes(blobs[i])
    con.register(
        "incoming",
        pa.table(
            {
                "band_hash": pa.array(bands.ravel(), pa.int64()),
                "article_id": np.repeat(np.array(ids, dtype=object), BANDS).tolist(),
            }
        ),
    )
    con.execute("INSERT INTO lsh_bands BY NAME SELECT * FROM incoming")
    con.unregister("incoming")
    return sigs[: max(0, REAL_BANDS - start)]


def _article(i: int, signature: bytes, shingles: int) -> Prepared:
    url = f"http://new.example/{i}"
    unknown = dict.fromkeys(f.name for f in fields(Article))  # what the lookup does not read
    article = Article(
        **unknown
        | {
            "article_id": f"new{i:029x}",
            "source_id": "bench",
            "raw_uri": url,
            "url": url,
            "canonical_url": url,
            "language": "en",
            "language_prob": 1.0,
            "text": "x",
            "word_count": 1,
            "content_hash": f"new{i}",
            "tags": (),
            "fetched_at": NOW,
            "run_id": "bench",
        }
    )
    return Prepared(article, b"", "text/plain", signature, shingles)


def _batch(rng: np.random.Generator, near_of: np.ndarray, round_: int) -> list[Prepared]:
    """Return new articles: 90% unrelated, 5% edited copies (12 of 128 values changed, found by
    Jaccard), 5% copies cut to half (half the shingles, 64 values raised, as a subset's minima
    are: found by containment)."""
    out = []
    for k in range(BATCH):
        shingles = SHINGLES
        if k % 10 == 0:
            sig = near_of[rng.integers(0, len(near_of))].astype(np.uint64)
            if k % 20 == 0:
                changed = rng.choice(PERMUTATIONS, 12, replace=False)
                sig[changed] = rng.integers(0, 2**32, 12)
            else:
                shingles //= 2
                changed = rng.choice(PERMUTATIONS, 64, replace=False)
                sig[changed] = rng.integers(sig[changed], 2**32)
        else:
            sig = rng.integers(0, 2**32, PERMUTATIONS, dtype=np.uint64)
        out.append(_article(round_ * BATCH + k, sig.astype("<u4").tobytes(), shingles))
    return out


def measure(sizes: Sequence[int], rounds: int = 5) -> dict[str, Any]:
    """Return per-article lookup + classify milliseconds at each stored-signature count."""
    rng = np.random.default_rng(5)
    settings = Settings()
    rule = NearRule(settings.near_threshold, settings.near_containment)
    report: dict[str, Any] = {"batch": BATCH, "rounds": rounds, "sizes": {}}
    with (
        tempfile.TemporaryDirectory(prefix="newsflow-lookup-") as tmp,
        duckdb.connect(str(Path(tmp) / "lookup.duckdb")) as con,
    ):
        warehouse.prepare_index(con)
        stored, near_of = 0, np.empty((0, PERMUTATIONS), np.uint32)
        for size in sizes:
            started = time.perf_counter()
            for start in range(stored, size, 250_000):
                fresh = _store(con, rng, start, min(size, start + 250_000))
                near_of = np.vstack([near_of, fresh]) if len(fresh) else near_of
            stored = size
            insert_s = time.perf_counter() - started
            timings, nears, contained = [], 0, 0
            for r in range(rounds):
                batch = _batch(rng, near_of, r)
                t = time.perf_counter()
                verdicts = classify(batch, lookup_known(con, batch), rule=rule)
                timings.append(time.perf_counter() - t)
                nears += sum(d.kind == "near" for d in verdicts.duplicates)
                contained += sum(d.containment is not None for d in verdicts.duplicates)
            per_ms = 1000 * statistics.median(timings) / BATCH
            report["sizes"][str(size)] = {
                "ms_per_article": round(per_ms, 3),
                "near_found": nears,
                "near_planted": rounds * BATCH // 10,
                "near_by_containment": contained,
                "insert_seconds": round(insert_s, 1),
            }
            print(f"  {size:>9,} stored: {per_ms:.3f} ms per article", flush=True)
    return report


def table(report: dict[str, Any]) -> str:
    """Return the lookup table as text."""
    lines = [
        f"near-duplicate lookup + classify, batches of {report['batch']}, median of {report['rounds']}",
        f"{'stored signatures':>18} {'ms/article':>10} {'near found/planted':>19} {'by containment':>15}",
    ]
    for size, row in report["sizes"].items():
        lines.append(
            f"{int(size):>18,} {row['ms_per_article']:10.3f} "
            f"{row['near_found']:>10}/{row['near_planted']:<8} {row['near_by_containment']:>15}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, print the table and write benchmarks/results/lookup.json."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.lookup", description=__doc__)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    args = parser.parse_args(argv)
    report = measure([int(s) for s in args.sizes.split(",")])
    print(table(report))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
