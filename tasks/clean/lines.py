"""Scoring plain-text lines in any script: the cues that make a line body or boilerplate."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from tasks.clean.phrases import (
    CAPTION_WORDS,
    CLOSERS,
    DATE,
    MARKERS,
    PHRASES,
    QUESTION_ENDS,
    STATEMENT_ENDS,
    STOP_WORDS,
)
from tasks.clean.unwrap import span, unwrap
from tasks.normalize import word_count

_BULLET = re.compile(r"^(?:[\s•·▪►*>]|#{1,6}\s)+")
EDGE = re.compile(r"^[\W_]+|[\W_]+$")
_STATEMENT = re.compile(rf"[{re.escape(STATEMENT_ENDS)}][{re.escape(CLOSERS)}]*$")
TERMINAL = re.compile(rf"(?:[{re.escape(STATEMENT_ENDS + QUESTION_ENDS)}][{re.escape(CLOSERS)}]*|[»\"”’])$")
WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
# Letters of two scripts inside one word disguise spam from filters ("Аdvеrtіѕе" in Cyrillic).
_MIXED_SCRIPT = re.compile(r"[a-zA-Z][\u0400-\u04ff]|[\u0400-\u04ff][a-zA-Z]")
# Cyrillic letters drawn like Latin ones; Cyrillic text typed on a Latin keyboard has others too.
_HOMOGLYPHS = frozenset("аеорсухіјѕһԁԛԝАВЕКМНОРСТХІЈЅ")
_DISGUISED_SHARE = 0.3
_TRUNCATED = re.compile(r"(?:…|\.\.\.)$")
BREADCRUMB = re.compile(r"(?:\s[>|›/]\s.*){2}")
# Word-level checks reuse the marker list: a short line holding "Download" is a button.
_WORD_MARKERS = tuple(p for reason, p in MARKERS if reason in {"navigation", "share", "ad"})
STRONG = -3.0  # a cue at least this negative means the line is not trusted as body
_LONG = 200  # columns from which a recurring line is a paragraph rather than a source's template
STOP_LANGUAGE = 0.12  # share of stop words from which a text is in a language the lists cover
PROSE_SHARE = 0.7  # share of sentence lines from which a text is an article with little around it
_LETTERS = 0.5  # share of letters under which a line is figures and signs rather than prose


@dataclass(frozen=True, slots=True)
class Line:
    text: str
    norm: str
    block: int  # paragraphs separated by blank lines fall in different blocks


def normalize_line(line: str) -> str:
    """Return the line casefolded, without bullets, with single spaces, for comparisons."""
    return " ".join(_BULLET.sub("", line).casefold().split())


def split_lines(text: str) -> list[Line]:
    """Return the non-empty lines of the text, wrapped paragraphs joined, with the block of each."""
    lines: list[Line] = []
    block = 0
    for raw in unwrap(text.splitlines()):
        stripped = _BULLET.sub("", raw).strip()
        if not stripped:
            block += 1
            continue
        lines.append(Line(stripped, normalize_line(stripped), block))
    return lines


def is_sentence(text: str) -> bool:
    """Return whether the line is a whole sentence: a few words closed by a sentence end."""
    # An ellipsis cuts a teaser short rather than ending a sentence; menus and footers ask
    # questions ("Was this helpful?") as often as prose does.
    return bool(_STATEMENT.search(text)) and not _TRUNCATED.search(text) and word_count(text) >= 3


def only_weak(text: str, cues: Sequence[tuple[float, str]]) -> bool:
    """Return whether the line's cues are too weak to take it out of a text made of sentences."""
    # A caption or a teaser cue convicts a fragment; a whole sentence needs a stronger one.
    floor = STRONG if sentence_like(text) else STRONG + 0.5
    return all(w > floor for w, _ in cues)


def sentence_like(text: str) -> bool:
    """Return whether the line ends as a sentence or a question does, with more than one word."""
    return bool(TERMINAL.search(text)) and word_count(text) >= 2


def _disguised(text: str) -> bool:
    """Return whether many words mix Latin letters with Cyrillic look-alikes, as spam does."""
    if not _MIXED_SCRIPT.search(text):
        return False
    words = text.split()
    # Cyrillic typed on a Latin keyboard mixes in Latin letters, but keeps Cyrillic-only ones.
    fakes = sum(
        1
        for w in words
        if _MIXED_SCRIPT.search(w) and all(c in _HOMOGLYPHS for c in w if "\u0400" <= c <= "\u04ff")
    )
    return fakes >= 2 and fakes >= _DISGUISED_SHARE * len(words)


def _letter_share(text: str) -> float:
    """Return the share of the line's visible characters that are letters, combining marks included."""
    visible = [c for c in text if not c.isspace()]
    return sum(unicodedata.category(c)[0] in "LM" for c in visible) / len(visible) if visible else 0.0


def stop_density(text: str) -> float:
    """Return the share of the text's words that are stop words of the covered languages."""
    words = WORD.findall(text)
    return sum(w.casefold() in STOP_WORDS for w in words) / len(words) if words else 0.0


def shape_score(text: str, stop_language: bool) -> float:
    """Return how much a line looks like running prose, from length, words, ending and stop words."""
    n = span(text)
    score = 2.0 if n >= 150 else 1.5 if n >= 80 else 0.5 if n >= 40 else -0.5 if n >= 20 else -1.5
    if word_count(text) <= 2:
        score -= 1.0
    # Scores, prices, timetables: figures and signs where prose has words, in any script.
    if _letter_share(text) < _LETTERS:
        score -= 1.0
    # A colon often introduces a quotation or a list, so it counts as neither ending.
    ending = 1.0 if TERMINAL.search(text) else 0.0 if text.endswith((":", "：")) else -1.0
    if not stop_language:
        # Without stop words to tell prose from labels, the ending counts for more.
        return score + 1.5 * ending
    score += ending
    density = stop_density(text)
    return score + (1.0 if density >= 0.2 else 0.5 if density >= 0.1 else -1.0)


def line_cues(line: Line, count: int, repeated: frozenset[str]) -> list[tuple[float, str]]:
    """Return the weighted boilerplate cues a line shows on its own, with their reasons."""
    cues: list[tuple[float, str]] = []
    key = EDGE.sub("", line.norm)
    marker = next((reason for reason, p in MARKERS if p.fullmatch(key)), None)
    if marker:
        cues.append((-8.0, marker))
    cues.extend((-5.0, reason) for reason, p in PHRASES if p.search(line.text))
    if line.norm in repeated:
        # A long paragraph recurring in a source is more often a story that came twice than a template.
        cues.append((-8.0 if span(line.text) < _LONG else -2.0, "repeated_across_source"))
    words = WORD.findall(line.text)
    unpunctuated = not TERMINAL.search(line.text)
    if not marker and len(words) <= 4:
        content = [w.casefold() for w in words if w.casefold() not in STOP_WORDS]
        if any(p.fullmatch(w) for w in content for p in _WORD_MARKERS):
            cues.append((-3.0, "navigation"))
    if unpunctuated and len(line.text) < 120 and CAPTION_WORDS.search(line.text):
        cues.append((-2.5, "caption"))
    # Teasers for other articles are cut short with an ellipsis.
    if len(line.text) < 150 and _TRUNCATED.search(line.text):
        cues.append((-2.5, "related"))
    if _disguised(line.text):
        cues.append((-5.0, "ad"))
    if len(line.text) < 80 and DATE.search(line.text) and (unpunctuated or word_count(line.text) <= 3):
        cues.append((-1.5, "date"))
    if count > 1 and len(line.text) < 100:
        cues.append((-1.5, "repeated_in_document"))
    return cues
