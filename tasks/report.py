"""Run summaries: counts for the runs table, the CLI, the Prefect UI artifacts and events."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from tasks.records import Article, Quarantined

ARTIFACT_ROWS = 50


@dataclass(frozen=True, slots=True)
class RunSummary:
    """What one run did: totals, then by language (of the new articles), duplicate kind and
    quarantine stage:reason."""

    documents: int
    skipped_known: int
    feeds_unchanged: int
    feeds_deferred: int
    new: int
    unchanged: int
    duplicates: int
    quarantined: int
    languages: dict[str, int]
    duplicate_kinds: dict[str, int]
    quarantine_reasons: dict[str, int]

    @classmethod
    def of(
        cls,
        *,
        documents: int,
        skipped_known: int,
        feeds_unchanged: int,
        feeds_deferred: int,
        new: int,
        unchanged: int,
        languages: Mapping[str, int],
        duplicate_kinds: Mapping[str, int],
        quarantined: Sequence[Quarantined],
    ) -> RunSummary:
        """Return the summary of these counts, each breakdown sorted by count."""
        return cls(
            documents=documents,
            skipped_known=skipped_known,
            feeds_unchanged=feeds_unchanged,
            feeds_deferred=feeds_deferred,
            new=new,
            unchanged=unchanged,
            duplicates=sum(duplicate_kinds.values()),
            quarantined=len(quarantined),
            languages=dict(Counter(languages).most_common()),
            duplicate_kinds=dict(Counter(duplicate_kinds).most_common()),
            quarantine_reasons=dict(Counter(f"{q.stage}:{q.reason}" for q in quarantined).most_common()),
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the summary as plain JSON-ready values (runs.counts, event payloads)."""
        return asdict(self)


def summary_markdown(summary: RunSummary, run_id: str) -> str:
    """Return the run summary as a markdown document for the Prefect UI."""
    lines = [
        f"# newsflow run `{run_id}`",
        "",
        "| documents | already stored | new | unchanged | duplicates | quarantined |",
        "|---:|---:|---:|---:|---:|---:|",
        f"| {summary.documents} | {summary.skipped_known} | {summary.new} "
        f"| {summary.unchanged} | {summary.duplicates} | {summary.quarantined} |",
    ]
    for title, counts in (
        ("Languages", summary.languages),
        ("Duplicates by kind", summary.duplicate_kinds),
        ("Quarantine by stage:reason", summary.quarantine_reasons),
    ):
        lines += ["", f"## {title}", ""]
        lines += [f"- `{name}`: {count}" for name, count in counts.items()] or ["- none"]
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
