"""Run summaries: counts for the runs table, the CLI and the Prefect UI artifacts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from tasks.records import Article, Quarantined

ARTIFACT_ROWS = 50


def summarize(
    *, documents: int, skipped_known: int, new: int, languages: Mapping[str, int],
    duplicate_kinds: Mapping[str, int], unchanged: int, quarantined: Sequence[Quarantined],
    feeds_unchanged: int = 0, feeds_deferred: int = 0,
) -> dict[str, Any]:
    """Return the run's counts: totals, then by language (of the new articles), duplicate kind,
    stage and reason."""
    return {
        "documents": documents,
        "skipped_known": skipped_known,
        "feeds_unchanged": feeds_unchanged,
        "feeds_deferred": feeds_deferred,
        "new": new,
        "unchanged": unchanged,
        "duplicates": sum(duplicate_kinds.values()),
        "quarantined": len(quarantined),
        "languages": dict(Counter(languages).most_common()),
        "duplicate_kinds": dict(Counter(duplicate_kinds).most_common()),
        "quarantine_reasons": dict(
            Counter(f"{q.stage}:{q.reason}" for q in quarantined).most_common()
        ),
    }


def summary_markdown(summary: dict[str, Any], run_id: str) -> str:
    """Return the run summary as a markdown document for the Prefect UI."""
    lines = [
        f"# newsflow run `{run_id}`",
        "",
        "| documents | already stored | new | unchanged | duplicates | quarantined |",
        "|---:|---:|---:|---:|---:|---:|",
        f"| {summary['documents']} | {summary['skipped_known']} | {summary['new']} "
        f"| {summary['unchanged']} | {summary['duplicates']} | {summary['quarantined']} |",
    ]
    for title, key in (("Languages", "languages"), ("Duplicates by kind", "duplicate_kinds"),
                       ("Quarantine by stage:reason", "quarantine_reasons")):
        counts = summary[key]
        lines += ["", f"## {title}", ""]
        lines += [f"- `{name}`: {count}" for name, count in counts.items()] or ["- none"]
    return "\n".join(lines) + "\n"


def article_rows(articles: Sequence[Article], limit: int = ARTIFACT_ROWS) -> list[dict[str, Any]]:
    """Return the first new articles as table rows: title, source, language, URL."""
    return [
        {"title": a.title or "", "source": a.raw_uri, "language": a.language,
         "words": a.word_count, "url": a.url or ""}
        for a in articles[:limit]
    ]
