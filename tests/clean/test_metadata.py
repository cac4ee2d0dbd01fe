"""Titles without the site's name, authors that name people, dates only where a page states one."""

from __future__ import annotations

import lxml.html
import pytest

from tasks.clean.dates import iso_date, page_date, stated_date, url_date
from tasks.clean.metadata import clean_author, clean_title, headline, repair_mojibake, strip_site_name


@pytest.mark.parametrize(
    ("title", "site_name", "url", "expected"),
    [
        # the host's words in another order: "Harvard Health" is health.harvard.edu
        (
            "Regular physical activity can boost mood - Harvard Health",
            None,
            "https://www.health.harvard.edu/mind-and-mood/regular-physical-activity",
            "Regular physical activity can boost mood",
        ),
        # og:site_name spelled as in the title
        ("Home renovation costs | Facet", "Facet", "https://facet.com/a", "Home renovation costs"),
        # the site's name inside a longer trailing segment
        ("Is it always the DNS? | APNIC Blog", "APNIC", "https://blog.apnic.net/x/", "Is it always the DNS?"),
        # the host spelled with its top-level domain
        ("Keeping It Clean | NutritionFacts.org", None, "https://nutritionfacts.org/x", "Keeping It Clean"),
        # several trailing segments: the site's name goes, a section name that is no site stays
        (
            "How to sleep | Patient Education | UC Davis Children's Hospital",
            None,
            "https://health.ucdavis.edu/children/x",
            "How to sleep | Patient Education",
        ),
        # a leading segment that is the site's name
        ("Facet — Home renovation costs", "Facet", "https://facet.com/a", "Home renovation costs"),
        # a leading segment that only mentions the site stays: it is part of the headline
        (
            "GitHub Actions explained - A guide",
            "GitHub",
            "https://github.blog/x",
            "GitHub Actions explained - A guide",
        ),
        # a separator with no site signal on either side: nothing is cut
        ("War and Peace - a review", "Books Weekly", "https://example.org/x", "War and Peace - a review"),
        # a title that is only the site's name is kept rather than emptied
        ("Facet", "Facet", "https://facet.com/", "Facet"),
        # separators without spaces around them are part of words, not separators
        ("Self-hosting Postgres|Facet", "Facet", "https://facet.com/", "Self-hosting Postgres|Facet"),
    ],
)
def test_strip_site_name(title: str, site_name: str | None, url: str, expected: str) -> None:
    assert strip_site_name(title, site_name, url) == expected


@pytest.mark.parametrize(
    ("title", "heading", "expected"),
    [
        # the page's one headline wins over an SEO title
        (
            "Top 10 Health Trends For 2026 - Tastewise",
            "Top 10 Health Trends to Watch",
            "Top 10 Health Trends to Watch",
        ),
        # a headline that is the site's name is the logo, not the article's
        ("Top 10 Health Trends For 2026 - Tastewise", "Tastewise", "Top 10 Health Trends For 2026"),
        # a headline in capitals takes the page title's own case
        ("Tips for Online Success - Tastewise", "TIPS FOR ONLINE SUCCESS", "Tips for Online Success"),
        # a headline carrying the site's name loses it too
        ("Trends | Tastewise", "Trends in 2026 | Tastewise", "Trends in 2026"),
        # a paragraph in an <h1> is no headline
        ("Trends | Tastewise", " ".join(["word"] * 30), "Trends"),
        # mojibake in the title is repaired
        ("A DIY Investorâ\x80\x99s Guide - Tastewise", None, "A DIY Investor’s Guide"),
        # mojibake beyond repair leaves the title as it is rather than none
        ("Ten podcasts by Dariusz JaroÅ - Tastewise", None, "Ten podcasts by Dariusz JaroÅ"),
        # no title at all
        (None, None, None),
    ],
)
def test_clean_title(title: str | None, heading: str | None, expected: str | None) -> None:
    assert clean_title(title, heading, "Tastewise", "https://tastewise.io/blog/x") == expected


@pytest.mark.parametrize(
    ("author", "site_name", "url", "expected"),
    [
        # a host label, capitalised by the extractor
        ("Uclahealth", None, "https://www.uclahealth.org/news/article/x", None),
        # share-bar and byline furniture
        ("TopGear com Published", "TopGear", "https://www.topgear.com/car-news/x", None),
        ("Www Facebook Com", None, "https://example.org/x", None),
        ("Written By", None, "https://example.org/x", None),
        # UTF-8 read as latin-1 whose last byte was lost: beyond repair
        ("Dariusz JaroÅ", None, "https://softwaremill.com/x", None),
        # UTF-8 read as latin-1, every byte still there: repaired
        ("Dariusz JaroÅ\x9b", None, "https://softwaremill.com/x", "Dariusz Jaroś"),
        ("JosÃ© GarcÃ\xada", None, "https://example.org/x", "José García"),
        # a byline's lead words go, the name stays
        ("By Jane Doe", None, "https://example.org/x", "Jane Doe"),
        ("Author Ashley Biancuzzo", None, "https://example.org/x", "Ashley Biancuzzo"),
        # social handles, URLs and hosts
        ("@janedoe", None, "https://example.org/x", None),
        ("https://example.org/authors/jane", None, "https://example.org/x", None),
        ("example.org", None, "https://example.org/x", None),
        # the site's own name, or its brand with a word added
        ("Facet", "Facet", "https://facet.com/x", None),
        ("Acme Editorial Team", None, "https://www.acme.com/x", None),
        # a person writing on a site named after them stays
        ("Jane Doe", None, "https://janedoe.com/x", "Jane Doe"),
        # one name of several is the publication: only it goes
        (
            "Manoj Jain; Jagpreet Chhatwal; The Commercial Appeal",
            "The Commercial Appeal",
            "https://www.commercialappeal.com/x",
            "Manoj Jain; Jagpreet Chhatwal",
        ),
        # a menu caught as a byline: its first part is no name, so none of it is
        (
            "Authorities Governing Board Actions Open submenu LSC Code; Conduct",
            None,
            "https://lsc.gov/x",
            None,
        ),
        # credentials with digits and a month that is a surname stay
        ("Holly Wilgus, E-RYT 200", None, "https://example.org/x", "Holly Wilgus, E-RYT 200"),
        ("Tom May", None, "https://example.org/x", "Tom May"),
        (None, None, "https://example.org/x", None),
    ],
)
def test_clean_author(author: str | None, site_name: str | None, url: str, expected: str | None) -> None:
    assert clean_author(author, site_name, url) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # clean text is returned as is, accents and all
        ("Łódź, São Paulo, Åsa Larsson", "Łódź, São Paulo, Åsa Larsson"),
        # cp1252 symbols standing for continuation bytes
        ("Investorâ€™s guide", "Investor’s guide"),
        # C1 controls standing for continuation bytes
        ("cafÃ©", "café"),
        # a lead byte whose continuation was dropped cannot be repaired
        ("JaroÅ", None),
    ],
)
def test_repair_mojibake(text: str, expected: str | None) -> None:
    assert repair_mojibake(text) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # an offset without a colon, as many CMSs write it
        ("2023-10-31T10:19:00+0100", "2023-10-31T10:19:00+01:00"),
        # a space for T and a zone name
        ("2013-08-22 21:43:53 UTC", "2013-08-22T21:43:53+00:00"),
        # a date alone stays a date
        ("2024-05-01", "2024-05-01"),
        # RFC 2822, as in feeds and some meta tags
        ("Wed, 04 Dec 2024 10:00:00 GMT", "2024-12-04T10:00:00+00:00"),
        # dates written in words, in English and German
        ("October 17, 2018", "2018-10-17"),
        ("17. Oktober 2018", "2018-10-17"),
        # day and month that could be either way round: not stated
        ("03/09/2026", None),
        # a day that cannot be the month is unambiguous
        ("25/11/2025", "2025-11-25"),
        # a month without a day would be completed to the 1st: a guess
        ("2024/05", None),
        # impossible dates and free text are unreadable
        ("2024-02-30", None),
        ("last week", None),
    ],
)
def test_iso_date(value: str, expected: str | None) -> None:
    assert iso_date(value) == expected


def _page(head: str, body: str = "<p>Text.</p>") -> lxml.html.HtmlElement:
    return lxml.html.fromstring(f"<html><head>{head}</head><body>{body}</body></html>")


@pytest.mark.parametrize(
    ("head", "body", "expected"),
    [
        # Open Graph article metadata
        (
            '<meta property="article:published_time" content="2024-05-01T08:00:00Z">',
            "",
            "2024-05-01T08:00:00+00:00",
        ),
        # a modification date is not a publication date
        ('<meta property="article:modified_time" content="2025-01-01T08:00:00Z">', "", None),
        # JSON-LD of an article inside an @graph
        (
            '<script type="application/ld+json">{"@graph": [{"@type": "WebSite"},'
            ' {"@type": "NewsArticle", "datePublished": "2024-05-01"}]}</script>',
            "",
            "2024-05-01",
        ),
        # a WebPage's datePublished is when the CMS created the page, not a story's date
        (
            '<script type="application/ld+json">{"@type": "WebPage", "datePublished": "2019-12-12"}</script>',
            "",
            None,
        ),
        # broken JSON-LD is skipped, not fatal
        ('<script type="application/ld+json">{"@type": </script>', "", None),
        # a <time> marked as the publication date
        (
            "",
            '<time itemprop="datePublished" datetime="2024-05-01T10:00">1 May</time>',
            "2024-05-01T10:00:00",
        ),
        # microdata with the date written out in the element's text
        ("", '<span itemprop="datePublished">October 17, 2018</span>', "2018-10-17"),
        # several different publication dates are a list of posts: none is this page's
        (
            "",
            '<li itemprop="datePublished">June 2, 2025</li><li itemprop="datePublished">May 1, 2025</li>',
            None,
        ),
        # a copyright line and a date in running text are not stated publication dates
        ("", "<p>Posted on 1 May 2024.</p><footer>© 2024 Example</footer>", None),
    ],
)
def test_page_date(head: str, body: str, expected: str | None) -> None:
    assert page_date(_page(head, body or "<p>Text.</p>")) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # the WordPress permalink shape
        ("https://example.org/2024/05/01/story/", "2024-05-01"),
        # months and days without leading zeros
        ("https://example.org/2024/5/1/story", "2024-05-01"),
        # a year and month only is no day
        ("https://example.org/2024/05/story", None),
        # numbers that are no date
        ("https://example.org/2024/13/01/story", None),
        ("https://example.org/2024/02/30/story", None),
        (None, None),
    ],
)
def test_url_date(url: str | None, expected: str | None) -> None:
    assert url_date(url) == expected


@pytest.mark.parametrize(
    ("page", "url", "expected"),
    [
        # the page's metadata, more precise than the URL's day when both agree
        ("2024-05-01T10:00:00+02:00", "https://x.org/2024/05/01/a", ("2024-05-01T10:00:00+02:00", "page")),
        # the URL's day when the metadata says another one (a re-publication)
        ("2025-01-01T10:00:00+00:00", "https://x.org/2024/05/01/a", ("2024-05-01", "url")),
        # the URL's day when the page states none
        (None, "https://x.org/2024/05/01/a", ("2024-05-01", "url")),
        # the page's metadata when the URL has no date
        ("2024-05-01", "https://x.org/a", ("2024-05-01", "page")),
        # nothing stated anywhere: no date, no source
        (None, "https://x.org/a", (None, None)),
    ],
)
def test_stated_date(page: str | None, url: str, expected: tuple[str | None, str | None]) -> None:
    assert stated_date(page, url) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # one headline, its inner markup and spacing folded
        ("<h1>The  <em>real</em>\n headline</h1>", "The real headline"),
        # several <h1>: none of them is known to be the article's
        ("<h1>Site</h1><h1>Story</h1>", None),
        # an empty <h1> does not count
        ("<h1> </h1><h1>Story</h1>", "Story"),
        ("<p>No heading</p>", None),
    ],
)
def test_headline(body: str, expected: str | None) -> None:
    assert headline(_page("", body)) == expected
