"""Test servers besides pytest-httpserver's own: a second host on another port."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pytest_httpserver import HTTPServer


@contextmanager
def another_server() -> Iterator[HTTPServer]:
    """A second server on 127.0.0.1, as an outlet's feeds often live on another host (a CDN)."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        server.stop()
