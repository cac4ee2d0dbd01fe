"""`newsflow sources`: subscribe to feeds, sitemaps, pages and sites; list, check and remove them."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import typer

from flows.terminal import (
    DbOption,
    Format,
    catalog_setting,
    checked_url,
    console,
    db_path,
    errors,
    fail,
    literal_table,
    load_settings,
    open_warehouse,
    print_rows,
)
from tasks.records import Source

if TYPE_CHECKING:
    from tasks.fetch.discover import Found

sources_app = typer.Typer(
    no_args_is_help=True,
    rich_markup_mode=None,
    help="Subscribe to feeds, sitemaps, pages and whole sites; list, check and remove them. "
    "Every run reads the subscriptions and seeds/sources.toml; a URL in both is read as the file says.",
)


class AddKind(StrEnum):
    auto = "auto"  # a site for a home page URL, a sitemap by its name, else a feed
    feed = "feed"
    sitemap = "sitemap"
    site = "site"
    page = "page"


@sources_app.command("add")
def sources_add(
    url: str = typer.Argument(..., help="Feed, sitemap, page, or site home page URL."),
    kind: AddKind = typer.Option(AddKind.auto, "--kind", help="What the URL is."),
    name: str | None = typer.Option(None, "--name", help="A name to show for it."),
    every: bool = typer.Option(False, "--all", help="For a site: subscribe to every feed and sitemap found."),
    db: Path | None = DbOption,
) -> None:
    """Subscribe to a feed, sitemap or page; for a site, find its feeds and sitemaps and subscribe
    to the best ones."""
    from datetime import UTC, datetime

    from tasks.fetch.discover import best
    from tasks.subscriptions import guess_kind, subscribe, writing
    from warehouse.writer import Warehouse

    chosen_kind = guess_kind(checked_url(url)) if kind is AddKind.auto else kind.value
    site = None
    if chosen_kind == "site":
        site = url
        found = _discover(url)
        picked = [f for f in found if f.ok] if every else best(found)
        if not picked:
            raise fail(f"no feed or sitemap found on {url}", 1)
        sources = [Source(f.candidate.kind, f.candidate.url, name or f.candidate.title) for f in picked]
    else:
        sources = [Source(chosen_kind, url, name)]  # type: ignore[arg-type]  # not 'site' here
    with writing(Warehouse(db_path(db), catalog_setting())) as con:
        added = subscribe(con, sources, datetime.now(UTC), site=site)
    for s in sources:
        state = "subscribed" if s in added else "already subscribed, updated"
        console.print(f"{state}: {s.kind} {s.uri}", markup=False, soft_wrap=True)


def _discover(site: str) -> list[Found]:
    """Return what a site's home page, robots.txt and common paths hold, printed as a table."""
    from tasks.fetch.discover import discover
    from tasks.fetch.polite import fetch_session

    with fetch_session(load_settings().fetch_policy()) as fetcher:
        found = discover(fetcher, site)
    rows = [
        (f.candidate.kind, f.candidate.url, f.candidate.found_in, f.entries, _holds(f), f.error)
        for f in found
    ]
    console.print(literal_table(["kind", "url", "found in", "entries", "holds", "error"], rows))
    return found


def _holds(found: Found) -> str:
    if not found.ok:
        return ""
    return " ".join(w for w, on in (("news", found.news), ("index", found.index)) if on)


@sources_app.command("list")
def sources_list(
    db: Path | None = DbOption,
    config: Path | None = typer.Option(None, help="sources.toml [default <seeds>/sources.toml]."),
    format: Format = typer.Option(Format.table, "--format", help="Output format."),
) -> None:
    """List the subscriptions and sources.toml's sources with their state and counts."""
    from tasks.sources import SourcesFileError, read_sources_file
    from tasks.subscriptions import STATUS_COLUMNS, status_rows

    settings = load_settings().with_overrides(config=config)
    file = settings.sources_file()
    try:
        in_file = read_sources_file(file) if file else []
    except SourcesFileError as exc:
        raise fail(str(exc), 2) from exc
    path = db_path(db)
    if catalog_setting() is None and not path.exists():
        rows = status_rows(None, in_file)
    else:
        with open_warehouse(path) as con:
            try:
                rows = status_rows(con, in_file)
            except duckdb.CatalogException as exc:
                raise fail(f"{path} predates subscriptions: run `newsflow run` once ({exc})", 2) from exc
    print_rows(list(STATUS_COLUMNS), rows, format)


@sources_app.command("remove")
def sources_remove(
    url: str = typer.Argument(..., help="The subscribed URL."), db: Path | None = DbOption
) -> None:
    """Unsubscribe from a URL; its articles stay, and sources.toml's sources are removed there."""
    from tasks.sources import read_sources_file
    from tasks.subscriptions import unsubscribe, writing
    from warehouse.writer import Warehouse

    file = load_settings().sources_file()
    in_file = file is not None and any(s.uri == url for s in read_sources_file(file))
    with writing(Warehouse(db_path(db), catalog_setting())) as con:
        removed = unsubscribe(con, url)
    if not removed:
        where = f": it is listed in {file}; remove it there" if in_file else ""
        raise fail(f"not subscribed to {url}{where}", 1)
    console.print(f"removed: {url}", markup=False, soft_wrap=True)
    if in_file:
        errors.print(f"newsflow: {url} is still read: {file} lists it", markup=False, soft_wrap=True)


@sources_app.command("check")
def sources_check(
    url: str | None = typer.Argument(
        None, help="One URL [default: every subscription and sources.toml source]."
    ),
    db: Path | None = DbOption,
    config: Path | None = typer.Option(None, help="sources.toml [default <seeds>/sources.toml]."),
    show: int = typer.Option(5, "--show", help="Entries printed per source."),
) -> None:
    """Fetch sources now, ignoring back-off and validators, and print what they hold; nothing is
    stored. Exits 1 when one failed."""
    from datetime import UTC, datetime

    from tasks.fetch.polite import fetch_session
    from tasks.sources import configured_sources
    from tasks.subscriptions import check_source, guess_kind, stored_subscriptions
    from warehouse.writer import Warehouse

    settings = load_settings().with_overrides(config=config, force=True)
    store = Warehouse(db_path(db), catalog_setting())
    configured = configured_sources(settings.sources_file(), stored_subscriptions(store))
    if url is not None:
        kind = guess_kind(checked_url(url))
        if kind == "site" and all(s.uri != url for s in configured):
            found = _discover(url)
            raise typer.Exit(0 if any(f.ok for f in found) else 1)
        default = Source("feed" if kind == "site" else kind, url)
        configured = [next((s for s in configured if s.uri == url), default)]
    if not configured:
        raise fail("no sources: add one with `newsflow sources add URL`", 2)
    failed = 0
    with fetch_session(settings.fetch_policy()) as fetcher:
        for source in configured:
            checked = check_source(fetcher, source, datetime.now(UTC))
            failed += checked.failed
            state = "FAILED" if checked.failed else f"{len(checked.entries)} entries"
            console.print(f"{source.kind} {source.uri}: {state}", markup=False, soft_wrap=True)
            for q in checked.faults:
                console.print(f"  {q.stage}:{q.reason} {q.uri}: {q.detail}", markup=False, soft_wrap=True)
            for e in checked.entries[:show]:
                dated = f"{e.published:%Y-%m-%d %H:%M} " if e.published else ""
                console.print(f"  {dated}{e.link}  {e.title or ''}", markup=False, soft_wrap=True)
    if failed:
        raise typer.Exit(1)
