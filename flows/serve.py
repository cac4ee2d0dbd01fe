"""The two deployments, daily-ingest and ingest-on-event, served from one process (no work pool)."""

from __future__ import annotations

from typing import Any, cast

from prefect import serve
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.deployments.runner import RunnerDeployment
from prefect.events import DeploymentEventTrigger
from prefect.schedules import Cron

from flows.events import SOURCE_UPDATED
from flows.ingest import ingest
from tasks.settings import Settings

DAILY = "daily-ingest"
ON_EVENT = "ingest-on-event"
TAGS = ["newsflow"]
# The event's resource id is the source (a file:// URI or a URL); every event has one, so the
# template never names a missing key, which would create no run and say so only in the server log.
SOURCE_TEMPLATE = {"source": "{{ event.resource.id }}"}


def source_trigger() -> DeploymentEventTrigger:
    """Return the trigger that runs ingest-on-event once for each newsflow.source.updated event."""
    return DeploymentEventTrigger(
        name="newsflow: ingest an updated source",
        expect={SOURCE_UPDATED},
        parameters=SOURCE_TEMPLATE,
    )


def _deployment(name: str, **options: Any) -> RunnerDeployment:
    # to_deployment answers a coroutine only when called from async code.
    return cast(RunnerDeployment, ingest.to_deployment(name, **options))


def deployments(settings: Settings) -> list[RunnerDeployment]:
    """Return the daily (cron) and on-event (trigger) deployments of the ingest flow."""
    common: dict[str, Any] = {"tags": TAGS}
    daily = _deployment(
        DAILY,
        schedules=[Cron(settings.schedule_cron, timezone=settings.schedule_timezone)],
        # A daily run still going when the next is due makes the next one pointless.
        concurrency_limit=ConcurrencyLimitConfig(
            limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW),
        description="Ingest every configured source once a day.",
        **common,
    )
    on_event = _deployment(
        ON_EVENT,
        triggers=[source_trigger()],
        # Every event must be ingested: later ones wait for a slot instead of being dropped.
        concurrency_limit=ConcurrencyLimitConfig(
            limit=1, collision_strategy=ConcurrencyLimitStrategy.ENQUEUE),
        description="Ingest only the source named by a newsflow.source.updated event.",
        **common,
    )
    return [daily, on_event]


def serve_deployments(settings: Settings) -> None:
    """Register both deployments and run their flow runs."""
    serve(*deployments(settings))
