"""One settings object for the whole pipeline, read from NEWSFLOW_* variables at the edge."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from tasks.configfile import DEFAULT_DB, PATH_SETTINGS, PROJECT_ROOT, ConfigFileError, file_settings

if TYPE_CHECKING:
    from tasks.fetch.http import FetchPolicy
    from tasks.prepare import PrepareConfig
    from tasks.run import Upkeep


class Settings(BaseSettings):
    """Pipeline settings; each may be set as NEWSFLOW_<NAME> in the environment, or as <name> in
    newsflow.toml or pyproject.toml's [tool.newsflow] (the environment wins)."""

    model_config = SettingsConfigDict(env_prefix="NEWSFLOW_", extra="ignore")

    db: Path = Field(
        DEFAULT_DB,
        description="Warehouse: the DuckLake catalog file; the Parquet data goes beside it.",
    )
    catalog: str | None = Field(
        None,
        description="A DuckLake catalog other than the SQLite file, e.g. 'postgres:dbname=news "
        "host=127.0.0.1'; the data still goes beside db.",
    )
    keep_snapshots_days: int = Field(
        30, description="Time travel reaches back this many days; older snapshots expire at compaction."
    )
    compact_files: int = Field(
        200, description="A run compacts the lake once its tables are read from this many files."
    )
    seeds: Path | None = Field(
        PROJECT_ROOT / "seeds", description="Folder of .txt/.html seed files; None to skip."
    )
    config: Path | None = Field(
        None, description="sources.toml listing feeds and pages; default <seeds>/sources.toml."
    )
    user_agent: str = Field(
        "newsflow/0.1 (+https://example.invalid/newsflow)",
        description="User-Agent sent with every HTTP request.",
    )
    http_timeout: float = Field(15.0, description="Connect/read timeout per request, seconds.")
    max_bytes: int = Field(10 * 1024 * 1024, description="Largest document body accepted, bytes (decoded).")
    max_entries_per_feed: int = Field(
        500,
        description="New feed entries (and page URLs) taken per source and run; the rest are "
        "deferred to the next run, never dropped.",
    )
    fetch_workers: int = Field(8, description="Concurrent HTTP fetches.")
    batch_size: int = Field(
        default_factory=lambda: default_batch_size(usable_cpus(), total_memory()),
        description="Documents fetched, prepared and staged together (default: 100 per usable "
        "CPU, at most one per 16 MiB of memory, at least 20).",
    )
    language_threshold: float = Field(
        0.80, description="Below this probability (of either detector) the language is 'und'."
    )
    # 600 measured as good as 2000 (benchmarks/language.py: 100.00 % / 90.3 % vs 99.27 % / 91.3 %
    # on 300 documents) at 11 ms instead of 19 ms a document.
    language_sample_chars: int = Field(600, description="Characters of text given to the language detectors.")
    near_threshold: float = Field(
        0.55, description="Estimated Jaccard similarity from which an article is a near-duplicate."
    )
    near_containment: float = Field(
        0.95,
        description="Estimated share of the shorter text's word shingles found in the longer one "
        "from which an article is a near-duplicate (a truncated or extended copy); above 1 turns "
        "this test off.",
    )
    min_words: int = Field(
        25, description="Articles with fewer words after cleaning are quarantined as too short."
    )
    revision_min_change: float = Field(
        0.05,
        description="Share of word 5-shingles (1 - Jaccard) by which a stored article's text must "
        "change, re-fetched or re-extracted, to be a revision: the newest text replaces it and the "
        "earlier one goes to article_versions; a smaller change keeps the stored text.",
    )
    revisit_days: float = Field(
        2.0,
        description="A forced run (newsflow run --force) fetches again the stored articles its feeds "
        "and sitemaps list that were fetched within this many days (within the per-source cap).",
    )
    http_deadline: float = Field(
        60.0, description="Total wall-clock limit of one HTTP request (each redirect hop), seconds."
    )
    url_budget: float = Field(
        45.0,
        description="Total wall-clock limit of one URL over all its tries, hops and back-offs, "
        "from its first request, seconds; past it the URL is set aside as url_budget_exceeded "
        "and tried again next run. Also bounds each robots.txt request.",
    )
    max_redirects: int = Field(5, description="Redirect hops followed per request, each checked.")
    allow_hosts: str = Field(
        "",
        description="Comma-separated host or host:port entries that may resolve to private, "
        "loopback or link-local addresses; every other such address is refused.",
    )
    host_min_interval: float = Field(
        1.0, description="Minimum seconds between the starts of two requests to one host."
    )
    host_concurrency: int = Field(2, description="Requests in flight to one host at most.")
    retry_after_cap: float = Field(
        30.0,
        description="Longest Retry-After waited for within a run, seconds; longer ones "
        "set the URL aside as retry_later for the next run.",
    )
    http_attempts: int = Field(3, description="Tries per URL for transient faults (timeouts, 5xx).")
    retry_base_delay: float = Field(
        0.5, description="First back-off between tries, seconds; doubled each try, with jitter."
    )
    robots_max_bytes: int = Field(
        512 * 1024, description="robots.txt bytes read per host; the rest is ignored (RFC 9309)."
    )
    obey_robots: bool = Field(True, description="Honour robots.txt; only tests turn this off.")
    feed_revalidate_hours: float = Field(
        24.0, description="Hours after which a feed is fetched without ETag/Last-Modified."
    )
    feed_backoff_base: float = Field(
        900.0, description="A failing feed waits min(2^failures x this, cap) seconds, see below."
    )
    feed_backoff_cap: float = Field(
        86400.0, description="Longest wait before a failing feed is tried again, seconds."
    )
    force: bool = Field(
        False,
        description="Fetch every feed and sitemap now, ignoring back-off and ETag/Last-Modified "
        "validators (newsflow run --force).",
    )
    sitemap_max_age_days: float = Field(
        2.0,
        description="Sitemap URLs whose news:publication_date or lastmod is older than this many "
        "days are not taken; undated URLs always are.",
    )
    sitemap_max_children: int = Field(
        50, description="Sitemaps of a sitemap index read per run, most recently modified first."
    )
    schedule_cron: str = Field(
        "0 6 * * *", description="Cron schedule of the daily-ingest deployment (newsflow serve, make deploy)."
    )
    schedule_timezone: str = Field(
        "UTC", description="IANA timezone the daily-ingest cron schedule is read in, e.g. Europe/Paris."
    )
    watch_window: float = Field(
        3.0,
        description="Seconds newsflow watch gathers settled files for before sending them as one "
        "newsflow.source.updated event (one run).",
    )
    quarantine_spike: float = Field(
        0.2,
        description="Share of a run's documents quarantined (at least 3) from which its "
        "newsflow.run.completed event carries the label newsflow.quarantine-spike=true.",
    )
    workers: int = Field(
        default_factory=lambda: usable_cpus(),
        description="Worker processes that clean, detect language and sign a batch (default: "
        "one per CPU this process may use); 0 prepares in the task's own process, without a "
        "time limit.",
    )
    extract_timeout: float = Field(
        30.0,
        description="Seconds one document may take to prepare; past it its worker is "
        "killed and replaced, and the document quarantined as extract_timeout.",
    )
    dask_address: str | None = Field(
        None,
        description="Scheduler address of an existing Dask cluster (tcp://host:8786); "
        "when set, the flow's tasks run there through prefect-dask.",
    )
    dask_batches: int = Field(
        4,
        ge=1,
        description="Batches prepared at once on a Dask cluster (about its worker count): each "
        "holds NEWSFLOW_BATCH_SIZE fetched documents in the flow's process until it is prepared.",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Read arguments, then the environment, then the configuration files."""
        values = file_settings()
        unknown = sorted(set(values) - set(cls.model_fields))
        if unknown:
            raise ConfigFileError(f"not newsflow settings in the configuration file: {', '.join(unknown)}")
        return init_settings, env_settings, InitSettingsSource(settings_cls, init_kwargs=values)

    def with_overrides(self, **values: Any) -> Settings:
        """Return a copy with the given values set; None leaves a setting as it is."""
        update = {
            k: Path(v) if k in PATH_SETTINGS and isinstance(v, str) else v
            for k, v in values.items()
            if v is not None
        }
        return self.model_copy(update=update)

    def fetch_policy(self) -> FetchPolicy:
        """Return the fetch layer's limits, narrowed from these settings."""
        from tasks.fetch.addresses import parse_allow_hosts
        from tasks.fetch.http import FetchPolicy

        return FetchPolicy(
            user_agent=self.user_agent,
            timeout=self.http_timeout,
            deadline=self.http_deadline,
            max_bytes=self.max_bytes,
            max_redirects=self.max_redirects,
            allow_hosts=parse_allow_hosts(self.allow_hosts),
            host_min_interval=self.host_min_interval,
            host_concurrency=self.host_concurrency,
            retry_after_cap=self.retry_after_cap,
            attempts=self.http_attempts,
            retry_base_delay=self.retry_base_delay,
            robots_max_bytes=self.robots_max_bytes,
            obey_robots=self.obey_robots,
            feed_revalidate_hours=self.feed_revalidate_hours,
            feed_backoff_base=self.feed_backoff_base,
            feed_backoff_cap=self.feed_backoff_cap,
            max_entries=self.max_entries_per_feed,
            workers=self.fetch_workers,
            url_budget=self.url_budget,
            force=self.force,
            sitemap_max_age_days=self.sitemap_max_age_days,
            sitemap_max_children=self.sitemap_max_children,
            revisit_days=self.revisit_days,
        )

    def prepare_config(self, now: datetime, run_id: str) -> PrepareConfig:
        """Return what preparing one document of a run needs, narrowed from these settings."""
        from tasks.prepare import PrepareConfig

        return PrepareConfig(
            now=now,
            language_threshold=self.language_threshold,
            language_sample_chars=self.language_sample_chars,
            min_words=self.min_words,
            timeout=self.extract_timeout,
            run_id=run_id,
        )

    def upkeep(self) -> Upkeep:
        """Return when runs compact the lake and how long snapshots are kept."""
        from tasks.run import Upkeep

        return Upkeep(keep_days=self.keep_snapshots_days, min_files=self.compact_files)

    def batches_at_once(self) -> int:
        """Return how many batches the flow prepares at once: one in its own worker pool (which
        spreads a batch's documents), dask_batches on a Dask cluster."""
        return self.dask_batches if self.dask_address else 1

    def local_workers(self) -> int:
        """Return the worker processes this process starts: none when a Dask cluster prepares."""
        return 0 if self.dask_address else self.workers

    def sources_file(self) -> Path | None:
        """Return the sources.toml to read, or None when there is none."""
        if self.config is not None:
            return self.config
        if self.seeds is not None and (self.seeds / "sources.toml").exists():
            return self.seeds / "sources.toml"
        return None


def usable_cpus() -> int:
    """Return the CPUs this process may run on (its affinity mask, as a container limits it)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def total_memory() -> int:
    """Return the machine's physical memory in bytes."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def default_batch_size(cpus: int, memory: int) -> int:
    """Return the default batch size: 100 documents per worker keeps each worker busy for
    seconds per batch, so a task run's 15-80 ms is noise, while a batch's bodies, trees and
    texts (a few MiB per document at worst) stay a small share of memory."""
    return max(20, min(100 * cpus, memory // (16 << 20)))


def prefect_defaults() -> None:
    """Set the Prefect settings newsflow needs, unless the user set them already."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # The client's side of the same: else a first run's worker processes print Prefect's
    # telemetry notice straight onto the terminal, across the progress display.
    os.environ.setdefault("DO_NOT_TRACK", "1")
    # A first ephemeral server start took 12-29 s on the reference machine.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
