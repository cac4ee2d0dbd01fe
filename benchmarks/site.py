"""A local news site for benchmarks: corpus pages served from several loopback hosts, with RSS feeds."""

from __future__ import annotations

import gzip
import os
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

SIZE_CAP = 400_000  # bytes, decompressed: larger pages include ones trafilatura needs minutes for
HOSTS = 4  # loopback addresses 127.0.0.2 .. 127.0.0.(HOSTS+1), one server each
FEED_ENTRIES = 250  # entries per generated feed, below the pipeline's per-feed cap


def corpus_dir() -> Path:
    """Return the shared corpus folder, from NEWSFLOW_CORPUS or next to the project."""
    env = os.environ.get("NEWSFLOW_CORPUS")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "corpus"


@dataclass(frozen=True, slots=True)
class Page:
    """One corpus page: its file name and raw bytes."""

    name: str
    body: bytes


def load_pages(limit: int | None = None, size_cap: int = SIZE_CAP) -> tuple[list[Page], int]:
    """Return the corpus pages up to the size cap, sorted by name, and how many were over it."""
    pages, over = [], 0
    for path in sorted((corpus_dir() / "pages" / "web").glob("*.html.gz")):
        body = gzip.decompress(path.read_bytes())
        if len(body) > size_cap:
            over += 1
            continue
        pages.append(Page(path.name.removesuffix(".gz"), body))
    return (pages[:limit] if limit is not None else pages), over


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        content = self.server.content.get(self.path)  # type: ignore[attr-defined]
        with self.server.lock:  # type: ignore[attr-defined]
            self.server.hits[self.path.split("/")[1][:4]] += 1  # type: ignore[attr-defined]
        if content is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body, content_type = content
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@dataclass
class Site:
    """The running site: feed URLs and the host:port entries to allow through the SSRF guard."""

    feeds: list[str]
    hosts: list[str]
    servers: list[ThreadingHTTPServer]

    def hits(self) -> Counter[str]:
        """Return the requests served so far: 'feed', page copies ('c0', 'c1'...), others."""
        total: Counter[str] = Counter()
        for server in self.servers:
            total.update(server.hits)  # type: ignore[attr-defined]
        return total

    def env(self) -> dict[str, str]:
        """Return the variables that let the pipeline fetch from these loopback hosts at full speed."""
        return {
            "NEWSFLOW_ALLOW_HOSTS": ",".join(self.hosts),
            "NEWSFLOW_HOST_MIN_INTERVAL": "0",
            "NEWSFLOW_HOST_CONCURRENCY": "8",
            "NEWSFLOW_FETCH_WORKERS": str(4 * len(self.hosts)),
            "NEWSFLOW_MAX_ENTRIES_PER_FEED": str(10 * FEED_ENTRIES),
        }


def _rss(title: str, links: Sequence[str]) -> bytes:
    when = format_datetime(datetime(2024, 5, 1, tzinfo=UTC))
    items = "".join(
        f"<item><title>{escape(link.rsplit('/', 1)[-1])}</title><link>{escape(link)}</link>"
        f"<guid>{escape(link)}</guid><pubDate>{when}</pubDate></item>"
        for link in links
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{escape(title)}</title>{items}</channel></rss>"
    ).encode()


@contextmanager
def serve(pages: Sequence[Page], copies: int = 1, hosts: int = HOSTS) -> Iterator[Site]:
    """Serve the pages (each `copies` times under new URLs) spread over loopback hosts."""
    with ExitStack() as stack:
        servers = []
        for i in range(hosts + 1):  # 127.0.0.1 serves the feeds, the others the pages
            server = ThreadingHTTPServer((f"127.0.0.{i + 1}", 0), _Handler)
            server.daemon_threads = True
            server.content = {}  # type: ignore[attr-defined]
            server.hits = Counter()  # type: ignore[attr-defined]
            server.lock = threading.Lock()  # type: ignore[attr-defined]
            threading.Thread(target=server.serve_forever, daemon=True).start()
            stack.callback(server.server_close)
            stack.callback(server.shutdown)
            servers.append(server)
        links = []
        for n, (copy, page) in enumerate((c, p) for c in range(copies) for p in pages):
            server = servers[1 + n % hosts]
            path = f"/c{copy}/p{n % len(pages):05d}.html"  # ASCII: some names are not
            server.content[path] = (page.body, "text/html")  # type: ignore[attr-defined]
            links.append(f"http://{server.server_address[0]}:{server.server_address[1]}{path}")
        feeds = []
        for k in range(0, len(links), FEED_ENTRIES):
            path = f"/feed{k // FEED_ENTRIES}.xml"
            servers[0].content[path] = (  # type: ignore[attr-defined]
                _rss(path, links[k : k + FEED_ENTRIES]),
                "application/rss+xml",
            )
            host, port = servers[0].server_address[:2]
            feeds.append(f"http://{host}:{port}{path}")
        yield Site(feeds, [f"{s.server_address[0]}:{s.server_address[1]}" for s in servers], servers)
