"""The progress artifact's counts: published from their own thread while they change, and at the end."""

from __future__ import annotations

from tasks.progress import Ticker, progress_text
from tasks.records import Deferred, Quarantined
from tasks.stream import Streamed
from tasks.tally import Tally
from tests.prefect_server import wait_for


def test_the_text_counts_every_outcome() -> None:
    streamed = Streamed(documents=7, tally=Tally(prepared=8, staged=5))
    streamed.dropped.append(Quarantined("s", "u", "clean", "too_short", ""))
    streamed.deferred.append(Deferred("s", "v", "timeout", ""))
    share, text = progress_text(streamed, total=10, seconds=2.0)
    assert share == 80.0
    assert text == (
        "8 of 10 items settled (4.0/s): 7 documents read or fetched, 5 articles staged, "
        "1 set aside, 1 deferred"
    )
    assert progress_text(Streamed(), total=0, seconds=0.0)[0] == 100.0  # nothing to do is done


def test_the_ticker_publishes_changes_while_running_and_the_end_when_stopped() -> None:
    streamed = Streamed()
    published: list[float] = []

    def publish(share: float, text: str) -> None:
        published.append(share)

    with Ticker(streamed, total=4, publish=publish, every=0.01):
        streamed.tally.prepared = 1
        wait_for(lambda: 25.0 in published, 30, "the first item published", every=0.01)
        streamed.tally.prepared = 3  # the run ends before a tick sees it: the stop publishes it
    assert published[-1] == 75.0
    assert published.count(25.0) == 1  # unchanged counts are not sent again
