"""`newsflow export`: articles written to Parquet, CSV or JSON lines by DuckDB's COPY."""

from __future__ import annotations

import zlib
from dataclasses import asdict, dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path

import duckdb

# Every column of `articles`, the source's kind and URI, and the day that partitions: the
# published date, else the fetch date (as articles_per_day counts them), in UTC.
ARTICLES = """
SELECT a.*, s.kind AS source_kind, s.uri AS source_uri,
       CAST(coalesce(a.published_at, a.fetched_at) AS DATE) AS day{raw_columns}
FROM articles AS a
LEFT JOIN sources AS s USING (source_id){raw_join}
WHERE ($since IS NULL OR CAST(coalesce(a.published_at, a.fetched_at) AS DATE) >= $since)
  AND ($language IS NULL OR a.language = $language)
  AND ($source IS NULL OR s.uri = $source
       OR a.source_id IN (SELECT source_id FROM subscriptions WHERE name = $source OR uri = $source))
ORDER BY day, a.article_id
"""
# The document as fetched, decoded with the charset the pipeline chose for it.
RAW_COLUMNS = (
    ",\n       r.media_type AS raw_media_type, r.encoding AS raw_encoding,"
    " newsflow_raw_text(r.body_zlib, r.encoding) AS raw_body"
)
RAW_JOIN = "\nLEFT JOIN raw_documents AS r USING (raw_uri)"


class ExportFormat(StrEnum):
    parquet = "parquet"
    csv = "csv"
    jsonl = "jsonl"  # one JSON object a line (NDJSON)


COPY_FORMATS = {ExportFormat.parquet: "parquet", ExportFormat.csv: "csv", ExportFormat.jsonl: "json"}


class ExportTargetExists(FileExistsError):
    """The export's target is there already and --overwrite was not given."""


@dataclass(frozen=True, slots=True)
class ArticleFilter:
    """Which articles an export takes; None takes all."""

    since: date | None = None
    language: str | None = None
    source: str | None = None  # a source's URI, or a subscription's name or URI


@dataclass(frozen=True, slots=True)
class Target:
    """Where and how an export writes."""

    path: Path
    format: ExportFormat
    by_day: bool = False  # a folder of day=YYYY-MM-DD/ subfolders
    with_raw: bool = False
    overwrite: bool = False


def articles_query(with_raw: bool) -> str:
    """Return the SELECT an export copies, with the raw documents' columns when asked."""
    return ARTICLES.format(raw_columns=RAW_COLUMNS if with_raw else "", raw_join=RAW_JOIN if with_raw else "")


def raw_text(body_zlib: bytes, encoding: str | None) -> str:
    """Return a stored raw document as text, in its charset (UTF-8 when unknown)."""
    body = zlib.decompress(body_zlib)
    try:
        return body.decode(encoding or "utf-8", errors="replace")
    except LookupError:  # a charset name Python does not know
        return body.decode("utf-8", errors="replace")


def export_articles(con: duckdb.DuckDBPyConnection, target: Target, only: ArticleFilter) -> int:
    """Copy the articles `only` takes to target; return how many were written."""
    empty_folder = target.path.is_dir() and not any(target.path.iterdir())
    if target.path.exists() and not empty_folder and not target.overwrite:
        raise ExportTargetExists(f"{target.path} exists: pass --overwrite to replace it")
    options = [f"FORMAT {COPY_FORMATS[target.format]}"]
    if target.by_day:
        options += [
            "PARTITION_BY (day)",
            "OVERWRITE true" if target.overwrite else "OVERWRITE_OR_IGNORE true",
        ]
    if target.with_raw:
        con.create_function("newsflow_raw_text", raw_text, ["BLOB", "VARCHAR"], "VARCHAR")
    path = str(target.path).replace("'", "''")
    sql = f"COPY ({articles_query(target.with_raw)}) TO '{path}' ({', '.join(options)})"
    row = con.execute(sql, asdict(only)).fetchone()
    return int(row[0]) if row else 0
