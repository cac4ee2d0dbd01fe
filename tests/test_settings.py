"""Defaults derived from the machine, and the configuration files and environment overriding them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tasks.configfile import DEFAULT_DB, FILE_VARIABLE, ConfigFileError, configured_db
from tasks.settings import Settings, default_batch_size, total_memory, usable_cpus


def test_batch_size_scales_with_workers_and_is_bounded_by_memory() -> None:
    assert default_batch_size(2, 24 << 30) == 200  # this machine: 2 CPUs, 24 GiB
    assert default_batch_size(64, 8 << 30) == 512  # many cores, little memory: 16 MiB each
    assert default_batch_size(1, 128 << 20) == 20  # never below 20


def test_defaults_come_from_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWSFLOW_WORKERS", raising=False)
    monkeypatch.delenv("NEWSFLOW_BATCH_SIZE", raising=False)
    settings = Settings()
    assert settings.workers == usable_cpus() == len(os.sched_getaffinity(0))
    assert settings.batch_size == default_batch_size(usable_cpus(), total_memory())


def test_the_environment_overrides_derived_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSFLOW_WORKERS", "3")
    monkeypatch.setenv("NEWSFLOW_BATCH_SIZE", "7")
    assert (Settings().workers, Settings().batch_size) == (3, 7)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder as the working directory, with a pyproject.toml and a newsflow.toml."""
    monkeypatch.chdir(tmp_path)
    for name in ("NEWSFLOW_MIN_WORDS", "NEWSFLOW_FETCH_WORKERS", "NEWSFLOW_DB", FILE_VARIABLE):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "mine"\n\n[tool.newsflow]\nmin_words = 5\nfetch_workers = 3\n'
        'db = "data/news.duckdb"\n'
    )
    (tmp_path / "newsflow.toml").write_text("min_words = 7\n")
    return tmp_path


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        # newsflow.toml over [tool.newsflow], which still gives what newsflow.toml leaves out
        ({}, (7, 3)),
        # the environment over both files
        ({"NEWSFLOW_MIN_WORDS": "9"}, (9, 3)),
        # NEWSFLOW_CONFIG_FILE names the file read instead of ./newsflow.toml
        ({FILE_VARIABLE: "other.toml"}, (11, 3)),
    ],
)
def test_configuration_files_and_their_precedence(
    project: Path, monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], expected: tuple[int, int]
) -> None:
    (project / "other.toml").write_text("min_words = 11\n")
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert (settings.min_words, settings.fetch_workers) == expected
    assert settings.with_overrides(min_words=1).min_words == 1  # a CLI flag over everything
    # a relative path is read from the file's folder; the CLI finds the same file without pydantic
    assert settings.db == project / "data" / "news.duckdb" == configured_db()


def test_defaults_without_configuration_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NEWSFLOW_DB", raising=False)
    assert Settings().db == DEFAULT_DB == configured_db()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # a typo is an error, not a setting silently ignored
        ("min_wrods = 7\n", "min_wrods"),
        # not TOML
        ("min_words = \n", "cannot read"),
    ],
)
def test_a_bad_configuration_file_is_refused(project: Path, text: str, message: str) -> None:
    (project / "newsflow.toml").write_text(text)
    with pytest.raises(ConfigFileError, match=message):
        Settings()


def test_a_missing_named_configuration_file_is_refused(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(FILE_VARIABLE, str(project / "missing.toml"))
    with pytest.raises(ConfigFileError, match="missing.toml"):
        configured_db()
