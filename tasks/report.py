"""Run summaries: counts for the runs table, the CLI, the Prefect UI artifacts and events."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from tasks.records import Article
from tasks.sources import is_url

if TYPE_CHECKING:
    from tasks.fetch.listing import Listing
    from tasks.load import LoadResult
    from tasks.sources import SourcePlan
    from tasks.stream import Streamed

ARTIFACT_ROWS = 50
# Trouble first: what the reader has to act on.
STATE_ORDER = ("failed", "deferred", "unchanged", "new")
STATE_WORDS = {
    "failed": "failed",
    "deferred": "backed off (newsflow run --force fetches it now)",
    "unchanged": "unchanged",
    "new": "read",
}


@dataclass(frozen=True, slots=True)
class RunSummary:
    """What one run did with every item it found (each ends new, duplicate, unchanged,
    quarantined or deferred), then by language, duplicate kind, reason and feed."""

    discovered: int  # seed files, feed entries, listed pages, and items waiting from earlier runs
    new: int
    duplicates: int
    unchanged: int  # stored already: not fetched again, or fetched and found the same
    quarantined: int  # items set aside, with stage and reason
    deferred: int  # items left for a later run, with a reason
    documents: int  # documents read or fetched
    skipped_known: int  # of unchanged: URLs stored already, so not fetched
    feed_faults: int  # feeds (not items) set aside: unreachable, malformed
    feeds_unchanged: int  # answered 304 or sent the body of last time
    feeds_deferred: int  # backed off after failures: not asked this run
    languages: dict[str, int]  # of the new articles
    duplicate_kinds: dict[str, int]
    quarantine_reasons: dict[str, int]  # stage:reason, items and feeds
    deferred_reasons: dict[str, int]
    feeds: dict[str, str]  # feed or sitemap URI -> new | unchanged | deferred | failed
    feed_names: dict[str, str] = field(default_factory=dict)  # URI -> subscription name, when named
    revisited: int = 0  # of unchanged: stored articles fetched again (entry updated since, --force)
    revised: int = 0  # of unchanged: stored articles whose text changed enough to keep a version

    @classmethod
    def of(cls, *, files: int, listing: Listing, streamed: Streamed, result: LoadResult) -> RunSummary:
        """Return the summary of a run's listing, stream and load."""
        items_aside = listing.item_faults + streamed.fetch_faults + streamed.dropped
        waiting = listing.deferred + streamed.deferred
        feeds = Counter(listing.feeds.values())
        return cls(
            discovered=files + listing.discovered,
            new=result.new,
            duplicates=result.duplicates,
            unchanged=result.unchanged + listing.skipped_known,
            quarantined=len(items_aside),
            deferred=len(waiting),
            documents=streamed.documents,
            skipped_known=listing.skipped_known,
            feed_faults=len(listing.feed_faults),
            feeds_unchanged=feeds["unchanged"],
            feeds_deferred=feeds["deferred"],
            languages=_by_count(result.languages),
            duplicate_kinds=_by_count(result.duplicate_kinds),
            quarantine_reasons=_by_count(
                Counter(f"{q.stage}:{q.reason}" for q in [*listing.feed_faults, *items_aside])
            ),
            deferred_reasons=_by_count(Counter(d.reason for d in waiting)),
            feeds=dict(listing.feeds),
            feed_names=dict(listing.names),
            revisited=listing.revisits,
            revised=result.revisions.revised,
        )

    @property
    def unaccounted(self) -> int:
        """Return the items found that reached no outcome: 0, or a bug."""
        outcomes = self.new + self.duplicates + self.unchanged + self.quarantined + self.deferred
        return self.discovered - outcomes

    def to_dict(self) -> dict[str, Any]:
        """Return the summary as plain JSON-ready values (runs.counts, event payloads)."""
        return asdict(self)


def _by_count(counts: Mapping[str, int]) -> dict[str, int]:
    return dict(Counter(counts).most_common())


def _short(source: str) -> str:
    """Return a source as a run name shows it: a file's name, a URL without its scheme."""
    parsed = urlparse(source)
    if parsed.scheme in ("http", "https"):
        text = f"{parsed.netloc}{parsed.path}".rstrip("/")
        return text if len(text) <= 48 else text[:47] + "…"
    return Path(unquote(parsed.path) if parsed.scheme == "file" else source).name


def run_name(named: Sequence[str], deployment: str | None, given: int, when: datetime) -> str:
    """Return a flow run's name: what it read (the sources named, else its deployment, else every
    configured source, plus `given` one-off feeds and pages) and when it was due."""
    if named:
        shown = [_short(s) for s in dict.fromkeys(named)]
        kind = "url" if all(is_url(s) for s in named) else "file"
        what = f"{kind}{'s' if len(shown) > 1 else ''} " + ", ".join(shown[:2])
        what += f" +{len(shown) - 2}" if len(shown) > 2 else ""
    elif deployment:
        what = deployment.removesuffix("-ingest")
    else:
        what = "all sources" + (f" +{given} given" if given else "")
    return f"{what} {when:%Y-%m-%d %H:%M}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _sources_line(plan: SourcePlan, files: Sequence[Path]) -> str:
    parts = []
    if plan.seeds is not None:
        chosen = f" (only {', '.join(f'`{f.name}`' for f in files)})" if files else ""
        parts.append(f"seeds folder `{plan.seeds.uri}`{chosen}")
    for kind, sources in (("feed", plan.feeds), ("sitemap", plan.sitemaps), ("page", plan.pages)):
        if len(sources) == 1:
            parts.append(f"{kind} `{sources[0].uri}`")
        elif sources:
            parts.append(_plural(len(sources), kind))
    return "; ".join(parts) or "none"


def _queries(run_id: str, db: Path) -> list[str]:
    """Return the commands that list the run's quarantined items and duplicates."""
    return [
        "```sh",
        f"newsflow query --db '{db}' \\",
        f"  \"SELECT stage, reason, uri, detail FROM quarantine WHERE last_run_id = '{run_id}'\"",
        f"newsflow query --db '{db}' \\",
        '  "SELECT kind, similarity, duplicate_id, original_title FROM duplicate_pairs '
        f"WHERE run_id = '{run_id}'\"",
        "```",
    ]


@dataclass(frozen=True, slots=True)
class RunReport:
    """What the markdown says about a run besides its counts: its name, sources, length, warehouse."""

    run_id: str
    name: str
    plan: SourcePlan
    files: Sequence[Path]  # the seed files a run was limited to, or none
    seconds: float
    db: Path


def summary_markdown(summary: RunSummary, report: RunReport) -> str:
    """Return the run summary as a markdown document for the Prefect UI."""
    lines = [
        f"# newsflow run {report.name}",
        "",
        f"**Sources**: {_sources_line(report.plan, report.files)}  ",
        f"**Took** {report.seconds:.1f} s; run `{report.run_id}`, warehouse `{report.db}`",
        "",
        "| found | new | duplicates | unchanged | quarantined | deferred |",
        "|---:|---:|---:|---:|---:|---:|",
        f"| {summary.discovered} | {summary.new} | {summary.duplicates} | {summary.unchanged} "
        f"| {summary.quarantined} | {summary.deferred} |",
        "",
        f"{summary.documents} documents read or fetched; {summary.skipped_known} URLs stored "
        f"already, not fetched; {summary.feed_faults} feeds set aside.",
    ]
    if summary.revisited or summary.revised:
        lines += [
            "",
            f"{summary.revisited} stored articles fetched again; {summary.revised} of the articles "
            "that came again were revised (newest text kept, the earlier one in `article_versions`).",
        ]
    for title, counts in (
        ("Languages", summary.languages),
        ("Duplicates by kind", summary.duplicate_kinds),
        ("Quarantine by stage:reason", summary.quarantine_reasons),
        ("Deferred to a later run, by reason", summary.deferred_reasons),
    ):
        lines += ["", f"## {title}", ""]
        lines += [f"- `{name}`: {count}" for name, count in counts.items()] or ["- none"]
    lines += ["", "## Feeds and sitemaps", ""]
    if summary.feeds:
        states = Counter(summary.feeds.values())
        lines.append(
            ", ".join(f"{states[s]} {STATE_WORDS[s].split(' (')[0]}" for s in STATE_ORDER if states[s])
        )
        lines += ["", "| state | name | URI |", "|---|---|---|"]
        for uri, state in sorted(summary.feeds.items(), key=lambda kv: (STATE_ORDER.index(kv[1]), kv[0])):
            lines.append(
                f"| {STATE_WORDS[state]} | {summary.feed_names.get(uri, '').replace('|', '/')} | `{uri}` |"
            )
    else:
        lines.append("- none read")
    lines += ["", "## This run's quarantine and duplicates", "", *_queries(report.run_id, report.db)]
    return "\n".join(lines) + "\n"


def article_rows(articles: Sequence[Article], limit: int = ARTIFACT_ROWS) -> list[dict[str, Any]]:
    """Return the first new articles as table rows: title, source, language, URL."""
    return [
        {
            "title": a.title or "",
            "source": a.raw_uri,
            "language": a.language,
            "words": a.word_count,
            "url": a.url or "",
        }
        for a in articles[:limit]
    ]
