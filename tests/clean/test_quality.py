"""Quality gates: link lists, login and cookie walls and soft 404s are quarantined, articles are not."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

import warehouse
from flows.ingest import ingest
from tasks.clean import clean_document
from tasks.clean.html import extract_html
from tasks.clean.quality import SHORT_PAGE_WORDS, PageCues, low_quality
from tasks.records import Document, Quarantined, RawDocument
from tasks.settings import Settings
from tests.conftest import FIXTURES, accounted

QUALITY = FIXTURES / "quality"
NOW = datetime(2026, 11, 23, tzinfo=UTC)

# fixture -> a word its quarantine detail must name
BAD_PAGES = {
    "fr-section-link-list.html": "link list",
    "en-login-wall.html": "sign in",
    "de-cookie-wall.html": "verwenden cookies",
    "fr-soft-404.html": "Page introuvable",
    "en-soft-404.html": "Page Not Found",
}


def _raw(body: bytes, uri: str = "http://news.example/page") -> RawDocument:
    return RawDocument("src", uri, body, "text/html", NOW, final_url=uri)


@pytest.mark.parametrize(("name", "cue"), BAD_PAGES.items())
def test_non_articles_are_quarantined_as_low_quality(name: str, cue: str) -> None:
    body = (QUALITY / name).read_bytes()
    extracted = extract_html(body.decode("utf-8"))
    # without the gate the page would pass the too-short check and be stored as an article
    assert extracted is not None
    assert len(extracted.text.split()) >= Settings().min_words

    result = clean_document(_raw(body))

    assert isinstance(result, Quarantined)
    assert (result.stage, result.reason) == ("clean", "low_quality")
    assert cue.lower() in result.detail.lower()


@pytest.mark.parametrize("path", sorted((FIXTURES / "pages").glob("*.html")), ids=lambda p: p.name)
def test_real_articles_pass_the_gates(path: Path) -> None:
    assert isinstance(clean_document(_raw(path.read_bytes())), Document)


def _cues(*links: str, title: str = "", password: bool = False) -> PageCues:
    return PageCues(frozenset(links), title, password)


def test_a_short_article_that_mentions_one_wall_phrase_passes() -> None:
    text = (
        "Bakers across the region sold out of cookies on Saturday as the winter market opened. "
        "Visitors could log in to the market's app to reserve a stall for next week."
    )
    assert low_quality(text, _cues()) is None


def test_wall_and_not_found_cues_are_ignored_on_long_texts() -> None:
    words = " ".join(["The inquiry heard evidence from forty witnesses over three weeks."] * 20)
    text = f"Page not found: the archive that vanished\nSign in, accept all cookies.\n{words}"
    assert len(text.split()) > SHORT_PAGE_WORDS
    assert low_quality(text, _cues(title="404: the archive that vanished", password=True)) is None


def test_a_wall_phrase_with_a_password_field_is_a_wall() -> None:
    text = "Sign in to read the rest of this story about the new tram line and its route."
    assert low_quality(text, _cues()) is None
    assert low_quality(text, _cues(password=True)) == "login or consent wall: sign in"


def test_link_share_counts_only_lines_that_are_a_link_text() -> None:
    headlines = [f"Headline number {i} about the city council budget" for i in range(6)]
    body = "The council met on Tuesday and agreed the budget after a long debate on transport."
    assert low_quality("\n".join([body, *headlines[:1]]), _cues(*headlines)) is None
    share = sum(map(len, headlines)) / (sum(map(len, headlines)) + len(body))
    assert low_quality("\n".join([body, *headlines]), _cues(*headlines)) == (
        f"link list: {share:.0%} of the main text is link text"
    )


@pytest.mark.prefect
@pytest.mark.usefixtures("prefect_harness")
def test_a_run_stores_the_article_and_quarantines_the_rest(
    httpserver: HTTPServer, tmp_path: Path, db_path: Path
) -> None:
    pages = {f"/{name}": (QUALITY / name).read_bytes() for name in BAD_PAGES}
    pages["/article"] = (FIXTURES / "pages" / "en-wikimedia-news-utf-8.html").read_bytes()
    for path, body in pages.items():
        httpserver.expect_request(path).respond_with_data(body, content_type="text/html; charset=utf-8")
    seeds = tmp_path / "no-seeds"
    seeds.mkdir()
    params = dict(db=str(db_path), seeds=str(seeds), urls=[httpserver.url_for(p) for p in pages])

    summary = accounted(ingest(**params))

    assert summary.new == 1
    assert summary.quarantine_reasons == {"clean:low_quality": len(BAD_PAGES)}
    with warehouse.connect(db_path, read_only=True) as con:
        stored = con.sql("SELECT url FROM articles").fetchall()
        set_aside = con.sql("SELECT uri FROM quarantine WHERE reason = 'low_quality'").fetchall()
    assert stored == [(httpserver.url_for("/article"),)]
    assert sorted(u for (u,) in set_aside) == sorted(httpserver.url_for(f"/{n}") for n in BAD_PAGES)

    again = accounted(ingest(**params))
    assert again.new == 0
    with warehouse.connect(db_path, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM quarantine").fetchone() == (len(BAD_PAGES),)
        assert con.execute("SELECT count(*) FROM articles").fetchone() == (1,)
