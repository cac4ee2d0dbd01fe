"""Source lists: the seeds folder, feeds and pages (sources.toml, CLI), or the one source an event names."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from tasks.records import Source


class SourcesFileError(Exception):
    """sources.toml could not be read or does not have the expected shape."""


@dataclass(frozen=True, slots=True)
class SourcePlan:
    """Every source one run reads."""

    seeds: Source | None
    feeds: list[Source]
    pages: list[Source]

    def web(self) -> bool:
        """Return True when the plan reads feeds or pages."""
        return bool(self.feeds or self.pages)

    def all(self) -> list[Source]:
        return ([self.seeds] if self.seeds else []) + self.feeds + self.pages


def read_sources_file(path: Path) -> tuple[list[str], list[str]]:
    """Return the feed and page URLs listed in a sources.toml file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SourcesFileError(f"{path}: {exc}") from exc
    lists = []
    for key in ("feeds", "pages"):
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise SourcesFileError(f"{path}: '{key}' must be a list of URL strings")
        lists.append(value)
    return lists[0], lists[1]


def plan_sources(
    seeds: Path | None, sources_file: Path | None, feeds: list[str], pages: list[str]
) -> SourcePlan:
    """Return the run's sources: the seeds folder, then listed and given feeds and pages."""
    listed_feeds, listed_pages = read_sources_file(sources_file) if sources_file else ([], [])
    seed_source = Source("seeds", str(seeds.resolve())) if seeds and seeds.is_dir() else None
    return SourcePlan(
        seeds=seed_source,
        feeds=[Source("feed", u) for u in dict.fromkeys(listed_feeds + feeds)],
        pages=[Source("page", u) for u in dict.fromkeys(listed_pages + pages)],
    )


def is_url(source: str) -> bool:
    """Return True when a source parameter names a URL (a feed or page), not a file."""
    return source.startswith(("http://", "https://"))


def source_path(source: str, seeds: Path | None) -> Path:
    """Return the file a source parameter names: a path, a file:// URI, relative to the seeds."""
    if source.startswith("file://"):
        source = unquote(urlparse(source).path)
    path = Path(source).expanduser()
    if not path.is_absolute() and seeds is not None:
        path = seeds / path
    return path.parent.resolve() / path.name  # the file itself unresolved: a link is checked later


def plan_one(source: str, seeds: Path | None, sources_file: Path | None) -> tuple[SourcePlan, Path | None]:
    """Return the plan for one source and, when it is a file, the file.

    A URL listed as a feed in sources.toml is a feed, any other URL a page. A file inside the
    seeds folder belongs to it (same source and keys as a full run); any other file belongs to
    its own folder.
    """
    if is_url(source):
        listed_feeds = read_sources_file(sources_file)[0] if sources_file else []
        if source in listed_feeds:
            return SourcePlan(None, [Source("feed", source)], []), None
        return SourcePlan(None, [], [Source("page", source)]), None
    path = source_path(source, seeds)
    root = seeds.resolve() if seeds is not None else None
    folder = root if root is not None and path.is_relative_to(root) else path.parent
    return SourcePlan(Source("seeds", str(folder)), [], []), path


def choose_sources(
    seeds: Path | None,
    sources_file: Path | None,
    feeds: list[str],
    pages: list[str],
    source: str | None,
) -> tuple[SourcePlan, Path | None]:
    """Return the run's sources, and its one file: the source named, else every configured one."""
    if source:
        return plan_one(source, seeds, sources_file)
    return plan_sources(seeds, sources_file, feeds, pages), None
