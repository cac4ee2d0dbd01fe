"""What fetched bytes are: declared media type, a sniff for binary, and the charset to decode with."""

from __future__ import annotations

import codecs
import re

_CHARSET_PARAM = re.compile(r"charset\s*=\s*[\"']?([\w.:+-]+)", re.IGNORECASE)
_META_CHARSET = re.compile(rb"<meta[^>]*?charset\s*=\s*[\"']?\s*([A-Za-z0-9_:.+-]+)", re.I)
_XML_ENCODING = re.compile(rb"^<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9_:.+-]+)", re.I)
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
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


def content_type(header: str) -> tuple[str, str | None]:
    """Return the media type and the charset label of a Content-Type header, lower-cased."""
    media_type, _, params = header.partition(";")
    match = _CHARSET_PARAM.search(params)
    return media_type.strip().lower(), match.group(1).lower() if match else None


def looks_binary(head: bytes) -> bool:
    """Return True when head (the first bytes) is a known binary format or holds NUL bytes."""
    if any(head.startswith(bom) for bom, _ in _BOMS):
        return False  # UTF-16 text is full of NULs
    return head.startswith(_MAGIC) or b"\x00" in head


def choose_charset(body: bytes, declared: str | None) -> tuple[str | None, str]:
    """Return the charset to decode with and where it came from: bom, header, meta or xml.

    A declaration the bytes contradict is dropped: 'utf-8' over invalid UTF-8, or a
    non-Unicode charset over valid non-ASCII UTF-8 (servers' defaults, not the author's).
    Returns (None, '') when nothing usable is declared: the clean stage then detects.
    """
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name, "bom"
    head = body[:4096]
    meta = _META_CHARSET.search(head)
    xml = _XML_ENCODING.search(head)
    for label, origin in (
        (declared, "header"),
        (meta and meta.group(1), "meta"),
        (xml and xml.group(1), "xml"),
    ):
        if isinstance(label, bytes):
            label = label.decode("ascii", "replace")
        label = label.lower() if label else None
        if label and _fits(body, label):
            return label, origin
    return None, ""


def _fits(body: bytes, label: str) -> bool:
    try:
        info = codecs.lookup(label)
    except LookupError:
        return False
    if not getattr(info, "_is_text_encoding", True):
        return False  # rot13, base64 and friends are codecs too
    utf8 = _is_utf8(body)
    if info.name == "utf-8":
        return utf8
    # valid non-ASCII UTF-8 is almost never an accident: a legacy label over it is a default
    return not (utf8 and not body.isascii() and not info.name.startswith("utf-"))


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
