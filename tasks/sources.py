"""Source lists: seeds, feeds, sitemaps and pages (sources.toml, subscriptions, CLI), or one named source."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from tasks.records import Source, SourceKind


class SourcesFileError(Exception):
    """sources.toml could not be read or does not have the expected shape."""


# sources.toml's keys, each a list of URLs of one kind.
FILE_KEYS: dict[str, SourceKind] = {"feeds": "feed", "sitemaps": "sitemap", "pages": "page"}


@dataclass(frozen=True, slots=True)
class SourcePlan:
    """Every source one run reads."""

    seeds: Source | None
    feeds: list[Source]
    pages: list[Source]
    sitemaps: list[Source] = field(default_factory=list)

    def web(self) -> bool:
        """Return True when the plan reads feeds, sitemaps or pages."""
        return bool(self.feeds or self.sitemaps or self.pages)

    def listed(self) -> list[Source]:
        """Return the sources read for their lists of pages: feeds, then sitemaps."""
        return self.feeds + self.sitemaps

    def all(self) -> list[Source]:
        return ([self.seeds] if self.seeds else []) + self.feeds + self.sitemaps + self.pages


def read_sources_file(path: Path) -> list[Source]:
    """Return the feeds, sitemaps and pages listed in a sources.toml file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SourcesFileError(f"{path}: {exc}") from exc
    listed = []
    for key, kind in FILE_KEYS.items():
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise SourcesFileError(f"{path}: '{key}' must be a list of URL strings")
        listed += [Source(kind, v) for v in value]
    return listed


def configured_sources(sources_file: Path | None, subscribed: Sequence[Source]) -> list[Source]:
    """Return the sources every run reads: sources.toml's, then the stored subscriptions; a URL
    in both is read once, as sources.toml lists it (the file is the operator's, and wins)."""
    listed = read_sources_file(sources_file) if sources_file else []
    return list({s.uri: s for s in [*subscribed, *listed]}.values())


def plan_sources(
    seeds: Path | None, configured: Sequence[Source], feeds: list[str], pages: list[str]
) -> SourcePlan:
    """Return the run's sources: the seeds folder, the configured sources, then the given feeds
    and pages (a run's one-offs); a URL is read once, as first named."""
    given = [Source("feed", u) for u in feeds] + [Source("page", u) for u in pages]
    unique: dict[str, Source] = {}
    for s in [*configured, *given]:
        unique.setdefault(s.uri, s)
    seed_source = Source("seeds", str(seeds.resolve())) if seeds and seeds.is_dir() else None
    by_kind = [[s for s in unique.values() if s.kind == kind] for kind in ("feed", "page", "sitemap")]
    return SourcePlan(seed_source, *by_kind)


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


def plan_named(
    named: Sequence[str], seeds: Path | None, configured: Sequence[Source]
) -> tuple[SourcePlan, list[Path]]:
    """Return the plan for the sources named and the files among them.

    A configured URL is read as configured (a feed, a sitemap), any other URL as a page. Files
    inside the seeds folder belong to it (same source and keys as a full run); other files belong
    to their folder (several: the folder holding them all).
    """
    urls = list(dict.fromkeys(s for s in named if is_url(s)))
    known = {s.uri: s for s in configured}
    plan = plan_sources(None, [known.get(u, Source("page", u)) for u in urls], [], [])
    paths = list(dict.fromkeys(source_path(s, seeds) for s in named if not is_url(s)))
    if not paths:
        return plan, []
    root = seeds.resolve() if seeds is not None else None
    if root is not None and all(p.is_relative_to(root) for p in paths):
        folder = root
    else:
        folder = Path(os.path.commonpath([p.parent for p in paths]))
    return SourcePlan(Source("seeds", str(folder)), plan.feeds, plan.pages, plan.sitemaps), paths


def choose_sources(
    seeds: Path | None,
    configured: Sequence[Source],
    feeds: list[str],
    pages: list[str],
    named: Sequence[str],
) -> tuple[SourcePlan, list[Path]]:
    """Return the run's sources, and the files it is limited to: the sources named, else every
    configured one (and no file list)."""
    if named:
        return plan_named(named, seeds, configured)
    return plan_sources(seeds, configured, feeds, pages), []
