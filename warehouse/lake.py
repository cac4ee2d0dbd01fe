"""The lake: a DuckLake catalog (SQLite file, or PostgreSQL) and its Parquet files, attached
to DuckDB; and the writer's private index kept level with it.

Layout of a warehouse `warehouse/newsflow.sqlite` (NEWSFLOW_DB):
  newsflow.sqlite          the DuckLake catalog: tables, views, snapshots (SQLite)
  newsflow.files/          the Parquet data files, main/<table>/...
  .newsflow.index.duckdb   the writer's dedup keys (a DuckDB file no reader opens)
  .newsflow.lock           the writer lock

With a PostgreSQL catalog (NEWSFLOW_CATALOG=postgres:...) the catalog is a database on that
server and the Parquet folder is the one the catalog records: named absolute by the run that
created the lake (newsflow.files beside its NEWSFLOW_DB), the same for every process and machine
that writes or reads it. The index and the lock file stay beside each process's NEWSFLOW_DB.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from warehouse import extensions

READER_ALIAS = "news"  # what `newsflow shell` and the README attach the lake as
WRITER_ALIAS = "lake"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True, slots=True)
class Lake:
    """Where one warehouse lives: its catalog, its data files and the writer's index."""

    catalog: str  # a ducklake: URL
    data: Path  # the Parquet folder (a SQLite lake's; a PostgreSQL lake's when it creates it)
    index: Path  # the writer's private DuckDB file
    created: Path | None = None  # the catalog file, when it is a file (SQLite)

    @classmethod
    def at(cls, db: Path, catalog: str | None = None) -> Lake:
        """Return the lake of the warehouse file db (a SQLite catalog), or of a catalog URL such
        as `postgres:dbname=news host=...` (NEWSFLOW_CATALOG), its index and lock beside db."""
        data = db.with_name(f"{db.stem}.files")
        index = db.with_name(f".{db.stem}.index.duckdb")
        if catalog:
            return cls(f"ducklake:{catalog}", data, index)
        return cls(f"ducklake:sqlite:{db}", data, index, db)

    @property
    def postgres(self) -> str | None:
        """Return the libpq connection string of a PostgreSQL catalog; None for any other."""
        prefix = "ducklake:postgres:"
        return self.catalog[len(prefix) :] if self.catalog.startswith(prefix) else None

    def exists(self) -> bool:
        """Return True once a run or a command created the lake's catalog."""
        if self.created is not None:
            return self.created.exists()
        if self.postgres is None:
            return True  # a catalog newsflow cannot look into: attaching it will tell
        with extensions.connect() as con:
            extensions.load(con, "postgres_scanner")
            con.execute(f"ATTACH {_quote(self.postgres)} AS pg (TYPE postgres, READ_ONLY)")
            row = con.execute(
                "SELECT * FROM postgres_query('pg', 'SELECT to_regclass(''ducklake_metadata'') IS NOT NULL')"
            ).fetchone()
        return bool(row and row[0])

    def attach_sql(
        self, alias: str, *, read_only: bool, as_of: int | None = None, create: bool = False
    ) -> str:
        """Return the ATTACH statement of this lake.

        A SQLite catalog is attached with its data folder's absolute path and
        OVERRIDE_DATA_PATH, so newsflow finds the data beside the catalog wherever the folder
        moves (the writer creates the catalog file first, to put it in WAL mode, so the path
        the catalog records is the absolute one: a plain `duckdb` ATTACH without DATA_PATH
        works until the folder is moved).
        A PostgreSQL catalog is shared: it records the data path absolute when `create`s it,
        and every later process reads and writes the folder it records (none overrides it).
        """
        options = []
        if self.created is None:
            if create:
                options.append(f"DATA_PATH {_quote(str(self.data.resolve()) + os.sep)}")
        else:
            options += [f"DATA_PATH {_quote(str(self.data.resolve()) + os.sep)}", "OVERRIDE_DATA_PATH true"]
        if read_only:
            options.append("READ_ONLY")
        if as_of is not None:
            options.append(f"SNAPSHOT_VERSION {int(as_of)}")
        return f"ATTACH {_quote(self.catalog)} AS {alias}" + (f" ({', '.join(options)})" if options else "")

    def connect(self, *, read_only: bool, as_of: int | None = None) -> duckdb.DuckDBPyConnection:
        """Return a connection with the lake attached and in use; a writer's has its index too."""
        con = extensions.connect()
        try:
            con.execute("SET TimeZone = 'UTC'")
            # fts: stem(), which search needs
            extensions.load(con, "ducklake", "postgres_scanner" if self.postgres else "sqlite_scanner", "fts")
            if read_only:
                con.execute(self.attach_sql(READER_ALIAS, read_only=True, as_of=as_of))
                con.execute(f"USE {READER_ALIAS}")
                return con
            self.index.parent.mkdir(parents=True, exist_ok=True)
            if self.created is not None:
                write_ahead_log(self.created)
                self.data.mkdir(parents=True, exist_ok=True)
            con.execute(f"ATTACH {_quote(str(self.index))} AS idx")
            self._attach_writer(con)
            con.execute(f"USE {WRITER_ALIAS}")
            import warehouse

            warehouse.prepare_index(con)
            return con
        except BaseException:
            con.close()
            raise

    def _attach_writer(self, con: duckdb.DuckDBPyConnection) -> None:
        """Attach the lake for writing; a PostgreSQL catalog no run has created yet is created
        with its data beside this process's db (the writer lock makes that one process)."""
        try:
            con.execute(self.attach_sql(WRITER_ALIAS, read_only=False))
        except duckdb.InvalidInputException as exc:
            if self.created is not None or "data_path is not set" not in str(exc):
                raise
            self.data.mkdir(parents=True, exist_ok=True)
            con.execute(self.attach_sql(WRITER_ALIAS, read_only=False, create=True))


def write_ahead_log(catalog: Path) -> None:
    """Put a SQLite catalog in WAL mode (kept by the file): a reader that leaves a result half
    read holds a SQLite read lock, which in the default journal mode makes the writer's commit
    fail with "database is locked"; with a write-ahead log, readers never block the writer."""
    with contextlib.closing(sqlite3.connect(catalog)) as db:
        db.execute("PRAGMA journal_mode=WAL")


def current_snapshot(con: duckdb.DuckDBPyConnection) -> int | None:
    """Return the lake's latest snapshot id; None on an in-memory warehouse (no lake)."""
    name = con.execute("SELECT current_database()").fetchone()
    kind = con.execute(
        "SELECT type FROM duckdb_databases() WHERE database_name = ?", [name[0] if name else ""]
    ).fetchone()
    if not kind or kind[0] != "ducklake":
        return None
    row = con.execute(f"SELECT id FROM {name[0]}.current_snapshot()").fetchone()  # type: ignore[index]
    return int(row[0]) if row else None


_KEYS = "article_id, raw_uri, canonical_url, guid, content_hash, fetched_at"
# One signed 64-bit key per 8 bytes of signature, as tasks.dedup.band_hashes computes it.
_BANDS = (
    "SELECT (('0x' || substring(hex(s.signature), 16 * b.band + 1, 16))::UBIGINT::HUGEINT"
    " - 9223372036854775808)::BIGINT AS band_hash, s.article_id"
    " FROM {source} AS s, range(64) AS b(band)"
)


def absorb(index: duckdb.DuckDBPyConnection, snapshot: int | None) -> None:
    """Record, in the index's open transaction, the lake snapshot its rows now reach."""
    if snapshot is None:
        return
    index.execute("DELETE FROM absorbed")
    index.execute("INSERT INTO absorbed VALUES (?)", [snapshot])


def commit_index(index: duckdb.DuckDBPyConnection, snapshot: int | None) -> None:
    """Commit the index's transaction with the lake snapshot its rows now reach (after the
    lake's commit: a writer killed before this leaves the index behind, never ahead)."""
    absorb(index, snapshot)
    index.execute("COMMIT")


@dataclass
class Written:
    """What a write transaction committed: the lake snapshot that holds its rows."""

    snapshot: int | None = None


@contextlib.contextmanager
def writing(con: duckdb.DuckDBPyConnection) -> Iterator[tuple[duckdb.DuckDBPyConnection, Written]]:
    """Open one lake transaction on con and one on the writer's index (yielded, with what was
    written); commit the lake first, then the index with the snapshot it now reaches. A writer
    killed in between leaves the index behind the lake, and the next one catches it up."""
    import warehouse

    index = warehouse.index_cursor(con)
    written = Written()
    con.execute("BEGIN TRANSACTION")
    index.execute("BEGIN TRANSACTION")
    try:
        yield index, written
        con.execute("COMMIT")
        written.snapshot = current_snapshot(con)
        commit_index(index, written.snapshot)
    except BaseException:
        warehouse.rollback(con)
        warehouse.rollback(index)
        raise
    finally:
        index.close()


def catch_up(con: duckdb.DuckDBPyConnection, index: duckdb.DuckDBPyConnection) -> int:
    """Bring the writer's index level with the lake; return the articles it took in.

    A run commits the lake first, then its index: one killed in between left the index behind,
    and a new or deleted index file starts empty. Either way the index takes in what the lake
    added after the snapshot it last absorbed (the whole lake when it has none).
    """
    current = current_snapshot(con)
    tables = con.execute(
        "SELECT count(*) FROM duckdb_tables() "
        "WHERE database_name = current_database() AND table_name = 'signatures'"
    ).fetchone()
    if current is None or not tables or not tables[0]:
        return 0  # no lake, or one no run has migrated yet
    row = index.execute("SELECT max(snapshot_id) FROM absorbed").fetchone()
    absorbed = row[0] if row else None
    if absorbed == current:
        return 0
    lake = con.execute("SELECT current_database()").fetchone()[0]  # type: ignore[index]
    if absorbed is not None:
        kept = con.execute(f"SELECT min(snapshot_id) FROM ducklake_snapshots('{lake}')").fetchone()
        if kept and kept[0] is not None and kept[0] > absorbed + 1:
            absorbed = None  # the changes since were expired by a compaction: take in the whole lake

    def changed(table: str) -> str:
        if absorbed is None:
            return f"{lake}.main.{table}"
        return f"ducklake_table_insertions('{lake}', 'main', '{table}', {absorbed + 1}, {current})"

    index.execute("BEGIN TRANSACTION")
    try:
        if absorbed is None:
            for table in ("article_keys", "duplicate_keys", "signature_keys", "lsh_bands"):
                index.execute(f"DELETE FROM {table}")
        # A re-extracted or revised article comes again under its id: its keys follow its text.
        articles = (
            f"(SELECT DISTINCT ON (article_id) {_KEYS} FROM {changed('articles')} "
            "ORDER BY article_id, fetched_at DESC)"
        )
        index.execute(f"DELETE FROM article_keys WHERE article_id IN (SELECT article_id FROM {articles})")
        index.execute(f"INSERT INTO article_keys ({_KEYS}) SELECT {_KEYS} FROM {articles}")
        index.execute(
            f"INSERT INTO duplicate_keys SELECT DISTINCT duplicate_id FROM {changed('duplicates')} "
            "WHERE duplicate_id NOT IN (SELECT duplicate_id FROM duplicate_keys)"
        )
        if absorbed is None:
            fresh = f"(SELECT article_id, signature, shingles FROM {lake}.main.signatures)"
        else:
            # A revised article's signature comes again: its keys and bands are replaced.
            index.execute(
                "CREATE OR REPLACE TEMP TABLE signed_ids AS "
                f"SELECT DISTINCT article_id FROM {changed('signatures')}"
            )
            signed = index.execute("SELECT count(*) FROM signed_ids").fetchone()
            if signed and signed[0]:
                for table in ("signature_keys", "lsh_bands"):
                    index.execute(
                        f"DELETE FROM {table} WHERE article_id IN (SELECT article_id FROM signed_ids)"
                    )
            fresh = (
                f"(SELECT article_id, signature, shingles FROM {lake}.main.signatures "
                "WHERE article_id IN (SELECT article_id FROM signed_ids))"
            )
        index.execute("INSERT INTO lsh_bands " + _BANDS.format(source=fresh))
        index.execute(f"INSERT INTO signature_keys SELECT * FROM {fresh}")
        taken = index.execute("SELECT count(*) FROM article_keys").fetchone()
        absorb(index, current)
        index.execute("COMMIT")
    except BaseException:
        from warehouse import rollback

        rollback(index)
        raise
    return int(taken[0]) if taken else 0


@dataclass(frozen=True, slots=True)
class Compacted:
    """What one compaction did."""

    files_before: int
    files_after: int
    snapshots_expired: int
    files_deleted: int


def data_files(con: duckdb.DuckDBPyConnection) -> int:
    """Return how many Parquet files the lake's current tables read."""
    lake = con.execute("SELECT current_database()").fetchone()[0]  # type: ignore[index]
    row = con.execute(f"SELECT coalesce(sum(file_count), 0) FROM ducklake_table_info('{lake}')").fetchone()
    return int(row[0]) if row else 0


def compact(con: duckdb.DuckDBPyConnection, *, keep_days: int, min_files: int = 0) -> Compacted | None:
    """Merge the lake's small files, once it has min_files of them: each run writes a few files
    per table, and a scan opens every one. Then expire the snapshots older than keep_days (time
    travel reaches back that far) and delete the files only those snapshots read.

    Merging rewrites files smaller than DuckLake's target file size (512 MB by default) into
    files up to that size: what one compaction writes is bounded by that size per table, not by
    the warehouse.
    """
    before = data_files(con)
    if before < min_files:
        return None
    import warehouse

    index = warehouse.index_cursor(con)
    catch_up(con, index)  # level before: the compaction's snapshots add no rows to take in
    lake = con.execute("SELECT current_database()").fetchone()[0]  # type: ignore[index]
    con.execute(f"CALL ducklake_flush_inlined_data('{lake}')")
    con.execute(f"CALL ducklake_merge_adjacent_files('{lake}')")
    expired = con.execute(
        f"CALL ducklake_expire_snapshots('{lake}', older_than => now() - INTERVAL '{int(keep_days)} days')"
    ).fetchall()
    # Files a reader may still be scanning are left for the next compaction.
    deleted = con.execute(
        f"CALL ducklake_cleanup_old_files('{lake}', older_than => now() - INTERVAL '1 hour')"
    ).fetchall()
    # Merged files list their rows as inserted again: the index must not take them in twice.
    index.execute("BEGIN TRANSACTION")
    absorb(index, current_snapshot(con))
    index.execute("COMMIT")
    index.close()
    return Compacted(before, data_files(con), len(expired), len(deleted))
