"""The ingest flow end to end under Prefect: seeds, feeds and pages into a real DuckDB file."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

import warehouse
from flows.ingest import ingest
from tasks.staging import staging_root
from tests.conftest import FIXTURES, accounted
from tests.test_load import counts

pytestmark = [pytest.mark.prefect, pytest.mark.usefixtures("prefect_harness")]

TITLES = {
    "000_ad7065b6d2865418.txt": "Sam Altman dit que Satya Nadella et lui sont « loin du territoire "
    "ennemi » – en fait, ils envoient beaucoup de SMS",
    "002_5df296c2523e40f1.txt": "Sam Altman ne s’inquiète pas de la relation entre Elon Musk et Donald Trump",
    "003_facba6633ce741cb.txt": "Voici comment Microsoft a vécu de l’intérieur la débâcle d’OpenAI "
    "et de Sam Altman : ça vaut le coup",
    "004_d9cb10f2baa0daab.txt": "Changement d’attitude de Microsoft envers OpenAI",
}
BOILERPLATE = [
    "Publicité",
    "Nous pouvons gagner une commission",
    "Photo: Michael M. Santiago",
    "Ce contenu a été traduit automatiquement",
    "Journaliste spécialisé dans la technologie",
    "Laisser un commentaire",
    "Votre adresse e-mail ne sera pas publiée",
    "Directives éditoriales",
]
BODY = [
    "Microsoft investit plus de 10 milliards de dollars dans OpenAI",
    "Leur partenariat, qui a commencé par une rencontre fortuite en 2018",
    "a déclaré qu’il supposait que xAI serait « un concurrent vraiment sérieux »",
    "Kevin Scott, Directeur Technique et Vice-président Exécutif",
    "On spécule sur le fait que le géant de la technologie pourrait intervenir",
]


def rows(db: Path, sql: str) -> list[tuple]:
    with warehouse.connect(db, read_only=True) as con:
        return con.execute(sql).fetchall()


def test_seeds_are_cleaned_loaded_and_a_second_run_adds_nothing(seed_dir: Path, db_path: Path) -> None:
    first = accounted(ingest(db=str(db_path), seeds=str(seed_dir)))
    assert (first.new, first.quarantined, first.languages) == (5, 0, {"fr": 5})
    loaded = rows(db_path, "SELECT raw_uri, title, language, text FROM articles ORDER BY raw_uri")
    assert [r[0] for r in loaded] == [f"seeds/{p.name}" for p in sorted(seed_dir.glob("*.txt"))]
    assert {r[2] for r in loaded} == {"fr"}
    titles = {r[0].removeprefix("seeds/"): r[1] for r in loaded}
    assert {name: titles[name] for name in TITLES} == TITLES
    text = "\n".join(r[3] for r in loaded)
    assert [b for b in BODY if b not in text] == []
    assert [b for b in BOILERPLATE if b in text] == []
    assert rows(db_path, "SELECT author FROM articles WHERE raw_uri LIKE '%003_%'") == [
        ("Chema Carvajal Sarabia",)
    ]

    before = counts(db_path)
    second = accounted(ingest(db=str(db_path), seeds=str(seed_dir)))
    assert (second.new, second.unchanged, second.duplicates) == (0, 5, 0)
    assert counts(db_path) == before
    assert rows(db_path, "SELECT status, new_articles FROM run_history ORDER BY started_at") == [
        ("completed", 5),
        ("completed", 0),
    ]


def near_copy(text: str) -> str:
    """Another outlet's copy: other header lines, one sentence edited, boilerplate added."""
    lines = text.split("\n")
    lines[0] = "EXCLUSIF — " + lines[0] + " (mis à jour)"
    for i, line in enumerate(lines):
        if line.startswith("Cependant, après plusieurs jours de négociations"):
            lines[i] = (
                "Finalement, après de longues négociations, la situation a basculé et "
                "OpenAI a réintégré Sam Altman comme directeur général."
            )
    return "\n".join(
        ["Accueil", "Tech", *lines, "Publicité", "Partager cet article", "Abonnez-vous à notre newsletter"]
    )


def test_exact_and_near_copies_are_recorded_not_loaded(seed_dir: Path, db_path: Path) -> None:
    accounted(ingest(db=str(db_path), seeds=str(seed_dir)))
    original = (seed_dir / "003_facba6633ce741cb.txt").read_text(encoding="utf-8")
    (seed_dir / "zz_exact_copy.txt").write_text(
        (seed_dir / "000_ad7065b6d2865418.txt").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (seed_dir / "zz_near_copy.txt").write_text(near_copy(original), encoding="utf-8")

    summary = accounted(ingest(db=str(db_path), seeds=str(seed_dir)))
    assert (summary.new, summary.duplicate_kinds) == (0, {"content": 1, "near": 1})
    found = rows(
        db_path,
        """
        SELECT d.duplicate_id, d.kind, a.raw_uri, d.similarity FROM duplicates d
        JOIN articles a ON a.article_id = d.duplicate_of ORDER BY d.duplicate_id""",
    )
    assert [f[:3] for f in found] == [
        ("seeds/zz_exact_copy.txt", "content", "seeds/000_ad7065b6d2865418.txt"),
        ("seeds/zz_near_copy.txt", "near", "seeds/003_facba6633ce741cb.txt"),
    ]
    assert 0.7 <= found[1][3] < 1.0
    assert rows(db_path, "SELECT count(*) FROM articles") == [(5,)]

    before = counts(db_path)
    accounted(ingest(db=str(db_path), seeds=str(seed_dir)))
    assert counts(db_path) == before


def test_a_run_larger_than_a_batch_streams_batches_and_loads_each_document_once(
    seed_dir: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("NEWSFLOW_BATCH_SIZE", "2")
    # Sorted last, the copy is fetched, prepared and staged two batches after its original.
    shutil.copy(seed_dir / "000_ad7065b6d2865418.txt", seed_dir / "zz_exact_copy.txt")
    # What a run killed before its load leaves: batches staged, nothing loaded.
    killed = staging_root(db_path) / "killed-run"
    killed.mkdir(parents=True)
    (killed / "000000.arrow").write_bytes(b"half a batch")

    with caplog.at_level(logging.INFO):
        first = accounted(ingest(db=str(db_path), seeds=str(seed_dir)))
    staged = sorted(
        r.getMessage().split(" in ")[1].split(" ")[0]
        for r in caplog.records
        if r.getMessage().startswith("staged ")
    )
    assert staged == ["000000.arrow", "000001.arrow", "000002.arrow"]
    assert (first.documents, first.new, first.duplicate_kinds) == (6, 5, {"content": 1})
    assert rows(
        db_path,
        """
        SELECT d.duplicate_id, a.raw_uri FROM duplicates d
        JOIN articles a ON a.article_id = d.duplicate_of""",
    ) == [("seeds/zz_exact_copy.txt", "seeds/000_ad7065b6d2865418.txt")]
    assert rows(db_path, "SELECT count(*), count(DISTINCT raw_uri) FROM articles") == [(5, 5)]
    assert list(staging_root(db_path).iterdir()) == []  # this run's folder and the killed one's

    before = counts(db_path)
    second = accounted(ingest(db=str(db_path), seeds=str(seed_dir)))
    assert (second.new, second.unchanged, second.duplicates) == (0, 6, 0)
    assert counts(db_path) == before
    assert list(staging_root(db_path).iterdir()) == []


PAGES = {
    "/de/kyffhaeuser": ("de-kyffhaeuser-news-iso-8859-1.html", "text/html; charset=iso-8859-1"),
    "/en/wikimedia": ("en-wikimedia-news-utf-8.html", "text/html; charset=utf-8"),
    "/en/wordsmith": ("en-wordsmith-windows-1252.html", "text/html"),
    "/fr/dw": ("fr-dw-news-utf-8.html", "text/html; charset=utf-8"),
}


def serve_site(server: HTTPServer) -> None:
    for path, (name, content_type) in PAGES.items():
        server.expect_request(path).respond_with_data(
            (FIXTURES / "pages" / name).read_bytes(), content_type=content_type
        )
    items = "".join(
        f"<item><title>{p}</title><link>{p}?utm_source=rss</link><guid>{server.url_for(p)}</guid></item>"
        for p in ("/de/kyffhaeuser", "/en/wikimedia", "/fr/dw", "/missing")
    )
    server.expect_request("/feed.xml").respond_with_data(
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>site</title>{items}</channel></rss>',
        content_type="application/rss+xml",
    )
    server.expect_request("/evil.xml").respond_with_data(
        (FIXTURES / "feeds" / "heise.atom")
        .read_bytes()
        .replace(
            b'<?xml version="1.0" encoding="utf-8"?>',
            b'<?xml version="1.0"?><!DOCTYPE f [<!ENTITY x "xxxxxxxx">]>',
        ),
        content_type="application/atom+xml",
    )
    server.expect_request("/missing").respond_with_data("gone", status=404)


def test_feeds_and_pages_flow_through_the_same_path(
    httpserver: HTTPServer, tmp_path: Path, db_path: Path
) -> None:
    serve_site(httpserver)
    empty_seeds = tmp_path / "no-seeds"
    empty_seeds.mkdir()
    params = dict(
        db=str(db_path),
        seeds=str(empty_seeds),
        feeds=[httpserver.url_for("/feed.xml"), httpserver.url_for("/evil.xml")],
        urls=[httpserver.url_for("/en/wordsmith")],
    )
    summary = accounted(ingest(**params))
    assert summary.new == 4
    assert summary.quarantine_reasons == {"fetch:http_404": 1, "fetch:entity_declaration": 1}
    loaded = rows(db_path, "SELECT canonical_url, language, title, guid FROM articles ORDER BY 1")
    assert [(r[0], r[1]) for r in loaded] == [
        (httpserver.url_for("/de/kyffhaeuser"), "de"),
        (httpserver.url_for("/en/wikimedia"), "en"),
        (httpserver.url_for("/en/wordsmith"), "en"),
        (httpserver.url_for("/fr/dw"), "fr"),
    ]
    assert all(r[2] for r in loaded)
    assert sum(r[3] is not None for r in loaded) == 3  # feed entries keep their GUID
    # a date only where the page's metadata states one (kyffhaeuser, wikimedia), stored with its source
    assert rows(
        db_path, "SELECT date_source, count(published_at), count(*) FROM articles GROUP BY 1 ORDER BY 1"
    ) == [("page", 2, 2), (None, 0, 2)]

    requests_before = len(httpserver.log)
    before = counts(db_path)
    second = accounted(ingest(**params))
    assert (second.new, second.skipped_known) == (0, 1)  # the --url page
    assert (second.feeds_unchanged, second.feeds_deferred) == (1, 1)
    assert counts(db_path) == before
    refetched = [r.path for r, _ in httpserver.log[requests_before:]]
    # Stored pages are not refetched; the failed feed is backed off; the 404 link is permanent
    # and the feed's body has not changed, so it is not listed again.
    assert sorted(refetched) == ["/feed.xml"]
