"""The deployments of prefect.yaml, served from one process (no work pool): one definition for both."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, cast

import yaml
from prefect import serve
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.deployments.runner import RunnerDeployment
from prefect.events import DeploymentEventTrigger
from prefect.schedules import Cron

from flows.automations import install_automations
from flows.ingest import ingest
from tasks.configfile import PROJECT_ROOT
from tasks.settings import Settings

PREFECT_YAML = PROJECT_ROOT / "prefect.yaml"
_SETTING = re.compile(r"\{\{\s*\$NEWSFLOW_(\w+)\s*\}\}")


def _resolve(value: str, settings: Settings) -> str:
    """Fill `{{ $NEWSFLOW_X }}` as `prefect deploy` does, from the settings (same variables)."""
    return _SETTING.sub(lambda m: str(getattr(settings, m.group(1).lower())), value)


def declared(path: Path = PREFECT_YAML) -> list[dict[str, Any]]:
    """Return the deployments prefect.yaml declares, anchors merged."""
    return cast(list[dict[str, Any]], yaml.safe_load(path.read_text(encoding="utf-8"))["deployments"])


def _deployment(spec: dict[str, Any], settings: Settings) -> RunnerDeployment:
    options: dict[str, Any] = {"tags": spec.get("tags", []), "description": spec.get("description")}
    if "schedules" in spec:
        options["schedules"] = [
            Cron(_resolve(s["cron"], settings), timezone=_resolve(s["timezone"], settings))
            for s in spec["schedules"]
        ]
    if "concurrency_limit" in spec:
        limit = spec["concurrency_limit"]
        options["concurrency_limit"] = ConcurrencyLimitConfig(
            limit=limit["limit"],
            collision_strategy=ConcurrencyLimitStrategy(limit["collision_strategy"]),
        )
    if "triggers" in spec:
        options["triggers"] = [
            DeploymentEventTrigger(**{k: v for k, v in t.items() if k != "type"}) for t in spec["triggers"]
        ]
    # to_deployment answers a coroutine only when called from async code.
    return cast(RunnerDeployment, ingest.to_deployment(spec["name"], **options))


def deployments(settings: Settings) -> list[RunnerDeployment]:
    """Return prefect.yaml's deployments of the ingest flow, for serving without a work pool."""
    return [_deployment(spec, settings) for spec in declared()]


def serve_deployments(settings: Settings) -> None:
    """Create or update the shipped automations, register the deployments and run their flow runs."""
    install_automations()
    serve(*deployments(settings))
