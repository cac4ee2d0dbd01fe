"""newsflow as a service: deployments, events in and out, the watcher, overlapping runs, on a real server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import warehouse
from flows.automations import ensure_automations, shipped
from flows.events import SOURCE_UPDATED, run_event
from flows.serve import deployments
from flows.watch import Gathering, due, is_article
from tasks.report import RunSummary
from tasks.settings import Settings
from tests.conftest import FIXTURES, ROOT, SEEDS, runs_accounted
from tests.prefect_server import BIN, PrefectServer, Process, free_port, wait_for

DAILY, ON_EVENT = "daily-ingest", "ingest-on-event"
SOURCE_TEMPLATE = {
    "source": "{{ event.resource.id }}",
    "sources": "{{ event.payload.sources | default([]) }}",
}
SPIKE = "newsflow quarantine spike"
NEW = FIXTURES / "plaintext"  # real articles unlike the seeds: each one is new to the warehouse


def articles(db: Path) -> list[str]:
    if not db.exists():
        return []
    with warehouse.connect(db, read_only=True) as con:
        return [r[0] for r in con.execute("SELECT raw_uri FROM articles ORDER BY raw_uri").fetchall()]


def test_the_watcher_emits_a_file_once_it_has_settled(tmp_path: Path) -> None:
    new, old = tmp_path / "new.txt", tmp_path / "old.txt"
    new.write_text("being written")
    old.write_text("unchanged")
    now = time.time_ns()
    os.utime(old, ns=(now - 5 * 10**9, now - 5 * 10**9))
    seen = {old: (old.stat().st_mtime_ns, old.stat().st_size)}
    pending = {new, old, tmp_path / "gone.txt"}
    assert due(pending, seen, now, quiet_ns=10**9) == []  # new is too fresh; old and gone are dropped
    assert pending == {new}
    os.utime(new, ns=(now - 2 * 10**9, now - 2 * 10**9))
    assert due(pending, seen, now, quiet_ns=10**9) == [(new, "added")]
    pending.add(new)
    assert due(pending, seen, now, quiet_ns=10**9) == []  # same size and time: not again
    assert [is_article(tmp_path / n) for n in ("a.txt", "b.HTML", ".a.txt.swp", ".#a.txt", "c.md")] == [
        True,
        True,
        False,
        False,
        False,
    ]


@pytest.mark.parametrize(
    ("documents", "quarantined", "spike"),
    [
        (10, 0, "false"),  # nothing set aside
        (2, 2, "false"),  # half, but two items are no spike
        (30, 3, "false"),  # 3 of 33: under a fifth
        (8, 4, "true"),  # 4 of 12
    ],
)
def test_the_run_event_carries_counts_and_a_spike_label(documents: int, quarantined: int, spike: str) -> None:
    summary = RunSummary(
        discovered=documents + quarantined,
        new=documents,
        duplicates=0,
        unchanged=0,
        quarantined=quarantined,
        deferred=0,
        documents=documents,
        skipped_known=0,
        feed_faults=0,
        feeds_unchanged=0,
        feeds_deferred=0,
        languages={},
        duplicate_kinds={},
        quarantine_reasons={"fetch:http_404": quarantined},
        deferred_reasons={},
        feeds={},
    )
    name, resource, payload = run_event("r1", summary, spike_share=0.2, source=None)
    assert (name, resource["newsflow.quarantine-spike"]) == ("newsflow.run.completed", spike)
    assert payload["quarantine_reasons"] == {"fetch:http_404": quarantined}


def test_newsflow_serve_serves_what_prefect_yaml_declares() -> None:
    settings = Settings(schedule_cron="5 4 * * *", schedule_timezone="Europe/Paris")
    served = {d.name: d for d in deployments(settings)}
    assert set(served) == {DAILY, ON_EVENT}
    [schedule] = served[DAILY].schedules
    assert (schedule.schedule.cron, schedule.schedule.timezone) == ("5 4 * * *", "Europe/Paris")
    assert served[DAILY].concurrency_options.collision_strategy == "CANCEL_NEW"
    assert served[ON_EVENT].concurrency_options.collision_strategy == "ENQUEUE"
    assert {d.concurrency_limit for d in served.values()} == {1}
    [trigger] = served[ON_EVENT].triggers
    assert (trigger.expect, trigger.parameters) == ({SOURCE_UPDATED}, SOURCE_TEMPLATE)
    assert all(d.tags == ["newsflow"] for d in served.values())


def test_the_shipped_automations_are_valid() -> None:
    [spike] = shipped()
    assert (spike.name, spike.trigger.expect) == (SPIKE, {"newsflow.run.completed"})
    assert [a.type for a in spike.actions] == ["pause-deployment"]


def test_events_wait_on_disk_while_the_server_is_unreachable(tmp_path: Path) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.events import Outbox, sources_updated

    files = [(tmp_path / "a.txt", "added"), (tmp_path / "b.txt", "modified")]
    with temporary_settings({PREFECT_API_URL: f"http://127.0.0.1:{free_port()}/api"}):  # nothing listens
        outbox = Outbox(tmp_path / "outbox")
        outbox.put(sources_updated(files))
        outbox.put(sources_updated(files[1:]))
        assert outbox.flush() == 2  # within retry_every: not tried again, still kept
    [first, second] = [json.loads(p.read_text()) for p in Outbox(tmp_path / "outbox").pending()]
    assert first["payload"] == {"sources": [p.as_uri() for p, _ in files], "changes": ["added", "modified"]}
    assert first["resource"]["prefect.resource.name"] == "a.txt +1"
    assert second["payload"]["sources"] == [files[1][0].as_uri()]  # kept in the order they came


S = 10**9


@pytest.mark.parametrize(
    ("steps", "handed"),
    [
        # two files settle a second apart: one batch, three seconds after the first
        ([(0, ["a"], False), (1, ["b"], False), (2, [], False), (3, [], False)], [[], [], [], ["a", "b"]]),
        # a third file is still being written when the window ends: it is waited for
        ([(0, ["a"], False), (3, [], True), (4, ["c"], False)], [[], [], ["a", "c"]]),
        # one never settles: the batch goes after ten windows
        ([(0, ["a"], True), (29, [], True), (30, [], True)], [[], [], ["a"]]),
        # a file changed twice in a window is sent once, as first seen
        ([(0, ["a"], False), (1, ["a"], False), (3, [], False)], [[], [], ["a"]]),
    ],
)
def test_files_settled_within_a_window_go_together(
    steps: list[tuple[int, list[str], bool]], handed: list[list[str]]
) -> None:
    gathering = Gathering(window_ns=3 * S)
    got = []
    for second, names, writing in steps:
        gathering.add([(Path(n), "added") for n in names], second * S)
        got.append([p.name for p, _ in gathering.take(second * S, writing)])
    assert got == handed


@pytest.fixture(scope="module")
def client(server: PrefectServer) -> Iterator[Any]:
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: server.url}), get_client(sync_client=True) as client:
        yield client


HOLD_SLOT = """
import sys
from pathlib import Path
from warehouse.writer import Warehouse
with Warehouse(Path(sys.argv[1])).locked():
    print("held", flush=True)
    sys.stdin.readline()
"""


def runs_of(client: Any, deployment_id: Any) -> list[Any]:
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    return list(
        client.read_flow_runs(deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id])))
    )


def completed_runs(
    client: Any, deployment_id: Any, count: int, timeout: float, process: Process
) -> list[Any]:
    def check() -> list[Any] | None:
        runs = runs_of(client, deployment_id)
        failed = [r for r in runs if r.state and r.state.is_final() and not r.state.is_completed()]
        assert not failed, f"{failed[0].state}\n{process.tail()}"
        done = [r for r in runs if r.state and r.state.is_completed()]
        return done if len(done) >= count else None

    return wait_for(check, timeout, f"{count} completed run(s)", process=process)


def service_dirs(base: Path) -> tuple[Path, Path, dict[str, str]]:
    seeds = base / "seeds"
    shutil.copytree(SEEDS, seeds, ignore=shutil.ignore_patterns("sources.toml"))
    db = base / "warehouse" / "newsflow.sqlite"
    return seeds, db, {"NEWSFLOW_SEEDS": str(seeds), "NEWSFLOW_DB": str(db)}


@pytest.mark.server
@pytest.mark.slow
def test_prefect_deploy_registers_both_and_a_worker_runs_an_event(
    server: PrefectServer, client: Any, tmp_path: Path
) -> None:
    from prefect.client.schemas.objects import ConcurrencyLimitStrategy

    env = server.env(NEWSFLOW_SCHEDULE_CRON="0 6 * * *", NEWSFLOW_SCHEDULE_TIMEZONE="Europe/Paris")
    prefect = str(BIN / "prefect")
    subprocess.run(
        [prefect, "work-pool", "create", "newsflow", "--type", "process"],
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    deploy = subprocess.run(
        [prefect, "--no-prompt", "deploy", "--all"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert deploy.returncode == 0, deploy.stdout + deploy.stderr
    for said in ("created", "unchanged"):  # make deploy's last step; again, it changes nothing
        installed = subprocess.run(
            [sys.executable, "-m", "flows.automations"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert installed.stderr.strip().endswith(f"automation '{SPIKE}' {said}"), installed.stderr

    daily = client.read_deployment_by_name(f"newsflow-ingest/{DAILY}")
    [schedule] = daily.schedules
    assert (schedule.schedule.cron, schedule.schedule.timezone) == ("0 6 * * *", "Europe/Paris")
    on_event = client.read_deployment_by_name(f"newsflow-ingest/{ON_EVENT}")
    assert (daily.work_pool_name, on_event.work_pool_name) == ("newsflow", "newsflow")
    assert daily.concurrency_options.collision_strategy is ConcurrencyLimitStrategy.CANCEL_NEW
    assert on_event.concurrency_options.collision_strategy is ConcurrencyLimitStrategy.ENQUEUE
    [automation] = client.read_resource_related_automations(f"prefect.deployment.{on_event.id}")
    assert automation.trigger.expect == {SOURCE_UPDATED}
    assert automation.actions[0].parameters == SOURCE_TEMPLATE

    seeds, db, paths = service_dirs(tmp_path)
    worker = Process(
        [prefect, "worker", "start", "--pool", "newsflow"], server.env(**paths), tmp_path / "worker.log"
    )
    try:
        new = seeds / "zeit.txt"
        shutil.copy(NEW / "de_zeit_de_zugverkehr.txt", new)
        server.emit(SOURCE_UPDATED, new.as_uri())
        [run] = completed_runs(client, on_event.id, 1, timeout=120, process=worker)
    finally:
        worker.stop()
        for deployment in (daily, on_event):  # newsflow serve registers them afresh below
            client.delete_deployment(deployment.id)
    assert run.parameters == {"source": new.as_uri(), "sources": []}
    assert run.name.startswith("file zeit.txt 20")
    assert articles(db) == ["seeds/zeit.txt"]  # that file only, not the whole folder


@pytest.fixture(scope="module")
def served(
    server: PrefectServer, client: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, Path, dict[str, Any]]]:
    """`newsflow serve` in a subprocess, its deployments registered; yields seeds, db, deployments."""
    base = tmp_path_factory.mktemp("served")
    seeds, db, paths = service_dirs(base)
    process = Process(
        [str(BIN / "newsflow"), "serve"],
        server.env(NEWSFLOW_SCHEDULE_TIMEZONE="America/Chicago", **paths),
        base / "serve.log",
    )

    def registered() -> dict[str, Any] | None:
        from prefect.exceptions import ObjectNotFound

        try:
            found = {n: client.read_deployment_by_name(f"newsflow-ingest/{n}") for n in (DAILY, ON_EVENT)}
        except ObjectNotFound:
            return None
        if any(d.work_pool_name is not None for d in found.values()):
            return None
        # serve registers the deployment first and its trigger's automation a moment later.
        trigger = client.read_resource_related_automations(f"prefect.deployment.{found[ON_EVENT].id}")
        return found if trigger else None

    try:
        deployments = wait_for(registered, 120, "newsflow serve's deployments", process=process)
        yield seeds, db, {"process": process, **deployments}
    finally:
        process.stop()


@pytest.mark.server
@pytest.mark.slow
def test_serve_registers_the_schedule_the_trigger_and_the_automations(served: tuple, client: Any) -> None:
    _, _, found = served
    [schedule] = found[DAILY].schedules
    assert (schedule.schedule.cron, schedule.schedule.timezone) == ("0 6 * * *", "America/Chicago")
    [automation] = client.read_resource_related_automations(f"prefect.deployment.{found[ON_EVENT].id}")
    assert automation.trigger.expect == {SOURCE_UPDATED}
    assert automation.actions[0].parameters == SOURCE_TEMPLATE
    [spike] = client.read_automations_by_name(SPIKE)
    assert spike.trigger.match.root == {"newsflow.quarantine-spike": "true"}
    [wanted] = shipped()
    client.create_automation(wanted)  # a copy, as `prefect automation create` would add
    assert ensure_automations(client, [wanted]) == {SPIKE: "updated"}
    assert ensure_automations(client, [wanted]) == {SPIKE: "unchanged"}
    [kept] = client.read_automations_by_name(SPIKE)  # the copy last updated, the others removed
    assert ensure_automations(client, shipped()) == {SPIKE: "unchanged"} and kept.enabled


def watching(folder: Path, window: str, env: dict[str, str], log: Path) -> Process:
    """`newsflow watch` on folder, once it says it is watching."""
    watcher = Process(
        [str(BIN / "newsflow"), "watch", str(folder), "--quiet-ms", "300", "--window", window], env, log
    )
    try:
        wait_for(lambda: "watching" in log.read_text(), 60, "the watcher", process=watcher)
    except AssertionError:
        watcher.stop()
        raise
    return watcher


@pytest.mark.server
@pytest.mark.slow
def test_files_dropped_together_are_ingested_in_one_run(
    served: tuple, server: PrefectServer, client: Any, tmp_path: Path
) -> None:
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    seeds, db, found = served
    watcher = watching(seeds, "2", server.env(NEWSFLOW_DB=str(db)), tmp_path / "watch.log")
    try:
        shutil.copy(NEW / "fr_aoc_media_archaisme.txt", seeds / "aoc.txt")
        shutil.copy(NEW / "de_zeit_de_zugverkehr.txt", seeds / "zeit.txt")
        [run] = completed_runs(client, found[ON_EVENT].id, 1, timeout=90, process=found["process"])
        wait_for(lambda: "sent 1 event" in watcher.log.read_text(), 30, "the watcher's log", process=watcher)
    finally:
        watcher.stop()
    assert len(runs_of(client, found[ON_EVENT].id)) == 1  # one event, one run
    dropped = [(seeds / n).absolute().as_uri() for n in ("aoc.txt", "zeit.txt")]
    assert run.parameters == {"source": dropped[0], "sources": dropped}
    assert run.name.startswith("files aoc.txt, zeit.txt 20")
    assert articles(db) == ["seeds/aoc.txt", "seeds/zeit.txt"]
    runs_accounted(db)
    keys = {
        a.key
        for a in client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run.id]))
        )
    }
    assert keys == {"newsflow-run-summary", "newsflow-new-articles", "newsflow-progress"}
    query = {
        "filter": {
            "event": {"name": ["newsflow.run.completed"]},
            "resource": {"id": [f"newsflow.run.{run.id}"]},
        }
    }
    [event] = wait_for(
        lambda: (
            httpx.post(f"{server.url}/events/filter", json=query, timeout=10)
            .raise_for_status()
            .json()["events"]
        ),
        30,
        "the run's event",
    )
    assert (event["payload"]["new"], event["payload"]["quarantined"]) == (2, 0)


@pytest.mark.server
@pytest.mark.slow
def test_overlapping_runs_load_each_article_once(served: tuple, server: PrefectServer, client: Any) -> None:
    seeds, db, found = served
    before = set(articles(db))
    earlier = {r.id for r in runs_of(client, found[ON_EVENT].id)}
    new = seeds / "lastampa.txt"
    shutil.copy(NEW / "it_lastampa_it_temperature.txt", new)
    # Another process holds the warehouse slot: both runs start, then wait behind it together.
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_SLOT, str(db)],
        env=server.env(),
        cwd=ROOT,
        text=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        daily = client.create_flow_run_from_deployment(found[DAILY].id)
        server.emit(SOURCE_UPDATED, new.as_uri())
        wait_for(
            lambda: (
                sum(
                    r.state.is_running()
                    for r in runs_of(client, found[DAILY].id) + runs_of(client, found[ON_EVENT].id)
                    if r.state
                )
                == 2
            ),
            90,
            "both runs running at once",
            process=found["process"],
        )
        holder.communicate("\n", timeout=30)
    finally:
        holder.kill()
    completed_runs(client, found[ON_EVENT].id, len(earlier) + 1, timeout=120, process=found["process"])
    [daily_run] = [
        r for r in completed_runs(client, found[DAILY].id, 1, 60, found["process"]) if r.id == daily.id
    ]
    assert daily_run.name.startswith("daily 20")
    after = articles(db)
    assert len(after) == len(set(after))  # one copy of each
    assert set(after) - before == {"seeds/lastampa.txt"} | {f"seeds/{p.name}" for p in SEEDS.glob("*.txt")}


@pytest.mark.server
@pytest.mark.slow
def test_the_watcher_keeps_events_while_the_server_is_down(tmp_path: Path) -> None:
    server = PrefectServer(tmp_path / "prefect-home")  # its port chosen, nothing listening yet
    server.home.mkdir()
    drop, db = tmp_path / "drop", tmp_path / "warehouse" / "newsflow.sqlite"
    drop.mkdir()
    outbox = db.parent / ".newsflow.outbox"
    watcher = watching(drop, "0.5", server.env(NEWSFLOW_DB=str(db)), tmp_path / "watch.log")
    try:
        shutil.copy(NEW / "fr_aoc_media_archaisme.txt", drop / "aoc.txt")
        [kept] = wait_for(lambda: list(outbox.glob("*.json")), 60, "the event on disk", process=watcher)
        server.start(timeout=180)
        wait_for(lambda: not kept.exists(), 60, "the event sent", process=watcher)
        query = {"filter": {"event": {"name": [SOURCE_UPDATED]}}}
        [event] = wait_for(
            lambda: httpx.post(f"{server.url}/events/filter", json=query, timeout=10).json()["events"],
            30,
            "the event on the server",
        )
    finally:
        watcher.stop()
        server.stop()
    assert event["payload"]["sources"] == [(drop / "aoc.txt").absolute().as_uri()]
    assert event["resource"]["prefect.resource.id"] == (drop / "aoc.txt").absolute().as_uri()
