"""Hard-wrapped plain text: columns in any script, and paragraphs joined back at their wrap width."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

# Ideographs and kana fill about three Latin columns of text each, Hangul syllables two.
_WIDE = re.compile(
    r"[\u2e80-\u2fdf\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]"
)
_HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]")
# A wrapped line that opens a list item or a heading starts a paragraph of its own.
_ITEM = re.compile(r"^(?:[•·▪►*+-]|\d{1,3}[.)]|#{1,6})\s")
_PREFIX = re.compile(r"^[\s>]*")
_WRAP_SHARE = 0.6  # share of long consecutive lines that must be full at the wrap width
_WIDTHS = (30, 200)  # the wrap widths looked for, in columns


def span(text: str) -> int:
    """Return the line's length in Latin columns: ideographs and Hangul hold more per character."""
    return len(text) + 2 * len(_WIDE.findall(text)) + len(_HANGUL.findall(text))


def first_word(line: str) -> int:
    """Return the length of the first word of a line, after its indentation and quote marks."""
    return len(line[len(_PREFIX.match(line)[0]) :].split(maxsplit=1)[0])  # type: ignore[index]


def wrap_width(raw: Sequence[str]) -> int | None:
    """Return the width the text was hard-wrapped at, or None when its lines were not wrapped."""
    # (length of a line, length it would have with the next line's first word added), for
    # the lines that the next one may continue: not a blank line, a list item or a heading
    pairs = [
        (len(line.rstrip()), len(line.rstrip()) + 1 + first_word(following))
        for line, following in zip(raw, raw[1:], strict=False)
        if line.strip() and following.lstrip(" >") and not _ITEM.match(following.lstrip(" >"))
    ]
    # A wrapped line is full: the next line's first word would not have fitted after it. A
    # line is full at the widths from its length to its joined length, excluded: sweep them.
    opens = Counter(length for length, _ in pairs)
    closes = Counter(joined for _, joined in pairs)
    best, best_full, full = 0, 0, 0
    for width in range(_WIDTHS[1] + 1):
        full += opens[width] - closes[width]
        if full > best_full and width >= _WIDTHS[0]:
            best, best_full = width, full
    candidates = sum(1 for length, _ in pairs if length > best // 2)
    # Text laid out one paragraph a line has many lines longer than any wrap width.
    overflow = sum(1 for line in raw if len(line.rstrip()) > best and " " in line.strip())
    if best_full < 2 or best_full < _WRAP_SHARE * candidates or overflow > max(1, len(raw) // 50):
        return None
    return best


def unwrap(raw: Sequence[str]) -> list[str]:
    """Return the lines with hard-wrapped paragraphs joined back into one line each."""
    width = wrap_width(raw)
    if width is None:
        return list(raw)
    out: list[str] = []
    hanging = -1  # the indentation that continues the open paragraph; -1 when none is open
    previous = 0  # length of the previous line, 0 after a blank one
    for line in raw:
        indent = len(_PREFIX.match(line)[0])  # type: ignore[index]
        text = line[indent:].strip()
        full = bool(text) and previous <= width < previous + 1 + first_word(text)
        if full and indent == hanging and not _ITEM.match(text):
            joined = out[-1].rstrip()
            glue = "" if _WIDE.match(text) and _WIDE.match(joined[-1]) else " "
            out[-1] = joined + glue + text
        else:
            out.append(line)
            item = _ITEM.match(text)
            hanging = indent + (len(item[0]) if item else 0) if text else -1
        previous = len(line.rstrip()) if text else 0
    return out
