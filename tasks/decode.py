"""What fetched bytes are: declared media type, a sniff for binary, and the text they decode to."""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from charset_normalizer import from_bytes

DecodeSource = Literal["bom", "http", "meta", "xml", "detected", "default"]

_CHARSET_PARAM = re.compile(r"charset\s*=\s*[\"']?([\w.:+-]+)", re.IGNORECASE)
_META_CHARSET = re.compile(rb"<meta[^>]*?charset\s*=\s*[\"']?\s*([A-Za-z0-9_:.+-]+)", re.I)
_XML_ENCODING = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9_:.+-]+)", re.I)
_PRESCAN = 4096  # bytes searched for a <meta> or XML declaration
# UTF-32 first: its little-endian mark begins with UTF-16's.
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# A document's first '<' in the wide encodings without a mark (XML 1.0 appendix F).
_WIDE_STARTS = (
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00", "utf-16-le"),
    (b"\x00<", "utf-16-be"),
)
_MAGIC = (
    b"%PDF-",
    b"\x89PNG",
    b"GIF87a",
    b"GIF89a",
    b"\xff\xd8\xff",
    b"PK\x03\x04",
    b"\x1f\x8b",
    b"\x7fELF",
    b"OggS",
    b"ID3",
    b"\x00\x00\x00\x18ftyp",
    b"\x00\x00\x00\x20ftyp",
    b"RIFF",
    b"7z\xbc\xaf",
    b"Rar!",
    b"\xfd7zXZ",
    b"\x28\xb5\x2f\xfd",
    b"wOFF",
)

# WHATWG Encoding Standard: these labels name a superset in browsers, so bytes a page
# "declares" as latin-1 are in practice windows-1252 (smart quotes in 0x80-0x9F).
_WHATWG_SUPERSETS = {
    "ascii": "cp1252",
    "iso8859-1": "cp1252",
    "iso8859-9": "cp1254",
    "iso8859-11": "cp874",
    "tis-620": "cp874",
    "gb2312": "gbk",
    "big5": "big5hkscs",
    "euc_kr": "cp949",
    "shift_jis": "cp932",
    # a bare utf-16 label without BOM means little-endian in browsers
    "utf-16": "utf-16-le",
    "utf-32": "utf-32-le",
}
# WHATWG labels Python's codec registry does not know.
_EXTRA_LABELS = {
    "x-sjis": "cp932",
    "windows-31j": "cp932",
    "x-gbk": "gbk",
    "x-mac-roman": "mac-roman",
    "iso-8859-8-i": "iso8859-8",
    "x-cp1252": "cp1252",
}

# The single- and multi-byte encodings of the WHATWG Encoding Standard, as codec_for names
# them: what a browser can decode, so all a detector's guess may be.
_WEB_CODECS = frozenset(
    {
        "cp866",
        *(f"iso8859-{n}" for n in (2, 3, 4, 5, 6, 7, 8, 10, 13, 14, 15, 16)),
        "koi8-r",
        "koi8-u",
        "mac-roman",
        "mac-cyrillic",
        "cp874",
        *(f"cp{n}" for n in range(1250, 1259)),
        "gbk",
        "gb18030",
        "big5hkscs",
        "euc_jp",
        "iso2022_jp",
        "cp932",
        "cp949",
    }
)


@dataclass(frozen=True, slots=True)
class Decoded:
    """Text decoded from bytes: the encoding used, where that choice came from, and the damage."""

    text: str
    encoding: str  # a Python codec name: 'utf-8', 'cp1252', 'iso8859-2', 'utf-16-le'...
    source: DecodeSource
    replaced: int  # U+FFFD put in for bytes the encoding does not allow


def content_type(header: str) -> tuple[str, str | None]:
    """Return the media type and the charset label of a Content-Type header, lower-cased."""
    media_type, _, params = header.partition(";")
    match = _CHARSET_PARAM.search(params)
    return media_type.strip().lower(), match.group(1).lower() if match else None


def sniff_unicode(head: bytes) -> tuple[str, int] | None:
    """Return the Unicode encoding a byte-order mark or a wide first '<' shows, and the mark's
    length; None for bytes that show neither."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name, len(bom)
    for start, name in _WIDE_STARTS:
        if head.startswith(start):
            return name, 0
    return None


def looks_binary(head: bytes) -> bool:
    """Return True when head (the first bytes) is a known binary format or holds NUL bytes
    that no Unicode encoding explains."""
    if sniff_unicode(head) is not None:
        return False  # UTF-16 and UTF-32 text are full of NULs
    return head.startswith(_MAGIC) or b"\x00" in head


def codec_for(label: str | None) -> str | None:
    """Return the Python codec a browser would use for an encoding label, or None if unknown."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    label = _EXTRA_LABELS.get(label, label)
    try:
        info = codecs.lookup(label)
    except LookupError:
        return None
    # the registry also holds bytes-to-bytes codecs (rot13, base64) that bytes.decode refuses
    if not getattr(info, "_is_text_encoding", True):
        return None
    return _WHATWG_SUPERSETS.get(info.name, info.name)


def decode(body: bytes, declared: str | None = None, *, markup: bool = True) -> Decoded:
    """Return body as text: by its byte-order mark, else by the first label the bytes do not
    contradict (HTTP, then <meta> and XML declaration when markup), else as detected."""
    marked = sniff_unicode(body[:4])
    if marked is not None and marked[1]:
        return _decoded(body[marked[1] :], marked[0], "bom")
    evidence = _Utf8Evidence(body)
    for label, source in _labels(body, declared, markup):
        codec = codec_for(label)
        if codec is not None and _agrees(body, codec, evidence):
            return _decoded(body, codec, source)
    return _detect(body, evidence)


def _labels(body: bytes, declared: str | None, markup: bool) -> Iterator[tuple[str, DecodeSource]]:
    if declared:
        yield declared, "http"
    if not markup:
        return
    head = body[:_PRESCAN]
    if meta := _META_CHARSET.search(head):
        label = meta.group(1).decode("ascii")
        # a <meta> cannot honestly declare UTF-16: it was readable as ASCII (WHATWG)
        yield ("utf-8" if label.lower().startswith(("utf-16", "utf-32")) else label), "meta"
    if xml := _XML_ENCODING.search(head):
        yield xml.group(1).decode("ascii"), "xml"


class _Utf8Evidence:
    """How far bytes read as UTF-8: non-ASCII characters decoded, and invalid sequences."""

    def __init__(self, body: bytes) -> None:
        self._body = body
        self._counts: tuple[int, int] | None = None

    def counts(self) -> tuple[int, int]:
        """Return (good, bad), computed once; good is only 1 for valid UTF-8 (enough to judge)."""
        if self._counts is None:
            self._counts = self._count()
        return self._counts

    def _count(self) -> tuple[int, int]:
        if self._body.isascii():
            return 0, 0
        try:
            self._body.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            return 1, 0
        text = self._body.decode("utf-8", errors="replace")
        marks = text.count("\ufffd")
        bad = marks - self._body.count("\ufffd".encode())
        non_ascii = len(text) - len(text.encode("ascii", errors="ignore"))
        return non_ascii - marks, bad

    def utf8(self) -> bool:
        """Return True for UTF-8 text, a few bad bytes allowed: at least as many good
        characters as bad sequences (legacy text almost never forms valid sequences)."""
        good, bad = self.counts()
        return bad == 0 or good >= bad


def _agrees(body: bytes, codec: str, evidence: _Utf8Evidence) -> bool:
    """Return False when the bytes contradict the codec a label names."""
    wide = sniff_unicode(body[:4]) is not None
    if codec.startswith(("utf-16", "utf-32")):
        return wide or b"\x00" in body[:_PRESCAN]  # ASCII-compatible bytes are no wide encoding
    if wide:
        return False
    if codec == "utf-8":
        return evidence.utf8()
    # valid non-ASCII UTF-8 is almost never an accident: a legacy label over it is a default
    good, _ = evidence.counts()
    return not (good and evidence.utf8())


def _detect(body: bytes, evidence: _Utf8Evidence) -> Decoded:
    """Return body decoded by what its bytes show, when no label holds."""
    if body.isascii():
        return _decoded(body, "utf-8", "default")  # every ASCII-compatible encoding reads it alike
    marked = sniff_unicode(body[:4])
    if marked is not None:
        return _decoded(body, marked[0], "detected")
    if evidence.utf8():
        return _decoded(body, "utf-8", "detected")
    # the detector's readings, best first, each named by a web encoding that gives it
    readings = [
        (match, codec) for match in from_bytes(body) if (codec := _web_codec(match.could_be_from_charset))
    ]
    if not readings:
        return _decoded(body, "cp1252", "default")
    best, codec = readings[0]
    # of readings the detector finds equally good (short texts), the web's default
    if any(
        c == "cp1252"
        and m.percent_chaos <= best.percent_chaos
        and m.percent_coherence >= best.percent_coherence
        for m, c in readings
    ):
        codec = "cp1252"
    return _decoded(body, codec, "detected")


def _web_codec(names: list[str]) -> str | None:
    """Return the web encoding among a detector's names for one reading, the web's default first."""
    codecs_ = [c for c in map(codec_for, names) if c in _WEB_CODECS]
    return "cp1252" if "cp1252" in codecs_ else next(iter(codecs_), None)


def _decoded(body: bytes, codec: str, source: DecodeSource) -> Decoded:
    text = body.decode(codec, errors="replace")
    replaced = 0
    if "\ufffd" in text:  # some may be U+FFFD the document itself holds
        replaced = text.count("\ufffd") - body.decode(codec, errors="ignore").count("\ufffd")
    return Decoded(text, codec, source, replaced)
