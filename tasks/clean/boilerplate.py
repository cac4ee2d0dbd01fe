"""Boilerplate removal for plain-text articles: title, author and body paragraphs from raw lines."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tasks.clean.lines import (
    BREADCRUMB,
    EDGE,
    PROSE_SHARE,
    STOP_LANGUAGE,
    STRONG,
    TERMINAL,
    WORD,
    Line,
    is_sentence,
    line_cues,
    normalize_line,
    only_weak,
    sentence_like,
    shape_score,
    split_lines,
    stop_density,
)
from tasks.clean.phrases import (
    BIO_WORDS,
    BYLINE_LEAD,
    COMMENT_ACTION,
    COMMENT_BY,
    COMMENT_HEADER,
    DATE,
    MARKERS,
    NAME_PARTICLES,
    STOP_WORDS,
)
from tasks.clean.unwrap import span
from tasks.normalize import word_count

# A line ending so goes on in the next one: never a headline.
_OPEN_END = re.compile(r"[.:;,،、，；：।。．｡۔]$")
_TITLE_OPENERS = "«\"“'„「『"
_INITIAL = re.compile(r"[A-Z]\.")
_BYLINE = re.compile(rf"^(?:[^\W\d_][\w'’-]*\s+){{0,3}}?{BYLINE_LEAD}\s*:?\s+(?P<rest>.+)$", re.IGNORECASE)
_NAME_END = re.compile(
    r"\s*(?:[,|•·–—(/]|\s-\s|\s(?:le|am|on|el|il|em|w|the|veröffentlicht|publié|published|"
    r"publicado|pubblicato|opublikowano|updated|aktualisiert)(?!\w)|\d).*$",
    re.IGNORECASE,
)

_TITLE_WINDOW = 12  # headlines sit among the first lines of a page, after navigation
_NEAR_TITLE = 4  # a name-only byline sits next to its headline
_COMMENT_WINDOW = 10  # lines after a comments heading where replies, names and dates must show


@dataclass(frozen=True, slots=True)
class CleanText:
    """An article's title, author and body once boilerplate lines are dropped."""

    title: str | None
    author: str | None
    body: str  # kept paragraphs joined with "\n"
    dropped: tuple[tuple[str, str], ...]  # (line, reason) for every line removed


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
            and WORD.fullmatch(token)
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


def _title_like(line: Line) -> bool:
    """Return whether a line has the shape of a headline."""
    text = line.text
    first = text[0]
    return (
        20 <= span(text) <= 200
        and not _OPEN_END.search(text)
        and word_count(text) >= 3
        # Scripts without case start headlines with any letter.
        and (first.isdigit() or first in _TITLE_OPENERS or (first.isalpha() and not first.islower()))
        and not BREADCRUMB.search(text)
        and _name(text) is None
        and _byline(text) is None
    )


def _find_title(
    lines: Sequence[Line],
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
        words = WORD.findall(line.text)
        # A headline repeated further down is the strongest sign; prose words and length help.
        score = 1.0 + 2.0 * (counts[line.norm] > 1) - 0.05 * i
        score += 1.0 * any(w.casefold() in STOP_WORDS for w in words) + 0.5 * (len(words) >= 4)
        if score > best_score:
            best, best_score = i, score
    return best


def _find_bylines(lines: Sequence[Line], title: int | None) -> tuple[str | None, set[int]]:
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
    lines: Sequence[Line], credits: Iterable[int], blank_separated: bool, protected: set[int]
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
            if not blank_separated and TERMINAL.search(line.text):
                break
            captions.add(j)
            j -= 1
    return captions


def _comment_sign(text: str) -> str | None:
    """Return which part of a reader comment the line is (its author, a button, its date), or None."""
    if COMMENT_BY.match(text):
        return "author"
    if COMMENT_ACTION.fullmatch(EDGE.sub("", normalize_line(text))):
        return "button"
    if len(text) <= 60 and DATE.search(text) and word_count(text) <= 8:
        return "date"
    return None


def _comments_start(lines: Sequence[Line], after: int) -> int | None:
    """Return the index of the line opening the reader comments after the body began, or None."""
    for i in range(after + 1, len(lines)):
        text = lines[i].text
        key = EDGE.sub("", lines[i].norm)
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
    cues = [line_cues(line, counts[line.norm], repeated) for line in lines]
    stop_language = stop_density(text) >= STOP_LANGUAGE
    shape = [shape_score(line.text, stop_language) for line in lines]

    def trusted(i: int) -> bool:
        return shape[i] >= 3.0 and all(w > STRONG for w, _ in cues[i])

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
    prose = sum(sentence_like(line.text) for line in lines) >= PROSE_SHARE * len(lines)
    for i in open_lines:
        outside = i < first_anchor or i > last_anchor
        # Menus and footers around the body are fragments; a whole sentence there is prose.
        penalty = 0.0 if is_sentence(lines[i].text) else 1.0
        score[i] = shape[i] + sum(w for w, _ in cues[i]) - penalty * outside
        keep[i] = score[i] > 0 or (prose and only_weak(lines[i].text, cues[i]))
        if not keep[i]:
            fallback = "navigation" if outside else "short_fragment"
            fixed[i] = min(cues[i])[1] if cues[i] else fallback
    # Context decides the borderline lines, on the first-pass decisions: a subheading sits
    # between kept paragraphs, a teaser headline between dropped menu entries.
    scored_out = {i for i in open_lines if not keep[i]}
    for i in open_lines:
        if len(lines[i].text) >= 150:
            continue
        sentence = is_sentence(lines[i].text)
        sandwiched = keep.get(i - 1) and keep.get(i + 1)
        beside = keep.get(i - 1) or keep.get(i + 1)
        weak = all(w > STRONG for w, _ in cues[i])
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
