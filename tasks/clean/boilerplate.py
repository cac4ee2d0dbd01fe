"""Boilerplate removal for plain-text articles: title, author and body paragraphs from raw lines."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tasks.clean.phrases import (
    BIO_WORDS,
    BYLINE_LEAD,
    CAPTION_WORDS,
    CLOSERS,
    COMMENT_ACTION,
    COMMENT_BY,
    COMMENT_HEADER,
    DATE,
    MARKERS,
    NAME_PARTICLES,
    PHRASES,
    QUESTION_ENDS,
    STATEMENT_ENDS,
    STOP_WORDS,
)
from tasks.clean.unwrap import span, unwrap
from tasks.normalize import word_count

_BULLET = re.compile(r"^(?:[\s•·▪►*>]|#{1,6}\s)+")
_EDGE = re.compile(r"^[\W_]+|[\W_]+$")
_STATEMENT = re.compile(rf"[{re.escape(STATEMENT_ENDS)}][{re.escape(CLOSERS)}]*$")
_TERMINAL = re.compile(rf"(?:[{re.escape(STATEMENT_ENDS + QUESTION_ENDS)}][{re.escape(CLOSERS)}]*|[»\"”’])$")
# A line ending so goes on in the next one: never a headline.
_OPEN_END = re.compile(r"[.:;,،、，；：।。．｡۔]$")
_TITLE_OPENERS = "«\"“'„「『"
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_INITIAL = re.compile(r"[A-Z]\.")
_BYLINE = re.compile(rf"^(?:[^\W\d_][\w'’-]*\s+){{0,3}}?{BYLINE_LEAD}\s*:?\s+(?P<rest>.+)$", re.IGNORECASE)
_NAME_END = re.compile(
    r"\s*(?:[,|•·–—(/]|\s-\s|\s(?:le|am|on|el|il|em|w|the|veröffentlicht|publié|published|"
    r"publicado|pubblicato|opublikowano|updated|aktualisiert)(?!\w)|\d).*$",
    re.IGNORECASE,
)
# Letters of two scripts inside one word disguise spam from filters ("Аdvеrtіѕе" in Cyrillic).
_MIXED_SCRIPT = re.compile(r"[a-zA-Z][\u0400-\u04ff]|[\u0400-\u04ff][a-zA-Z]")
# Cyrillic letters drawn like Latin ones; Cyrillic text typed on a Latin keyboard has others too.
_HOMOGLYPHS = frozenset("аеорсухіјѕһԁԛԝАВЕКМНОРСТХІЈЅ")
_DISGUISED_SHARE = 0.3
_TRUNCATED = re.compile(r"(?:…|\.\.\.)$")
_BREADCRUMB = re.compile(r"(?:\s[>|›/]\s.*){2}")
# Word-level checks reuse the marker list: a short line holding "Download" is a button.
_WORD_MARKERS = tuple(p for reason, p in MARKERS if reason in {"navigation", "share", "ad"})

_STRONG = -3.0  # a cue at least this negative means the line is not trusted as body
_TITLE_WINDOW = 12  # headlines sit among the first lines of a page, after navigation
_NEAR_TITLE = 4  # a name-only byline sits next to its headline
_LONG = 200  # columns from which a recurring line is a paragraph rather than a source's template
_STOP_LANGUAGE = 0.12  # share of stop words from which a text is in a language the lists cover
_PROSE_SHARE = 0.7  # share of sentence lines from which a text is an article with little around it
_COMMENT_WINDOW = 10  # lines after a comments heading where replies, names and dates must show
_LETTERS = 0.5  # share of letters under which a line is figures and signs rather than prose


@dataclass(frozen=True, slots=True)
class CleanText:
    """An article's title, author and body once boilerplate lines are dropped."""

    title: str | None
    author: str | None
    body: str  # kept paragraphs joined with "\n"
    dropped: tuple[tuple[str, str], ...]  # (line, reason) for every line removed


@dataclass(frozen=True, slots=True)
class _Line:
    text: str
    norm: str
    block: int  # paragraphs separated by blank lines fall in different blocks


def _normalize(line: str) -> str:
    """Return the line casefolded, without bullets, with single spaces, for comparisons."""
    return " ".join(_BULLET.sub("", line).casefold().split())


def split_lines(text: str) -> list[_Line]:
    """Return the non-empty lines of the text, wrapped paragraphs joined, with the block of each."""
    lines: list[_Line] = []
    block = 0
    for raw in unwrap(text.splitlines()):
        stripped = _BULLET.sub("", raw).strip()
        if not stripped:
            block += 1
            continue
        lines.append(_Line(stripped, _normalize(stripped), block))
    return lines


def _sentence(text: str) -> bool:
    """Return whether the line is a whole sentence: a few words closed by a sentence end."""
    # An ellipsis cuts a teaser short rather than ending a sentence; menus and footers ask
    # questions ("Was this helpful?") as often as prose does.
    return bool(_STATEMENT.search(text)) and not _TRUNCATED.search(text) and word_count(text) >= 3


def _only_weak(text: str, cues: Sequence[tuple[float, str]]) -> bool:
    """Return whether the line's cues are too weak to take it out of a text made of sentences."""
    # A caption or a teaser cue convicts a fragment; a whole sentence needs a stronger one.
    floor = _STRONG if _sentence_like(text) else _STRONG + 0.5
    return all(w > floor for w, _ in cues)


def _sentence_like(text: str) -> bool:
    """Return whether the line ends as a sentence or a question does, with more than one word."""
    return bool(_TERMINAL.search(text)) and word_count(text) >= 2


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


def _stop_density(text: str) -> float:
    """Return the share of the text's words that are stop words of the covered languages."""
    words = _WORD.findall(text)
    return sum(w.casefold() in STOP_WORDS for w in words) / len(words) if words else 0.0


def _shape(text: str, stop_language: bool) -> float:
    """Return how much a line looks like running prose, from length, words, ending and stop words."""
    n = span(text)
    score = 2.0 if n >= 150 else 1.5 if n >= 80 else 0.5 if n >= 40 else -0.5 if n >= 20 else -1.5
    if word_count(text) <= 2:
        score -= 1.0
    # Scores, prices, timetables: figures and signs where prose has words, in any script.
    if _letter_share(text) < _LETTERS:
        score -= 1.0
    # A colon often introduces a quotation or a list, so it counts as neither ending.
    ending = 1.0 if _TERMINAL.search(text) else 0.0 if text.endswith((":", "：")) else -1.0
    if not stop_language:
        # Without stop words to tell prose from labels, the ending counts for more.
        return score + 1.5 * ending
    score += ending
    density = _stop_density(text)
    return score + (1.0 if density >= 0.2 else 0.5 if density >= 0.1 else -1.0)


def _cues(line: _Line, count: int, repeated: frozenset[str]) -> list[tuple[float, str]]:
    """Return the weighted boilerplate cues a line shows on its own, with their reasons."""
    cues: list[tuple[float, str]] = []
    key = _EDGE.sub("", line.norm)
    marker = next((reason for reason, p in MARKERS if p.fullmatch(key)), None)
    if marker:
        cues.append((-8.0, marker))
    cues.extend((-5.0, reason) for reason, p in PHRASES if p.search(line.text))
    if line.norm in repeated:
        # A long paragraph recurring in a source is more often a story that came twice than a template.
        cues.append((-8.0 if span(line.text) < _LONG else -2.0, "repeated_across_source"))
    words = _WORD.findall(line.text)
    unpunctuated = not _TERMINAL.search(line.text)
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


def _name(text: str) -> str | None:
    """Return the text when it is a personal name of two to four capitalised words."""
    text = text.strip(" ,;:|-–—")
    if len(text) > 50 or any(c.isdigit() for c in text):
        return None
    tokens = text.split()
    names = 0
    for i, token in enumerate(tokens):
        if token in NAME_PARTICLES and 0 < i < len(tokens) - 1:
            continue
        folded = token.casefold()
        proper = (
            token.istitle()
            and _WORD.fullmatch(token)
            and folded not in STOP_WORDS
            and not any(p.fullmatch(folded) for _, p in MARKERS)
        )
        if not (proper or _INITIAL.fullmatch(token)):
            return None
        names += 1
    return text if 2 <= names <= 4 else None


def _byline(text: str) -> str | None:
    """Return the author named by an explicit byline such as "Par X" or "By X, Reuters"."""
    match = _BYLINE.match(text) if len(text) < 120 else None
    return _name(_NAME_END.sub("", match["rest"])) if match else None


def _title_like(line: _Line) -> bool:
    """Return whether a line has the shape of a headline."""
    text = line.text
    first = text[0]
    return (
        20 <= span(text) <= 200
        and not _OPEN_END.search(text)
        and word_count(text) >= 3
        # Scripts without case start headlines with any letter.
        and (first.isdigit() or first in _TITLE_OPENERS or (first.isalpha() and not first.islower()))
        and not _BREADCRUMB.search(text)
        and _name(text) is None
        and _byline(text) is None
    )


def _find_title(
    lines: Sequence[_Line],
    cues: Sequence[list[tuple[float, str]]],
    counts: Counter[str],
    first_anchor: int,
) -> int | None:
    """Return the index of the headline among the leading lines, or None when none fits."""
    best, best_score = None, 0.0
    for i in range(min(first_anchor, _TITLE_WINDOW)):
        line = lines[i]
        if not _title_like(line) or any(r != "repeated_in_document" for _, r in cues[i]):
            continue
        words = _WORD.findall(line.text)
        # A headline repeated further down is the strongest sign; prose words and length help.
        score = 1.0 + 2.0 * (counts[line.norm] > 1) - 0.05 * i
        score += 1.0 * any(w.casefold() in STOP_WORDS for w in words) + 0.5 * (len(words) >= 4)
        if score > best_score:
            best, best_score = i, score
    return best


def _find_bylines(lines: Sequence[_Line], title: int | None) -> tuple[str | None, set[int]]:
    """Return the author and the indices of the byline lines that name them."""
    author: str | None = None
    bylines: set[int] = set()
    for i, line in enumerate(lines):
        explicit = _byline(line.text)
        named = explicit or _name(line.text)
        if named is None:
            continue
        # Without a headline to stand next to, a bare name is as likely a menu entry.
        near = title is not None and abs(i - title) <= _NEAR_TITLE
        if explicit or near:
            author = author or named
        if author and named.casefold() == author.casefold():
            bylines.add(i)
    return author, bylines


def _caption_lines(
    lines: Sequence[_Line], credits: Iterable[int], blank_separated: bool, protected: set[int]
) -> set[int]:
    """Return the lines just above a photo credit, in its paragraph: the picture's caption."""
    captions: set[int] = set()
    # Without blank lines to mark paragraphs, only an unpunctuated line above counts: a
    # sentence there is as likely the article's own paragraph.
    reach, longest = (2, 300) if blank_separated else (1, 200)
    for credit in credits:
        j = credit - 1
        while j >= 0 and credit - j <= reach and j not in protected:
            line = lines[j]
            if line.block != lines[credit].block or len(line.text) >= longest:
                break
            if not blank_separated and _TERMINAL.search(line.text):
                break
            captions.add(j)
            j -= 1
    return captions


def _comment_sign(text: str) -> str | None:
    """Return which part of a reader comment the line is (its author, a button, its date), or None."""
    if COMMENT_BY.match(text):
        return "author"
    if COMMENT_ACTION.fullmatch(_EDGE.sub("", _normalize(text))):
        return "button"
    if len(text) <= 60 and DATE.search(text) and word_count(text) <= 8:
        return "date"
    return None


def _comments_start(lines: Sequence[_Line], after: int) -> int | None:
    """Return the index of the line opening the reader comments after the body began, or None."""
    for i in range(after + 1, len(lines)):
        text = lines[i].text
        key = _EDGE.sub("", lines[i].norm)
        # "0 comments" announces that none follow.
        heading = len(text) < 120 and COMMENT_HEADER.fullmatch(key) and not key.startswith("0 ")
        if not (heading or COMMENT_BY.match(text)):
            continue
        signs = [_comment_sign(line.text) for line in lines[i + 1 : i + 1 + _COMMENT_WINDOW]]
        found = [sign for sign in signs if sign]
        # Dates and buttons alone also follow a list of related articles.
        if len(found) >= 2 and ("author" in found or found.count("button") >= 2):
            return i
    return None


def clean_plain_text(text: str, *, repeated: frozenset[str] = frozenset()) -> CleanText | None:
    """Return the cleaned article, or None when no body text is left."""
    lines = split_lines(text)
    if not lines:
        return None
    counts = Counter(line.norm for line in lines)
    cues = [_cues(line, counts[line.norm], repeated) for line in lines]
    stop_language = _stop_density(text) >= _STOP_LANGUAGE
    shape = [_shape(line.text, stop_language) for line in lines]

    def trusted(i: int) -> bool:
        return shape[i] >= 3.0 and all(w > _STRONG for w, _ in cues[i])

    first_anchor = next((i for i in range(len(lines)) if trusted(i)), len(lines))
    title = _find_title(lines, cues, counts, first_anchor)
    author, bylines = _find_bylines(lines, title)
    fixed: dict[int, str] = {i: "byline" for i in bylines}
    if title is not None:
        fixed.update({i: "repeated_title" for i, line in enumerate(lines) if line.norm == lines[title].norm})
        fixed[title] = "title"
    # A byline after the body opens the author's bio: their blurb and links to their pieces.
    closing = [i for i in bylines if i > first_anchor]
    if closing and author:
        for i in range(min(closing) + 1, len(lines)):
            if BIO_WORDS.search(lines[i].text) or author.casefold() in lines[i].norm:
                cues[i].append((-6.0, "bio"))
    comments = _comments_start(lines, first_anchor)
    if comments is not None:
        fixed.update({i: "comments" for i in range(comments, len(lines)) if i not in fixed})
    credits = [i for i, c in enumerate(cues) if any(r == "credit" for _, r in c)]
    blank_separated = lines[-1].block > 0
    for i in _caption_lines(lines, credits, blank_separated, set(fixed)):
        cues[i].append((-6.0, "caption"))

    open_lines = [i for i in range(len(lines)) if i not in fixed]
    last_anchor = max((i for i in open_lines if trusted(i)), default=-1)
    keep: dict[int, bool] = {}
    score: dict[int, float] = {}
    # A text made of sentences is an article: only explicit cues take lines out of it.
    prose = sum(_sentence_like(line.text) for line in lines) >= _PROSE_SHARE * len(lines)
    for i in open_lines:
        outside = i < first_anchor or i > last_anchor
        # Menus and footers around the body are fragments; a whole sentence there is prose.
        penalty = 0.0 if _sentence(lines[i].text) else 1.0
        score[i] = shape[i] + sum(w for w, _ in cues[i]) - penalty * outside
        keep[i] = score[i] > 0 or (prose and _only_weak(lines[i].text, cues[i]))
        if not keep[i]:
            fallback = "navigation" if outside else "short_fragment"
            fixed[i] = min(cues[i])[1] if cues[i] else fallback
    # Context decides the borderline lines, on the first-pass decisions: a subheading sits
    # between kept paragraphs, a teaser headline between dropped menu entries.
    scored_out = {i for i in open_lines if not keep[i]}
    for i in open_lines:
        if len(lines[i].text) >= 150:
            continue
        sentence = _sentence(lines[i].text)
        sandwiched = keep.get(i - 1) and keep.get(i + 1)
        beside = keep.get(i - 1) or keep.get(i + 1)
        weak = all(w > _STRONG for w, _ in cues[i])
        if keep[i] and score[i] <= 1.0 and {i - 1, i + 1} <= scored_out and not (sentence or prose):
            fixed[i] = "short_fragment"
        elif fixed.get(i) == "short_fragment" and sandwiched and word_count(lines[i].text) > 1:
            del fixed[i]
        elif not keep[i] and sentence and beside and weak:
            # A short sentence next to the body is part of it, whatever its length.
            del fixed[i]

    body = "\n".join(line.text for i, line in enumerate(lines) if i not in fixed)
    if not body:
        return None
    return CleanText(
        title=lines[title].text if title is not None else None,
        author=author,
        body=body,
        dropped=tuple((lines[i].text, fixed[i]) for i in sorted(fixed)),
    )
