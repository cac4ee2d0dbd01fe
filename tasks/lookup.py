"""What the warehouse already holds that could match a batch: the deduplication lookups, on the
writer's private index (warehouse/migrations/index/)."""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pyarrow as pa

from tasks.dedup import Known, as_mapping, band_hashes, index_candidates
from tasks.records import Prepared


def lookup_known(con: duckdb.DuckDBPyConnection, items: Sequence[Prepared]) -> Known:
    """Return what the warehouse already holds that could match these articles."""
    articles = [p.article for p in items]
    keys = pa.table(
        {
            "raw_uri": [a.raw_uri for a in articles],
            "article_id": [a.article_id for a in articles],
            "canonical_url": [a.canonical_url for a in articles],
            "guid": [a.guid for a in articles],
            "content_hash": [a.content_hash for a in articles],
        }
    )
    bands = pa.table(
        {"band_hash": pa.array(sorted({b for p in items for b in band_hashes(p.signature)}), pa.int64())}
    )
    con.register("batch_keys", keys)
    con.register("batch_bands", bands)
    seen = con.execute(
        "SELECT raw_uri FROM article_keys WHERE raw_uri IN (SELECT raw_uri FROM batch_keys) "
        "UNION SELECT duplicate_id FROM duplicate_keys "
        "WHERE duplicate_id IN (SELECT raw_uri FROM batch_keys)"
    ).fetchall()
    ids = con.execute(
        "SELECT article_id FROM article_keys WHERE article_id IN (SELECT article_id FROM batch_keys)"
    ).fetchall()
    known = Known(
        article_ids={r[0] for r in ids},
        seen_keys={r[0] for r in seen},
        urls=dict(
            as_mapping(
                _pairs(
                    con,
                    "SELECT canonical_url, article_id FROM article_keys WHERE canonical_url IN "
                    "(SELECT canonical_url FROM batch_keys) ORDER BY fetched_at",
                )
            )
        ),
        guids=dict(
            as_mapping(
                _pairs(
                    con,
                    "SELECT guid, article_id FROM article_keys WHERE guid IN "
                    "(SELECT guid FROM batch_keys) ORDER BY fetched_at",
                )
            )
        ),
        hashes=dict(
            as_mapping(
                _pairs(
                    con,
                    "SELECT content_hash, article_id FROM article_keys WHERE content_hash IN "
                    "(SELECT content_hash FROM batch_keys) ORDER BY fetched_at",
                )
            )
        ),
    )
    # Two lookups, not one join: a join of lsh_bands with signatures scans both tables.
    rows = con.execute(
        "SELECT article_id FROM lsh_bands WHERE band_hash IN (SELECT band_hash FROM batch_bands)"
    ).fetchall()
    candidate_ids = pa.table({"article_id": pa.array(sorted({r[0] for r in rows}), pa.string())})
    con.register("batch_candidates", candidate_ids)
    candidates = con.execute(
        "SELECT article_id, signature, shingles FROM signature_keys "
        "WHERE article_id IN (SELECT article_id FROM batch_candidates)"
    ).fetchall()
    con.unregister("batch_candidates")
    con.unregister("batch_keys")
    con.unregister("batch_bands")
    known.signatures, known.shingles, known.bands = index_candidates(candidates)
    return known


def _pairs(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in con.execute(sql).fetchall()]
