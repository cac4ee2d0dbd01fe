"""Decoding: the label checked against the bytes, detection when it is contradicted, binary sniffing."""

from __future__ import annotations

import codecs

import pytest

from tasks.decode import codec_for, decode, looks_binary

CITIES = "Zürich, Köln, Málaga"
CP1252 = CITIES.encode("cp1252")
UTF8 = CITIES.encode()
BAD_UTF8 = "Zürich, Köln,".encode() + b" M\xe1laga"  # one latin-1 byte in UTF-8 text
RSS = '<?xml version="1.0"?><rss version="2.0"><channel><title>Zürich</title></channel></rss>'


@pytest.mark.parametrize(
    ("body", "declared", "text", "encoding", "source", "replaced"),
    [
        # a byte-order mark beats every label, UTF-32's checked before UTF-16's
        (codecs.BOM_UTF8 + UTF8, "iso-8859-1", CITIES, "utf-8", "bom", 0),
        (codecs.BOM_UTF32_LE + CITIES.encode("utf-32-le"), None, CITIES, "utf-32-le", "bom", 0),
        (codecs.BOM_UTF32_BE + CITIES.encode("utf-32-be"), None, CITIES, "utf-32-be", "bom", 0),
        # the HTTP label holds when the bytes agree; latin-1 reads as windows-1252 (WHATWG)
        (CP1252, "iso-8859-1", CITIES, "cp1252", "http", 0),
        # windows-1252 bytes under <meta charset=utf-8>: the label is contradicted, detection reads them
        (
            b'<meta charset="utf-8"><p>' + CP1252,
            None,
            f'<meta charset="utf-8"><p>{CITIES}',
            "cp1252",
            "detected",
            0,
        ),
        # the same under an HTTP UTF-8 label, with a truthful <meta> behind it
        (
            b'<meta charset="windows-1252">' + CP1252,
            "utf-8",
            f'<meta charset="windows-1252">{CITIES}',
            "cp1252",
            "meta",
            0,
        ),
        # UTF-8 bytes under a <meta> latin-1 label: multi-byte UTF-8 is no accident
        (
            b'<meta charset="iso-8859-1"><p>' + UTF8,
            None,
            f'<meta charset="iso-8859-1"><p>{CITIES}',
            "utf-8",
            "detected",
            0,
        ),
        # ... and under a server's default latin-1 in HTTP
        (UTF8, "iso-8859-1", CITIES, "utf-8", "detected", 0),
        # UTF-8 but for one bad byte, no label: UTF-8 with U+FFFD there, not all of it as cp1252
        (BAD_UTF8, None, "Zürich, Köln, M\ufffdlaga", "utf-8", "detected", 1),
        # the same under a UTF-8 label: the label holds
        (BAD_UTF8, "utf-8", "Zürich, Köln, M\ufffdlaga", "utf-8", "http", 1),
        # an XML declaration when nothing else is said
        (
            b'<?xml version="1.0" encoding="windows-1251"?><r>\xcf\xf0\xe8</r>',
            None,
            '<?xml version="1.0" encoding="windows-1251"?><r>При</r>',
            "cp1251",
            "xml",
            0,
        ),
        # unknown labels and codecs that are no text encoding are passed over
        (b"<p>x</p>", "no-such-charset", "<p>x</p>", "utf-8", "default", 0),
        (b"<p>x</p>", "rot13", "<p>x</p>", "utf-8", "default", 0),
        # a UTF-16 label over ASCII-compatible bytes is contradicted
        (b"<p>x</p>", "utf-16", "<p>x</p>", "utf-8", "default", 0),
        # UTF-16 and UTF-32 without a mark, told by the NULs around the first '<'
        (RSS.encode("utf-16-le"), None, RSS, "utf-16-le", "detected", 0),
        (RSS.encode("utf-32-be"), None, RSS, "utf-32-be", "detected", 0),
        # a U+FFFD the document itself holds is not counted as replaced
        ("a \ufffd b".encode(), None, "a \ufffd b", "utf-8", "detected", 0),
    ],
)
def test_decode(
    body: bytes, declared: str | None, text: str, encoding: str, source: str, replaced: int
) -> None:
    decoded = decode(body, declared)
    assert (decoded.text, decoded.encoding, decoded.source, decoded.replaced) == (
        text,
        encoding,
        source,
        replaced,
    )


def test_plain_text_reads_no_markup_labels() -> None:
    # a seed file quoting HTML is not declaring its own encoding
    body = b'Write <meta charset="koi8-r"> in the head: ' + UTF8
    decoded = decode(body, markup=False)
    assert (decoded.encoding, decoded.source) == ("utf-8", "detected")
    assert decode(body).source == "detected"  # read as markup the label is contradicted all the same


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        # short legacy texts, where the detector finds several readings equally clean
        ("Stra\xdfe, M\xfcller, \xe0 la carte", "latin-1"),
        ("Caf\xe9 \u201cquoted\u201d \u2013 na\xefve", "cp1252"),
        (CITIES, "cp1252"),
    ],
)
def test_detection_prefers_the_webs_default_among_equal_readings(text: str, encoding: str) -> None:
    assert decode(text.encode(encoding), markup=False).text == text


@pytest.mark.parametrize(
    ("label", "codec"),
    [
        ("ISO-8859-1", "cp1252"),  # WHATWG: latin-1 is windows-1252
        ("latin1", "cp1252"),
        ("us-ascii", "cp1252"),
        ("Shift_JIS", "cp932"),
        ("x-sjis", "cp932"),  # a label Python does not know
        ('"utf-8"', "utf-8"),  # quoted, as some servers send it
        ("utf8", "utf-8"),
        ("base64", None),  # a codec, but bytes to bytes
        ("klingon", None),
        (None, None),
    ],
)
def test_codec_for(label: str | None, codec: str | None) -> None:
    assert codec_for(label) == codec


@pytest.mark.parametrize(
    ("head", "binary"),
    [
        (b"\x89PNG\r\n\x1a\n", True),
        (b"%PDF-1.7\n", True),
        (b"\x1f\x8b\x08\x00", True),  # gzip inside the body: compressed twice
        (b"PK\x03\x04", True),
        (b"<html>\x00</html>", True),
        (b"\xff\xfe<\x00h\x00", False),  # UTF-16 with BOM: NULs are legitimate
        (b"\x00\x00\xfe\xff\x00\x00\x00<", False),  # UTF-32 big-endian with BOM
        (RSS.encode("utf-16-be")[:64], False),  # UTF-16 without BOM: the XML declaration shows it
        (RSS.encode("utf-32-le")[:64], False),
        (b"<!doctype html><p>hello", False),
    ],
)
def test_looks_binary(head: bytes, binary: bool) -> None:
    assert looks_binary(head) is binary
