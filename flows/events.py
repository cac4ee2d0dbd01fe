"""newsflow's Prefect events: sources changed (in), a run completed or failed (out), and the
outbox that keeps the watcher's events while the server cannot be reached."""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from prefect.events import Event, RelatedResource, emit_event
from prefect.exceptions import PrefectHTTPStatusError

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


def sources_updated(files: Sequence[tuple[Path, str]]) -> Event:
    """Return one newsflow.source.updated event for files that changed together: its resource is
    the first file (a trigger templating from the resource id still gets a source), its payload
    lists them all (`sources`, the flow's parameter) with each change, added or modified."""
    uris = [source_resource(path)["prefect.resource.id"] for path, _ in files]
    resource = source_resource(files[0][0])
    if len(files) > 1:
        resource["prefect.resource.name"] += f" +{len(files) - 1}"
    return Event(
        event=SOURCE_UPDATED,
        resource=resource,
        related=[
            RelatedResource({**source_resource(path), "prefect.resource.role": "source"}) for path, _ in files
        ],
        payload={"sources": uris, "changes": [change for _, change in files]},
        occurred=datetime.now(UTC),
        id=uuid.uuid4(),
    )


class Outbox:
    """Events written to a folder first, then sent in order; those the server did not take
    stay on disk and are sent again, also by the next process that opens the folder."""

    def __init__(self, folder: Path, retry_every: float = 2.0) -> None:
        self.folder = folder
        self.retry_every = retry_every
        self._next_try = 0.0
        self._log = logging.getLogger("newsflow.watch")

    def pending(self) -> list[Path]:
        """Return the events not sent yet, oldest first."""
        return sorted(self.folder.glob("*.json"))

    def put(self, event: Event) -> None:
        """Keep the event on disk (a file renamed into place: never half written), then send."""
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns():020d}-{event.id}.json"
        part = self.folder / f".{name}.part"
        part.write_text(event.model_dump_json(), encoding="utf-8")
        os.replace(part, self.folder / name)
        self._next_try = 0.0
        self.flush()

    def flush(self) -> int:
        """Send the pending events, oldest first, until one fails; return how many are left. After
        a failure, calls do nothing for retry_every seconds."""
        waiting = self.pending()
        if not waiting or time.monotonic() < self._next_try:
            return len(waiting)
        from prefect.client.orchestration import get_client

        sent = 0
        try:
            with get_client(sync_client=True) as client:
                for path in waiting:
                    event = Event.model_validate_json(path.read_text(encoding="utf-8"))
                    client.request("POST", "/events", json=[event.model_dump(mode="json")]).raise_for_status()
                    path.unlink()
                    sent += 1
        except (httpx.HTTPError, PrefectHTTPStatusError) as exc:
            self._next_try = time.monotonic() + self.retry_every
            self._log.warning(
                "server not reachable (%s): %d event(s) kept in %s", exc, len(waiting) - sent, self.folder
            )
        if sent:
            self._log.info("sent %d event(s)", sent)
        return len(waiting) - sent
