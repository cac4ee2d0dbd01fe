"""newsflow's automations, shipped as files in automations/: created, or updated, by name."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from prefect.events.actions import ActionTypes  # noqa: F401  (registers the action types)
from prefect.events.schemas.automations import AutomationCore

from tasks.configfile import PROJECT_ROOT

if TYPE_CHECKING:
    from prefect.client.orchestration import SyncPrefectClient

AUTOMATIONS = PROJECT_ROOT / "automations"


def shipped(folder: Path = AUTOMATIONS) -> list[AutomationCore]:
    """Return the automations the folder's YAML files declare, one a file, by file name."""
    return [
        AutomationCore.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        for path in sorted(folder.glob("*.yaml"))
    ]


def _same(a: AutomationCore, b: AutomationCore) -> bool:
    def shape(automation: AutomationCore) -> Any:
        return AutomationCore.model_validate(automation.model_dump()).model_dump(mode="json")

    return bool(shape(a) == shape(b))


def ensure_automations(client: SyncPrefectClient, automations: list[AutomationCore]) -> dict[str, str]:
    """Create each automation missing on the server, update each that differs, and remove
    copies of the same name (the one last updated is kept); return what was done to each:
    created, updated or unchanged."""
    done = {}
    for wanted in automations:
        found = client.read_automations_by_name(wanted.name)  # last updated first
        first, copies = (found[0], found[1:]) if found else (None, [])
        for copy in copies:  # left by `prefect automation create`, which adds one a call
            client.delete_automation(copy.id)
        if first is None:
            client.create_automation(wanted)
            done[wanted.name] = "created"
        elif not _same(first, wanted):
            client.update_automation(first.id, wanted)
            done[wanted.name] = "updated"
        else:
            done[wanted.name] = "unchanged" if not copies else "updated"
    return done


def install_automations() -> None:
    """Create or update the shipped automations on the configured Prefect server, saying so."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        for name, what in ensure_automations(client, shipped()).items():
            print(f"newsflow: automation {name!r} {what}", file=sys.stderr)


if __name__ == "__main__":  # make deploy
    install_automations()
