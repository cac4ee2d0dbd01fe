"""`newsflow compact`: the lake's upkeep, on demand (runs also do it when files pile up)."""

from __future__ import annotations

from pathlib import Path

import typer

from flows.terminal import DbOption, console, db_path, fail, load_settings


def compact(
    db: Path | None = DbOption,
    keep_days: int | None = typer.Option(
        None, "--keep-days", help="Expire snapshots older than this [env NEWSFLOW_KEEP_SNAPSHOTS_DAYS; 30]."
    ),
) -> None:
    """Merge the lake's small Parquet files, expire old snapshots and delete the files no
    snapshot reads any more."""
    from warehouse.lake import compact as compact_lake
    from warehouse.writer import Warehouse

    settings = load_settings().with_overrides(db=db)
    store = Warehouse(db_path(db), settings.catalog)
    if not store.exists():
        raise fail(f"no warehouse at {store.db}: run `newsflow run` first", 2)
    with store.locked(), store.connect() as con:
        done = compact_lake(
            con, keep_days=keep_days if keep_days is not None else settings.keep_snapshots_days
        )
    assert done is not None  # min_files 0: always compacts
    console.print(
        f"data files {done.files_before} -> {done.files_after}; snapshots expired {done.snapshots_expired}; "
        f"files deleted {done.files_deleted}",
        markup=False,
        soft_wrap=True,
    )
