"""Defaults derived from the machine, and the environment overriding them."""

from __future__ import annotations

import os

import pytest

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
