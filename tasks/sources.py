"""Source lists: the seeds folder, and the feeds and pages named in sources.toml or on the CLI."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from tasks.records import Source


class SourcesFileError(Exception):
    """sources.toml could not be read or does not have the expected shape."""


@dataclass(frozen=True, slots=True)
class SourcePlan:
    """Every source one run reads."""

    seeds: Source | None
    feeds: list[Source]
    pages: list[Source]

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
