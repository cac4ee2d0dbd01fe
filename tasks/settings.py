"""One settings object for the whole pipeline, read from NEWSFLOW_* variables at the edge."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Pipeline settings; each may be set as NEWSFLOW_<NAME> in the environment."""

    model_config = SettingsConfigDict(env_prefix="NEWSFLOW_", extra="ignore")

    db: Path = Field(
        PROJECT_ROOT / "warehouse" / "newsflow.duckdb",
        description="DuckDB warehouse file the run writes.",
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
    max_bytes: int = Field(
        10 * 1024 * 1024, description="Largest document body accepted, bytes (decoded)."
    )
    max_entries_per_feed: int = Field(500, description="Feed entries kept per feed and run.")
    fetch_workers: int = Field(8, description="Concurrent HTTP fetches.")
    batch_size: int = Field(200, description="Documents per clean/language task run.")
    language_threshold: float = Field(
        0.80, description="Below this langdetect probability the language is 'und'."
    )
    language_sample_chars: int = Field(
        2000, description="Characters of text given to langdetect."
    )
    near_threshold: float = Field(
        0.70, description="Estimated Jaccard similarity from which an article is a near-duplicate."
    )
    min_words: int = Field(
        25, description="Articles with fewer words after cleaning are quarantined as too short."
    )

    def sources_file(self) -> Path | None:
        """Return the sources.toml to read, or None when there is none."""
        if self.config is not None:
            return self.config
        if self.seeds is not None and (self.seeds / "sources.toml").exists():
            return self.seeds / "sources.toml"
        return None


def prefect_defaults() -> None:
    """Set the Prefect settings newsflow needs, unless the user set them already."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # A first ephemeral server start took 12-29 s on the reference machine.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
