"""One source alone: the plan for a file, feed or page, and a file read as a full run reads it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tasks.fetch.files import list_seeds, read_folder, read_jobs
from tasks.sources import plan_named, read_sources_file

NOW = datetime(2026, 11, 22, tzinfo=UTC)


@pytest.mark.parametrize(
    ("source", "kind", "folder", "file"),
    [
        # a file in the seeds folder belongs to the seeds source: same source id and keys as a full run
        ("{seeds}/new.txt", "seeds", "{seeds}", "new.txt"),
        # the resource id the watcher emits: a file:// URI
        ("file://{seeds}/sub/new.txt", "seeds", "{seeds}", "sub/new.txt"),
        # a bare name is looked up in the seeds folder
        ("new.txt", "seeds", "{seeds}", "new.txt"),
        # a file dropped elsewhere belongs to its own folder
        ("{tmp}/drop/new.txt", "seeds", "{tmp}/drop", "new.txt"),
        # a URL listed as a feed in sources.toml is a feed, any other URL a page
        ("https://example.org/rss.xml", "feed", None, None),
        ("https://example.org/story.html", "page", None, None),
    ],
)
def test_plan_one_names_one_source(
    tmp_path: Path, source: str, kind: str, folder: str | None, file: str | None
) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "sources.toml").write_text('feeds = ["https://example.org/rss.xml"]\n')
    fill = {"seeds": str(seeds.resolve()), "tmp": str(tmp_path.resolve())}
    plan, paths = plan_named([source.format(**fill)], seeds, read_sources_file(seeds / "sources.toml"))
    [only] = plan.all()
    assert only.kind == kind
    if folder is not None:
        assert only.uri == folder.format(**fill) and paths == [Path(only.uri) / file]
    else:
        assert only.uri == source and paths == []


def test_one_file_reads_as_in_a_full_run(seed_dir: Path) -> None:
    (seed_dir / "notes.md").write_text("not an article")
    full_plan, _ = plan_named([str(seed_dir / "x.txt")], seed_dir, [])
    docs, _ = read_folder(Path(full_plan.seeds.uri), full_plan.seeds, now=NOW, max_bytes=10**6)
    alone = []
    for path in sorted(seed_dir.iterdir()):
        plan, one = plan_named([str(path)], seed_dir, [])
        alone += read_jobs(list_seeds.fn(plan.seeds, one), now=NOW, max_bytes=10**6)[0]
    assert alone == docs
    plan, together = plan_named([str(p) for p in sorted(seed_dir.iterdir())], seed_dir, [])
    assert read_jobs(list_seeds.fn(plan.seeds, together), now=NOW, max_bytes=10**6)[0] == docs


@pytest.mark.parametrize(
    ("named", "folder", "keys"),
    [
        # dropped together into the seeds folder: the seeds source, keys as a full run gives them
        (["{seeds}/a.txt", "file://{seeds}/sub/b.txt"], "{seeds}", ["seeds/a.txt", "seeds/sub/b.txt"]),
        # dropped into two folders elsewhere: the folder holding both is their source
        (["{tmp}/drop/x/a.txt", "{tmp}/drop/y/b.txt"], "{tmp}/drop", ["drop/x/a.txt", "drop/y/b.txt"]),
        # the same file named twice is read once
        (["{seeds}/a.txt", "a.txt"], "{seeds}", ["seeds/a.txt"]),
    ],
)
def test_files_named_together_are_one_source(
    tmp_path: Path, named: list[str], folder: str, keys: list[str]
) -> None:
    seeds = tmp_path / "seeds"
    fill = {"seeds": str(seeds.resolve()), "tmp": str(tmp_path.resolve())}
    plan, paths = plan_named([n.format(**fill) for n in named], seeds, [])
    assert plan.seeds is not None and plan.seeds.uri == folder.format(**fill)
    assert [j.key for j in list_seeds.fn(plan.seeds, paths)] == keys
