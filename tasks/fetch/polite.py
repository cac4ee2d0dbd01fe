"""Politeness: robots.txt per host, a pace and a concurrency cap per host, bounded retries."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from urllib.robotparser import RobotFileParser

import httpx

from tasks.fetch.faults import HOST_FAULTS, FetchError, RetryLater, TransientFetchError
from tasks.fetch.http import Budget, FetchPolicy, Response, get, guarded_client


class HostGate:
    """At most `concurrency` requests in flight per host, starts at least `interval` apart."""

    def __init__(self, interval: float, concurrency: int) -> None:
        self.interval = interval
        self.concurrency = max(1, concurrency)
        self._lock = threading.Lock()
        self._next: dict[str, float] = {}
        self._pace: dict[str, float] = {}
        self._slots: dict[str, threading.BoundedSemaphore] = {}

    @contextmanager
    def slot(self, host: str) -> Iterator[None]:
        """Hold one of the host's slots, after waiting for its next allowed start."""
        with self._lock:
            slots = self._slots.setdefault(host, threading.BoundedSemaphore(self.concurrency))
        with slots:
            with self._lock:
                now = time.monotonic()
                start = max(now, self._next.get(host, 0.0))
                self._next[host] = start + self._pace.get(host, self.interval)
            if start > now:
                time.sleep(start - now)
            yield

    def defer(self, host: str, seconds: float) -> None:
        """Start no request to the host before `seconds` from now (Retry-After)."""
        with self._lock:
            self._next[host] = max(self._next.get(host, 0.0), time.monotonic() + seconds)

    def pace(self, host: str, seconds: float) -> None:
        """Space the host's requests at least `seconds` apart (robots.txt Crawl-delay)."""
        with self._lock:
            self._pace[host] = max(self.interval, seconds)


class Fetcher:
    """The GETs of one run: paced per host, robots.txt obeyed, transient faults retried."""

    def __init__(self, client: httpx.Client, policy: FetchPolicy) -> None:
        self.client = client
        self.policy = policy
        self.gate = HostGate(policy.host_min_interval, policy.host_concurrency)
        self._robots: dict[str, RobotFileParser | FetchError] = {}  # an error: unavailable this run
        self._robots_locks: dict[str, threading.Lock] = {}
        self._host_faults: dict[str, list[FetchError]] = {}  # per origin, met by its robots.txt
        self._lock = threading.Lock()

    def fetch(
        self, url: str, *, accept: Iterable[str] = (), headers: dict[str, str] | None = None
    ) -> Response:
        """Return the response; raise FetchError, RetryLater when it must wait for a later run.

        Transient faults are tried again while tries and the URL's time budget last.
        """
        p = self.policy
        budget = Budget(p.url_budget)
        for attempt in range(max(1, p.attempts)):
            try:
                return get(
                    self.client,
                    url,
                    max_bytes=p.max_bytes,
                    accept=accept,
                    headers=headers,
                    deadline=p.deadline,
                    max_redirects=p.max_redirects,
                    hop=self._hop,
                    budget=budget,
                )
            except TransientFetchError as exc:
                wait = exc.retry_after
                if wait is not None and wait > p.retry_after_cap:
                    raise RetryLater(
                        "retry_later",
                        f"{exc.reason}, Retry-After {wait:.0f} s > {p.retry_after_cap:.0f} s: {url}",
                        wait,
                    ) from exc
                if wait is None:
                    wait = p.retry_base_delay * 2**attempt * (0.5 + random.random())
                last = attempt == p.attempts - 1
                if budget.left() <= 0 or (not last and budget.left() <= wait):
                    raise FetchError(
                        "url_budget_exceeded",
                        f"{p.url_budget:g} s for {url} spent after {attempt + 1} tries; "
                        f"last {exc.reason}: {exc.detail}",
                    ) from exc
                if last:
                    raise
                self.gate.defer(httpx.URL(url).host, wait)
        raise AssertionError("unreachable")

    @contextmanager
    def _hop(self, url: httpx.URL) -> Iterator[None]:
        if self.policy.obey_robots:
            self._check_robots(url)
        with self.gate.slot(url.host):
            yield

    def _check_robots(self, url: httpx.URL) -> None:
        origin = f"{url.scheme}://{url.netloc.decode('ascii')}"
        with self._lock:
            lock = self._robots_locks.setdefault(origin, threading.Lock())
        with lock:  # one fetch of robots.txt per host, however many pages wait for it
            if origin not in self._robots:
                self._raise_host_fault(origin)
                try:
                    self._robots[origin] = self._read_robots(origin, url.host)
                except FetchError as exc:  # only the host's own faults get here
                    self._host_faults.setdefault(origin, []).append(exc)
                    raise
        rules = self._robots[origin]
        if isinstance(rules, FetchError):
            raise RetryLater("robots_unavailable", f"{origin}/robots.txt: {rules}")
        if not rules.can_fetch(self.policy.user_agent, str(url)):
            raise FetchError("robots_disallowed", str(url))

    def _raise_host_fault(self, origin: str) -> None:
        """Raise the origin's connection fault again, without a request, once it is certain
        for this run: permanent (no such name, a certificate refused) or met on every try."""
        faults = self._host_faults.get(origin, [])
        if faults and (
            not isinstance(faults[-1], TransientFetchError) or len(faults) >= self.policy.attempts
        ):
            raise FetchError(faults[-1].reason, f"{faults[-1].detail} (met {len(faults)}x this run)")

    def _read_robots(self, origin: str, host: str) -> RobotFileParser | FetchError:
        """Return the origin's rules, or why they are unavailable when the host answered but
        robots.txt did not (5xx, a timeout after connecting): disallow this run. Raise the
        host's own connection fault."""
        rules = RobotFileParser()
        p = self.policy
        try:
            resp = get(
                self.client,
                f"{origin}/robots.txt",
                max_bytes=p.robots_max_bytes,
                deadline=min(p.deadline, p.url_budget),
                max_redirects=p.max_redirects,
                hop=lambda u: self.gate.slot(u.host),
                truncate=True,
            )
        except FetchError as exc:
            if exc.reason in HOST_FAULTS:
                raise
            if isinstance(exc, TransientFetchError):
                return exc  # RFC 9309 2.3.1.4: unreachable means complete disallow
            rules.parse([])  # 4xx or no usable file: RFC 9309 2.3.1.3, everything allowed
            return rules
        rules.parse(resp.body.decode("utf-8", errors="replace").splitlines())
        delay = rules.crawl_delay(p.user_agent)
        if delay:
            self.gate.pace(host, min(float(delay), p.retry_after_cap))
        return rules


@contextmanager
def fetch_session(policy: FetchPolicy) -> Iterator[Fetcher]:
    """Hold one run's fetcher: every fetch of the run shares its client, host gates and
    robots.txt rules, however many chunks it fetches; the client is closed on exit."""
    fetcher = Fetcher(guarded_client(policy), policy)
    try:
        yield fetcher
    finally:
        fetcher.client.close()
