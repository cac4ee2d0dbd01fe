"""newsflow's Prefect events: a source changed (in), a run completed or failed (out)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect.events import emit_event

from tasks.report import RunSummary
from tasks.sources import is_url

SOURCE_UPDATED = "newsflow.source.updated"
RUN_COMPLETED = "newsflow.run.completed"
RUN_FAILED = "newsflow.run.failed"


def source_resource(source: str | Path) -> dict[str, str]:
    """Return the event resource naming one source: a file (as a file:// URI) or a URL."""
    if isinstance(source, Path) or not is_url(source):
        path = Path(source).absolute()
        return {
            "prefect.resource.id": path.as_uri(),
            "prefect.resource.name": path.name,
            "newsflow.kind": "file",
        }
    return {"prefect.resource.id": source, "prefect.resource.name": source, "newsflow.kind": "url"}


def is_spike(summary: RunSummary, share: float) -> bool:
    """Return True when the run quarantined at least `share` of the items it found (and at least 3)."""
    quarantined = summary.quarantined
    return quarantined >= 3 and quarantined >= share * max(summary.discovered, 1)


def run_event(
    run_id: str, summary: RunSummary, *, spike_share: float, source: str | None = None
) -> tuple[str, dict[str, str], dict[str, Any]]:
    """Return the name, resource and payload of a completed run's event."""
    resource = {
        "prefect.resource.id": f"newsflow.run.{run_id}",
        "prefect.resource.name": "newsflow run",
        "newsflow.quarantine-spike": str(is_spike(summary, spike_share)).lower(),
    }
    payload = {**summary.to_dict(), "source": source}  # the counts runs.counts stores
    return RUN_COMPLETED, resource, payload


def emit_run_completed(
    run_id: str, summary: RunSummary, *, spike_share: float, source: str | None = None
) -> None:
    """Emit newsflow.run.completed with the run's counts (related to its flow run)."""
    name, resource, payload = run_event(run_id, summary, spike_share=spike_share, source=source)
    emit_event(name, resource=resource, payload=payload)


def emit_run_failed(run_id: str, reason: str) -> None:
    """Emit newsflow.run.failed with the reason Prefect gives."""
    emit_event(
        RUN_FAILED,
        resource={"prefect.resource.id": f"newsflow.run.{run_id}", "prefect.resource.name": "newsflow run"},
        payload={"error": reason},
    )


def emit_source_updated(path: Path, change: str) -> None:
    """Emit newsflow.source.updated for a new or changed file."""
    emit_event(
        SOURCE_UPDATED,
        resource=source_resource(path),
        payload={"path": str(path.absolute()), "change": change},
    )
