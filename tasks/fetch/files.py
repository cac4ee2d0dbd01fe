"""Seed files: a folder's article files listed as jobs, then read one by one, guarded."""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.decode import looks_binary
from tasks.log import run_logger
from tasks.records import FileJob, Quarantined, RawDocument, Source

if TYPE_CHECKING:
    import duckdb

    from tasks.fetch.listing import Listing, Opened

SEEN_FILE = "seed_files.json"  # in the staging folder: the fingerprints the load stores
FILE_TYPES = {".txt": "text/plain", ".text": "text/plain", ".html": "text/html", ".htm": "text/html"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def list_folder(folder: Path, source: Source) -> list[FileJob]:
    """Return the article files of a folder as jobs, sorted by path; none when there are none."""
    jobs = []
    root = folder.resolve()
    for path in sorted(folder.rglob("*")):
        media_type = FILE_TYPES.get(path.suffix.lower())
        if media_type is None or (path.is_dir() and not path.is_symlink()):
            continue  # not an article file (sources.toml, README.md, images...)
        name = path.relative_to(folder).as_posix()
        # Surrogate-escaped names cannot be stored as VARCHAR: show the bytes instead.
        shown = os.fsencode(name).decode("utf-8", errors="backslashreplace")
        key = f"{folder.name}/{_CONTROL.sub(_escaped, shown)}"
        jobs.append(
            FileJob(path, root, key, source.source_id, media_type, bad_name=key != f"{folder.name}/{name}")
        )
    return jobs


def one_file(path: Path, source: Source) -> list[FileJob]:
    """Return one file of a seed folder as the job list_folder would make, or none if it is no
    article file."""
    folder = Path(source.uri)
    media_type = FILE_TYPES.get(path.suffix.lower())
    if media_type is None or path.is_dir():
        return []
    key = f"{folder.name}/{path.relative_to(folder).as_posix()}"
    return [FileJob(path, folder, key, source.source_id, media_type)]


def _escaped(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


def read_job(job: FileJob, *, now: datetime, max_bytes: int) -> RawDocument | Quarantined:
    """Return the file as a raw document, or its quarantine record."""
    reason, detail, body = read_file(job.path, job.root, max_bytes)
    if not reason and job.bad_name:
        reason, detail = "bad_file_name", "name not UTF-8 or with control characters"
    if reason:
        return Quarantined(job.source_id, job.key, "fetch", reason, detail)
    return RawDocument(job.source_id, job.key, body, job.media_type, now)


def read_jobs(
    jobs: Iterable[FileJob], *, now: datetime, max_bytes: int
) -> tuple[list[RawDocument], list[Quarantined]]:
    """Return the files read as raw documents, and the files set aside, in job order."""
    docs: list[RawDocument] = []
    bad: list[Quarantined] = []
    for job in jobs:
        outcome = read_job(job, now=now, max_bytes=max_bytes)
        if isinstance(outcome, RawDocument):
            docs.append(outcome)
        else:
            bad.append(outcome)
    return docs, bad


def read_folder(
    folder: Path, source: Source, *, now: datetime, max_bytes: int
) -> tuple[list[RawDocument], list[Quarantined]]:
    """Return the article files of a folder as raw documents, and the files set aside."""
    return read_jobs(list_folder(folder, source), now=now, max_bytes=max_bytes)


def read_file(path: Path, root: Path, max_bytes: int) -> tuple[str, str, bytes]:
    """Return (reason, detail, body) for one file under root: a reason when it is set aside."""
    real = path.resolve()
    if not real.is_relative_to(root):
        return "outside_folder", f"links to {real}", b""
    try:
        mode = real.stat().st_mode
        if not stat.S_ISREG(mode):  # a FIFO or a device would block or never end
            return "not_a_file", stat.filemode(mode), b""
        with real.open("rb") as handle:
            body = handle.read(max_bytes + 1)  # the file may grow after a stat
    except OSError as exc:
        return "unreadable", f"{type(exc).__name__}: {exc.strerror or exc}", b""
    if len(body) > max_bytes:
        return "too_large", f"more than {max_bytes} bytes", b""
    if not body.strip():
        return "empty", "no content", b""
    if looks_binary(body[:8192]):
        return "binary", "NUL bytes or a binary signature at the start", b""
    return "", "", body


@task(name="list-seeds", cache_policy=NO_CACHE)
def list_seeds(source: Source, paths: Sequence[Path] = ()) -> list[FileJob]:
    """Return the seed folder's article files as jobs, or only the files at paths."""
    jobs = [j for p in paths for j in one_file(p, source)] if paths else list_folder(Path(source.uri), source)
    shown = ", ".join(p.name for p in paths) if paths else source.uri
    run_logger().info("%d files to read from %s", len(jobs), shown)
    return jobs


@dataclass(frozen=True, slots=True)
class SeedFile:
    """A seed file as a run read it: one with another size, mtime or content is read anew."""

    raw_uri: str
    size: int
    mtime_ns: int
    content_hash: str  # sha256 of the bytes, hex


def fingerprint(job: FileJob, max_bytes: int) -> SeedFile | None:
    """Return the file's fingerprint, or None when it would be set aside as it is."""
    reason, _, body = read_file(job.path, job.root, max_bytes)
    if reason or job.bad_name:
        return None
    st = job.path.stat()
    return SeedFile(job.key, st.st_size, st.st_mtime_ns, hashlib.sha256(body).hexdigest())


@dataclass(frozen=True, slots=True)
class SeedCheck:
    """The seed files to read this run, and how many are as a run stored them."""

    jobs: list[FileJob]
    unchanged: int

    def counted(self, listing: Listing) -> Listing:
        """Return the listing with the unchanged seed files counted as items stored already."""
        return replace(listing, skipped_known=listing.skipped_known + self.unchanged)


def sort_seeds(
    jobs: Iterable[FileJob], stored: Mapping[str, SeedFile], max_bytes: int
) -> tuple[SeedCheck, list[SeedFile]]:
    """Return the files that changed or are new since a run stored them, with the fingerprints
    of those readable; a file as stored is left out and counted unchanged."""
    todo: list[FileJob] = []
    seen: list[SeedFile] = []
    unchanged = 0
    for job in jobs:
        now = fingerprint(job, max_bytes)
        if now is not None and stored.get(job.key) == now:
            unchanged += 1
            continue
        todo.append(job)
        if now is not None:
            seen.append(now)
    return SeedCheck(todo, unchanged), seen


def read_seed_files(con: duckdb.DuckDBPyConnection) -> dict[str, SeedFile]:
    """Return the stored seed files by document key; none before the first run."""
    rows = con.execute("SELECT raw_uri, size, mtime_ns, content_hash FROM seed_files").fetchall()
    return {r[0]: SeedFile(r[0], r[1], r[2], r[3]) for r in rows}


def stage_seed_files(folder: Path, seen: Iterable[SeedFile]) -> None:
    """Write the fingerprints of the files this run reads to its staging folder."""
    lines = [json.dumps(asdict(f), ensure_ascii=False) for f in seen]
    (folder / SEEN_FILE).write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")


def staged_seed_files(folder: Path) -> list[SeedFile]:
    """Return the fingerprints a run staged; none when it read no seed file."""
    path = folder / SEEN_FILE
    if not path.exists():
        return []
    return [SeedFile(**json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines()]


@task(name="check-seeds", cache_policy=NO_CACHE)
def check_seeds(jobs: list[FileJob], opened: Opened, folder: Path, max_bytes: int) -> SeedCheck:
    """Return the seed files that changed since a run stored them, staging their fingerprints;
    those as stored are not read again."""
    check, seen = sort_seeds(jobs, opened.seed_files, max_bytes)
    stage_seed_files(folder, seen)
    run_logger().info("%d seed files to read, %d unchanged since stored", len(check.jobs), check.unchanged)
    return check
