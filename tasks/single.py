"""One source named by an event: a seed file, a feed or a page, planned and read alone."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from urllib.parse import unquote, urlparse

from tasks.files import one_file, read_jobs
from tasks.records import Quarantined, RawDocument, Source
from tasks.sources import SourcePlan, plan_sources, read_sources_file


def source_path(source: str, seeds: Path | None) -> Path:
    """Return the file a source parameter names: a path, a file:// URI, relative to the seeds."""
    if source.startswith("file://"):
        source = unquote(urlparse(source).path)
    path = Path(source).expanduser()
    if not path.is_absolute() and seeds is not None:
        path = seeds / path
    return path.parent.resolve() / path.name  # the file itself unresolved: a link is checked later


def plan_one(
    source: str, seeds: Path | None, sources_file: Path | None
) -> tuple[SourcePlan, Path | None]:
    """Return the plan for one source and, when it is a file, the file.

    A URL listed as a feed in sources.toml is a feed, any other URL a page. A file inside the
    seeds folder belongs to it (same source and keys as a full run); any other file belongs to
    its own folder.
    """
    if source.startswith(("http://", "https://")):
        listed_feeds = read_sources_file(sources_file)[0] if sources_file else []
        if source in listed_feeds:
            return SourcePlan(None, [Source("feed", source)], []), None
        return SourcePlan(None, [], [Source("page", source)]), None
    path = source_path(source, seeds)
    root = seeds.resolve() if seeds is not None else None
    folder = root if root is not None and path.is_relative_to(root) else path.parent
    return SourcePlan(Source("seeds", str(folder)), [], []), path


def read_one(
    path: Path, source: Source, *, now: datetime, max_bytes: int
) -> tuple[list[RawDocument], list[Quarantined]]:
    """Return one file of a seed folder as read_folder would, or nothing if it is no article file."""
    return read_jobs(one_file(path, source), now=now, max_bytes=max_bytes)


def choose_sources(
    seeds: Path | None, sources_file: Path | None, feeds: list[str], pages: list[str],
    source: str | None,
) -> tuple[SourcePlan, Path | None]:
    """Return the run's sources, and its one file: the source named, else every configured one."""
    if source:
        return plan_one(source, seeds, sources_file)
    return plan_sources(seeds, sources_file, feeds, pages), None
