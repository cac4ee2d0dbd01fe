"""Lines a source repeats across its stories: its template, never the body of a story sent twice."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from itertools import combinations

from tasks.clean.lines import split_lines
from tasks.clean.unwrap import span

_SHARED_MIN = 40  # columns from which a line two files share is evidence they hold one story
_SAME_STORY = 0.6  # share of the smaller file's long lines that the other holds: one story
_STORY_MIN = 150  # columns two files must share to hold one story: a footer line is not one
_PAIR_CAP = 25  # a line in more files than this and a quarter of the source is its template


def _story_groups(docs: Sequence[frozenset[str]]) -> list[int]:
    """Return a group number per document: documents holding one story (copies, edits) share it."""
    long_lines = [{line for line in doc if span(line) >= _SHARED_MIN} for doc in docs]
    weight = [sum(map(len, doc)) for doc in long_lines]
    holders: dict[str, list[int]] = defaultdict(list)
    for n, doc in enumerate(long_lines):
        for line in doc:
            holders[line].append(n)
    # A line in most files of a large source is its template, not a story: it pairs no files.
    cap = max(_PAIR_CAP, len(docs) // 4)
    shared: Counter[tuple[int, int]] = Counter()
    for line, held in holders.items():
        if 1 < len(held) <= cap:
            for pair in combinations(held, 2):
                shared[pair] += len(line)
    group = list(range(len(docs)))

    def root(n: int) -> int:
        while group[n] != n:
            group[n] = group[group[n]]
            n = group[n]
        return n

    for (a, b), common in shared.items():
        if common >= max(_STORY_MIN, _SAME_STORY * min(weight[a], weight[b])):
            group[root(a)] = root(b)
    return [root(n) for n in range(len(docs))]


def repeated_lines(texts: Iterable[str], *, min_docs: int = 3) -> frozenset[str]:
    """Return normalized lines found in at least min_docs different stories of the texts (source
    boilerplate); lines shared only by copies of one story are its body, not boilerplate."""
    docs = [frozenset(line.norm for line in split_lines(text)) for text in texts]
    stories: dict[str, set[int]] = defaultdict(set)
    for doc, group in zip(docs, _story_groups(docs), strict=True):
        for line in doc:
            stories[line].add(group)
    return frozenset(line for line, groups in stories.items() if len(groups) >= min_docs)
