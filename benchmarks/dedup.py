"""Near-duplicates on variant sets built from real articles: precision and recall per variant type,
the old rule (Jaccard >= 0.70) against the new one (Jaccard, or containment), in the same run."""

from __future__ import annotations

import argparse
import gzip
import hashlib
import itertools
import json
import random
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

import warehouse
from benchmarks.site import corpus_dir
from tasks.configfile import PROJECT_ROOT
from tasks.dedup import BANDS, ROWS, Known, NearRule, classify, estimates, shingle_hashes, sign
from tasks.load import load_batches
from tasks.lookup import lookup_known
from tasks.normalize import article_id, content_hash
from tasks.prepare import prepare_all, prepare_document
from tasks.records import Article, Prepared, RawDocument, Source
from tasks.settings import Settings
from warehouse.ledger import start_run

RESULTS = Path(__file__).resolve().parent / "results" / "dedup.json"
NOW = datetime(2026, 12, 1, tzinfo=UTC)
OLD = NearRule(0.70, 2.0)  # the rule before containment: Jaccard only
# The variant types the goals hold for; reworded_more (one sentence in five) is reported beyond them.
GOAL = ("paragraph_added", "paragraph_removed", "reworded", "header_footer", "truncated", "extended")
# Edits that leave a pair's texts about the same size: the Jaccard test's job, and the only test
# for signatures stored before shingle counts were kept.
SYMMETRIC = ("paragraph_added", "paragraph_removed", "reworded", "header_footer")
RECALL_FLOOR = 0.97  # the goal (0.95) plus a margin for the other half, when choosing thresholds
THRESHOLDS = [round(float(t), 2) for t in np.arange(0.50, 0.951, 0.05)]
CONTAINMENTS = [round(float(c), 2) for c in np.arange(0.60, 0.951, 0.05)]
JACCARD_FLOORS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5)
SHINGLE_FLOORS = (0, 20, 40, 60, 80, 100, 130)
MAX_WORDS = 2000  # longer stories are cut to their start: signing dominates the run time
BATCH = 200  # the flow's batch size on the reference machine

# Lines a re-publisher adds or swaps: datelines, kickers, newsletter and copyright notices.
HEADERS = (
    "EXCLUSIVE: updated at 14:32, first published this morning",
    "Breaking news - live coverage continues below",
    "Aktualisiert am 12. März um 09:15 Uhr",
    "Mis à jour le 3 avril à 18 h 02 - article réservé aux abonnés",
    "From our correspondent, with agencies",
    "Sponsored - Reading time 4 minutes",
)
FOOTERS = (
    "Sign up for our daily newsletter to get the best stories delivered to your inbox every morning.",
    "Copyright 2026 The Daily Courier. All rights reserved. This material may not be published, "
    "broadcast, rewritten or redistributed.",
    "Share this article on Facebook, Twitter, LinkedIn or by email. Related: more stories from this "
    "section, most read, editor's picks.",
    "Mehr zum Thema: Lesen Sie auch unsere Analyse. Teilen Sie diesen Artikel auf Facebook oder per E-Mail.",
    "Cet article vous a plu ? Abonnez-vous à notre lettre d'information pour recevoir nos articles.",
    "Have a tip or a story idea? Contact our newsroom. Comments are closed for this article.",
)


@dataclass(frozen=True, slots=True)
class Story:
    """One original text, the host it came from (for same-site pairs) and its half."""

    key: str
    text: str
    host: str | None
    half: str  # 'tune' or 'test', by a hash of its host (a site's pages stay together) or key


def _story(key: str, text: str, host: str | None) -> Story:
    half = hashlib.blake2b((host or key).encode(), digest_size=1).digest()[0] % 2
    return Story(key, _first_words(text, MAX_WORDS), host, ("tune", "test")[half])


def _cleaned(uri: str, body: bytes) -> str | None:
    """The pipeline's article text of an HTML page, or None when it would be quarantined."""
    raw = RawDocument("bench", uri, body, "text/html", NOW, final_url=uri)
    result = prepare_document(raw, frozenset(), Settings().prepare_config(NOW, "bench"))
    return result.article.text if isinstance(result, Prepared) else None


def load_stories(pages: int) -> tuple[list[Story], dict[str, int]]:
    """Return the stories (seeds, WCXB article truth, cleaned WCXB pages of the hosts with several
    pages, a sample of cleaned corpus pages), each text once, and how many came from where."""
    stories = [
        _story(f"seeds/{p.name}", p.read_text("utf-8"), None)
        for p in sorted((PROJECT_ROOT / "seeds").glob("*.txt"))
    ]
    counts: Counter[str] = Counter(seeds=len(stories))
    root = corpus_dir() / "wcxb-dev" / "dev"
    by_host: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for path in sorted((root / "ground-truth").glob("*.json")):
        truth = json.loads(path.read_text("utf-8"))
        if "url" in truth:
            by_host[urlparse(truth["url"]).hostname or ""].append(truth)
    for host, group in sorted(by_host.items()):
        for truth in group:
            key = f"wcxb/{truth['file_id']}"
            if len(group) > 1:  # several pages of one site: the cleaned text, where templates show
                text = _cleaned(
                    truth["url"], gzip.decompress((root / "html" / f"{key[5:]}.html.gz").read_bytes())
                )
                counts["wcxb_same_site" if text else "wcxb_same_site_quarantined"] += 1
                stories += [_story(key, text, host)] if text else []
            elif truth["_internal"]["page_type"]["primary"] == "article":
                text = truth["ground_truth"].get("main_content") or ""
                counts["wcxb_articles"] += 1
                stories.append(_story(key, text, None))
    urls = {
        v["file"]: u for u, v in json.loads((corpus_dir() / "pages" / "evaldata.json").read_text()).items()
    }
    files = sorted((corpus_dir() / "pages" / "web").glob("*.html.gz"))
    for path in random.Random(7).sample(files, min(pages, len(files))):
        name = path.name.removesuffix(".gz")
        text = _cleaned(urls.get(name, f"http://pages.example/{name}"), gzip.decompress(path.read_bytes()))
        counts["pages" if text else "pages_quarantined"] += 1
        stories += [_story(f"pages/{name}", text, None)] if text else []
    kept = _distinct([s for s in stories if _words(s.text) >= Settings().min_words])
    counts["dropped_short_or_same_text"] = len(stories) - len(kept)
    return kept, dict(counts)


def _distinct(stories: list[Story]) -> list[Story]:
    """Drop a story whose word shingles are exactly another's: the same page under two URLs
    (docs/18 and docs/current, a trailing slash) is one story, stored as a content duplicate."""
    seen: set[frozenset[int]] = set()
    kept = []
    for story in stories:
        shingles = frozenset(shingle_hashes(story.text).tolist())
        if shingles not in seen:
            seen.add(shingles)
            kept.append(story)
    return kept


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n+", text) if p.strip()]


def _words(text: str) -> int:
    return len(text.split())


def _first_words(text: str, budget: int) -> str:
    kept = []
    for para in _paragraphs(text):
        words = para.split()[: max(0, budget)]
        budget -= len(words)
        kept += [" ".join(words)] if words else []
    return "\n".join(kept)


def paragraph_added(story: Story, rng: random.Random, pool: Sequence[str]) -> str:
    """Insert a paragraph of another story (20-100 words) at a random place."""
    paras = _paragraphs(story.text)
    paras.insert(rng.randrange(len(paras) + 1), rng.choice(pool))
    return "\n".join(paras)


def paragraph_removed(story: Story, rng: random.Random, pool: Sequence[str]) -> str | None:
    """Remove one paragraph holding at most a third of the words; None with no such paragraph."""
    paras = _paragraphs(story.text)
    small = [i for i, p in enumerate(paras) if _words(p) <= _words(story.text) / 3]
    if len(paras) < 2 or not small:
        return None
    drop = rng.choice(small)
    return "\n".join(p for i, p in enumerate(paras) if i != drop)


def reworded(story: Story, rng: random.Random, pool: Sequence[str], share: float = 0.1) -> str:
    """Reword one sentence in ten (at least one): every fourth word replaced by another of the
    text's own words, which changes every shingle of the sentence."""
    vocabulary = story.text.split()
    paras = [re.split(r"(?<=[.!?])\s+", p) for p in _paragraphs(story.text)]
    places = [(i, j) for i, p in enumerate(paras) for j in range(len(p))]
    for i, j in rng.sample(places, max(1, round(len(places) * share))):
        words = paras[i][j].split()
        paras[i][j] = " ".join(rng.choice(vocabulary) if k % 4 == 1 else w for k, w in enumerate(words))
    return "\n".join(" ".join(p) for p in paras)


def reworded_more(story: Story, rng: random.Random, pool: Sequence[str]) -> str:
    """Reword one sentence in five (at least one): a heavier edit, beyond the goals."""
    return reworded(story, rng, pool, share=0.2)


def header_footer(story: Story, rng: random.Random, pool: Sequence[str]) -> str:
    """Swap header and footer: a short first or last line is replaced, else one is added."""
    paras = _paragraphs(story.text)
    body = paras[1:] if len(paras) > 2 and _words(paras[0]) <= 15 else paras
    body = body[:-1] if len(body) > 2 and _words(body[-1]) <= 25 else body
    return "\n".join([rng.choice(HEADERS), *body, rng.choice(FOOTERS)])


def truncated(story: Story, rng: random.Random, pool: Sequence[str]) -> str:
    """Keep the first 50-70 % of the words, paragraph breaks included."""
    return _first_words(story.text, round(_words(story.text) * rng.uniform(0.5, 0.7)))


def extended(story: Story, rng: random.Random, pool: Sequence[str]) -> str:
    """Append paragraphs of other stories, the last one cut, until the text has grown by 40-100 %."""
    missing = round(_words(story.text) * rng.uniform(0.4, 1.0))
    paras = _paragraphs(story.text)
    while missing > 0:
        extra = rng.choice(pool).split()[:missing]
        paras.append(" ".join(extra))
        missing -= len(extra)
    return "\n".join(paras)


VARIANTS: dict[str, Callable[[Story, random.Random, Sequence[str]], str | None]] = {
    "paragraph_added": paragraph_added,
    "paragraph_removed": paragraph_removed,
    "reworded": reworded,
    "reworded_more": reworded_more,
    "header_footer": header_footer,
    "truncated": truncated,
    "extended": extended,
}


def make_copies(stories: Sequence[Story], min_words: int) -> tuple[dict[str, dict[str, str]], Counter[str]]:
    """Return each variant type's copies (story key -> text), leaving out and counting the copies
    the pipeline would quarantine as too short; the same for the same corpus."""
    pool = [p for s in stories for p in _paragraphs(s.text) if 20 <= _words(p) <= 100]
    copies: dict[str, dict[str, str]] = {kind: {} for kind in VARIANTS}
    skipped: Counter[str] = Counter()
    for story, (kind, make) in itertools.product(stories, VARIANTS.items()):
        rng = random.Random(f"{story.key}/{kind}")
        text = make(story, rng, [p for p in rng.sample(pool, 50) if p not in story.text])
        if text is None or _words(text) < min_words:
            skipped[kind] += 1
        else:
            copies[kind][story.key] = text
    return copies, skipped


def prepared(key: str, text: str) -> Prepared:
    """A prepared article of this text under this key, signed as the pipeline signs it."""
    digest = content_hash(text)
    unknown = dict.fromkeys(f.name for f in fields(Article))  # what a bare text leaves unknown
    article = Article(
        **unknown
        | {
            "article_id": article_id(None, digest),
            "source_id": "bench",
            "raw_uri": key,
            "language": "und",
            "language_prob": 0.0,
            "text": text,
            "word_count": _words(text),
            "content_hash": digest,
            "tags": (),
            "fetched_at": NOW,
            "run_id": "bench",
        }
    )
    return Prepared(article, b"", "text/plain", *sign(text))


@dataclass(frozen=True, slots=True)
class Pair:
    """Two texts as deduplication sees them (tasks.dedup.estimates), whether LSH proposes one
    for the other (64 bands of 2 rows now, 32 of 4 before), and the containment the shingle
    counts alone would estimate, J / (1 + J) * (|A| + |B|) / min(|A|, |B|), for comparison."""

    jaccard: float
    contained: float
    smaller: int
    candidate: bool
    candidate_before: bool
    by_counts: float
    same_site: bool = False


def _pair(a: Prepared, b: Prepared, same_site: bool = False) -> Pair:
    jaccard, contained, smaller = estimates(a.signature, a.shingles, b.signature, b.shingles)
    equal = np.frombuffer(a.signature, dtype="<u4") == np.frombuffer(b.signature, dtype="<u4")
    now, before = equal.reshape(BANDS, ROWS).all(axis=1).any(), equal.reshape(32, 4).all(axis=1).any()
    by_counts = min(1.0, jaccard / (1 + jaccard) * (a.shingles + b.shingles) / smaller)
    return Pair(jaccard, contained or 0.0, smaller, bool(now), bool(before), by_counts, same_site)


def fires(rule: NearRule, pair: Pair, by_counts: bool = False) -> bool:
    """Whether the rule makes one text of the pair a near-duplicate of the other, LSH included."""
    contained = pair.by_counts if by_counts else pair.contained
    return pair.candidate and rule.match(pair.jaccard, contained, pair.smaller)[0]


def pair_sets(
    stories: Sequence[Story], copies: dict[str, dict[str, str]], signed: dict[str, Prepared]
) -> tuple[dict[str, list[Pair]], list[Pair], Counter[str]]:
    """Return each variant type's (story, copy) pairs, the pairs of different stories that come
    anywhere near (estimated Jaccard >= 0.1), and how many pairs of different stories there are."""
    positives = {
        kind: [_pair(signed[s], signed[f"{s}#{kind}"]) for s in group] for kind, group in copies.items()
    }
    matrix = np.array([np.frombuffer(signed[s.key].signature, dtype="<u4") for s in stories])
    negatives: list[Pair] = []
    total: Counter[str] = Counter()
    for i, story in enumerate(stories):
        same = [story.host is not None and story.host == s.host for s in stories[i + 1 :]]
        total.update(same_site=sum(same), different=len(same) - sum(same))
        for k in np.nonzero((matrix[i + 1 :] == matrix[i]).mean(axis=1) >= 0.1)[0]:
            negatives.append(_pair(signed[story.key], signed[stories[i + 1 + k].key], same[k]))
    return positives, negatives, total


def score(
    rule: NearRule, positives: dict[str, list[Pair]], negatives: Sequence[Pair]
) -> tuple[int, dict[str, float]]:
    """Return how many pairs of different stories the rule joins, and its recall per variant type."""
    joined = sum(fires(rule, p) for p in negatives)
    return joined, {
        kind: float(np.mean([fires(rule, p) for p in pairs])) for kind, pairs in positives.items()
    }


def choose(positives: dict[str, list[Pair]], negatives: Sequence[Pair]) -> tuple[NearRule, dict[str, Any]]:
    """Return the rule chosen on one half, among those joining no more pairs of different stories
    than the old rule: first the highest Jaccard threshold that alone keeps the symmetric edits'
    recall at RECALL_FLOOR; then, with it, the strictest containment test (highest containment,
    then Jaccard floor, then shingle floor) that keeps every goal type's recall there."""
    allowed, _ = score(OLD, positives, negatives)

    def passes(rule: NearRule, kinds: Sequence[str]) -> bool:
        joined, recall = score(rule, positives, negatives)
        return joined <= allowed and min(recall[k] for k in kinds) >= RECALL_FLOOR

    threshold = max((t for t in THRESHOLDS if passes(NearRule(t, 2.0), SYMMETRIC)), default=OLD.threshold)
    tried = [NearRule(threshold, *r) for r in itertools.product(CONTAINMENTS, JACCARD_FLOORS, SHINGLE_FLOORS)]
    passing = [rule for rule in tried if passes(rule, GOAL)]
    rule = max(passing, key=lambda r: (r.containment, r.min_jaccard, r.min_shingles), default=OLD)
    return rule, {
        "rules_tried": len(THRESHOLDS) + len(tried),
        "rules_passing": len(passing),
        "old_rule_joins": allowed,
    }


@dataclass
class Tally:
    """A scenario's verdicts against the truth: copies found, and verdicts naming another story."""

    pairs: int = 0
    found: int = 0
    by_containment: int = 0  # right verdicts that only the containment test made
    wrong_same_site: int = 0
    wrong_other: int = 0

    def count(self, verdicts: Iterable[tuple[str, str, float | None]], hosts: dict[str, str | None]) -> Tally:
        """Count verdicts (item key, key of the article it duplicates, containment estimate)."""
        for item, original, contained in verdicts:
            mine, theirs = item.split("#")[0], original.split("#")[0]
            if mine == theirs:
                self.found += 1
                self.by_containment += contained is not None
            elif hosts[mine] is not None and hosts[mine] == hosts[theirs]:
                self.wrong_same_site += 1
            else:
                self.wrong_other += 1
        return self

    def figures(self) -> dict[str, Any]:
        wrong = self.wrong_same_site + self.wrong_other
        return {
            **asdict(self),
            "recall": round(self.found / self.pairs, 4) if self.pairs else None,
            "precision": round(self.found / (self.found + wrong), 4) if self.found + wrong else None,
        }


def _load(con: Any, items: Sequence[Prepared], rule: NearRule) -> list[tuple[str, str, float | None]]:
    """Load items in one run through the warehouse; return its duplicate verdicts by raw_uri."""
    start_run(con, "r1", None, NOW)
    batches = [items[i : i + BATCH] for i in range(0, len(items), BATCH)]
    load_batches(
        con, run_id="r1", batches=batches, quarantined=[], sources=[Source("seeds", "b")], now=NOW, near=rule
    )
    return [
        (d, o, c)
        for d, o, c in con.execute(
            "SELECT d.duplicate_id, a.raw_uri, d.containment FROM duplicates d "
            "JOIN articles a ON a.article_id = d.duplicate_of"
        ).fetchall()
    ]


def scenarios(
    stories: Sequence[Story], copies: dict[str, dict[str, str]], signed: dict[str, Prepared], rule: NearRule
) -> dict[str, dict[str, Tally]]:
    """Return per scenario and type: the stories stored by one run through the warehouse and the
    copies looked up by a later one (the stories' own wrong verdicts count against every type);
    and stories and copies classified together in one batch, shuffled, a copy maybe first."""
    hosts = {s.key: s.host for s in stories}
    uri_of = {p.article.article_id: key for key, p in signed.items()}
    out: dict[str, dict[str, Tally]] = {"across_runs": {}, "same_batch": {}}
    with warehouse.connect(":memory:") as con:
        stored = _load(con, [signed[s.key] for s in stories], rule)
        for kind, group in copies.items():
            items = [signed[f"{s}#{kind}"] for s in group]
            verdicts = classify(items, lookup_known(con, items), rule=rule).duplicates
            found = [(d.duplicate_id, uri_of[d.duplicate_of], d.containment) for d in verdicts]
            out["across_runs"][kind] = Tally(len(items)).count(stored + found, hosts)
    for kind, group in copies.items():
        items = [signed[s.key] for s in stories] + [signed[f"{s}#{kind}"] for s in group]
        random.Random(kind).shuffle(items)
        verdicts = classify(items, Known(), rule=rule).duplicates
        found = [(d.duplicate_id, uri_of[d.duplicate_of], d.containment) for d in verdicts]
        out["same_batch"][kind] = Tally(len(group)).count(found, hosts)
    return out


def same_folder(
    stories: Sequence[Story], copies: dict[str, dict[str, str]], rules: dict[str, NearRule]
) -> tuple[dict[str, dict[str, Tally]], dict[str, int]]:
    """Put each type's copies in one folder with their originals, as plain-text seed files, prepare
    them (cleaning included) and load them in one run; return the tallies per rule and type over
    the pairs whose two files were both kept, and how many files cleaning set aside per type."""
    config = Settings().prepare_config(NOW, "bench")
    hosts = {s.key: s.host for s in stories}
    tallies: dict[str, dict[str, Tally]] = {name: {} for name in rules}
    set_aside: dict[str, int] = {}
    for kind, group in copies.items():
        texts = {s.key: s.text for s in stories} | {
            f"{s.key}#{kind}": group[s.key] for s in stories if s.key in group
        }
        docs = [
            RawDocument("folder", key, text.encode(), "text/plain", NOW)
            for key, text in sorted(texts.items())
        ]
        articles, bad = prepare_all(docs, config, None)
        set_aside[kind] = len(bad)
        kept = {p.article.raw_uri for p in articles}
        pairs = sum(s.key in kept and f"{s.key}#{kind}" in kept for s in stories)
        for name, rule in rules.items():
            with warehouse.connect(":memory:") as con:
                tallies[name][kind] = Tally(pairs).count(_load(con, articles, rule), hosts)
    return tallies, set_aside


def _quantiles(values: Sequence[float]) -> dict[str, float]:
    q = np.quantile(np.asarray(values), [0.0, 0.01, 0.05, 0.5])
    return {name: round(float(v), 3) for name, v in zip(("min", "p1", "p5", "median"), q, strict=True)}


def _pair_figures(
    positives: dict[str, list[Pair]],
    negatives: Sequence[Pair],
    totals: Counter[str],
    rules: dict[str, NearRule],
) -> dict[str, Any]:
    variants = {
        kind: {
            "pairs": len(pairs),
            "candidate_recall": round(float(np.mean([p.candidate for p in pairs])), 4),
            "candidate_recall_32x4": round(float(np.mean([p.candidate_before for p in pairs])), 4),
            "jaccard": _quantiles([p.jaccard for p in pairs]),
            "containment": _quantiles([p.contained for p in pairs]),
            "containment_by_counts": _quantiles([p.by_counts for p in pairs]),
            "recall": {
                name: round(score(rule, {kind: pairs}, [])[1][kind], 4) for name, rule in rules.items()
            },
            "recall_new_by_counts": round(float(np.mean([fires(rules["new"], p, True) for p in pairs])), 4),
        }
        for kind, pairs in positives.items()
    }
    closest = sorted(negatives, key=lambda p: -p.jaccard)[:8]
    return {
        "variants": variants,
        "different_story_pairs": dict(totals),
        "different_stories_joined": {name: score(rule, {}, negatives)[0] for name, rule in rules.items()},
        "closest_different_stories": [
            {
                "jaccard": round(p.jaccard, 3),
                "containment": round(p.contained, 3),
                "containment_by_counts": round(p.by_counts, 3),
                "smaller": p.smaller,
                "same_site": p.same_site,
            }
            for p in closest
        ],
    }


def measure(pages: int, folder: int) -> dict[str, Any]:
    """Build the variant sets, choose a rule on the tune half, measure both rules on the test half."""
    started = time.perf_counter()
    stories, sources = load_stories(pages)
    settings = Settings()
    rules = {"old": OLD, "new": NearRule(settings.near_threshold, settings.near_containment)}
    report: dict[str, Any] = {"sources": sources, "rules": {name: asdict(r) for name, r in rules.items()}}
    for half in ("tune", "test"):
        part = [s for s in stories if s.half == half]
        copies, skipped = make_copies(part, settings.min_words)
        signed = {s.key: prepared(s.key, s.text) for s in part}
        signed |= {
            f"{s}#{kind}": prepared(f"{s}#{kind}", text)
            for kind, g in copies.items()
            for s, text in g.items()
        }
        positives, negatives, totals = pair_sets(part, copies, signed)
        report[half] = {"stories": len(part), "copies_too_short": dict(skipped)}
        report[half]["pairs"] = _pair_figures(positives, negatives, totals, rules)
        if half == "tune":
            chosen, how = choose(positives, negatives)
            report["chosen_on_tune"] = {**asdict(chosen), **how, "settings_agree": chosen == rules["new"]}
            print(f"chosen on the tune half: {chosen}; settings: {rules['new']}", flush=True)
    by_rule = {name: scenarios(part, copies, signed, rule) for name, rule in rules.items()}
    sample = random.Random(3).sample(part, min(folder, len(part)))
    in_folder, set_aside = same_folder(sample, copies, rules)
    report["test"]["scenarios"] = {
        scenario: {name: {kind: t.figures() for kind, t in by_rule[name][scenario].items()} for name in rules}
        for scenario in ("across_runs", "same_batch")
    }
    report["test"]["scenarios"]["same_folder"] = {
        name: {kind: t.figures() for kind, t in tallies.items()} for name, tallies in in_folder.items()
    }
    report["test"]["same_folder"] = {"stories": len(sample), "files_set_aside_by_cleaning": set_aside}
    report["seconds"] = round(time.perf_counter() - started)
    return report


def table(report: dict[str, Any]) -> str:
    """Return precision and recall per scenario and variant type, old rule against new, as text."""
    test = report["test"]
    lines = [
        f"stories: tune {report['tune']['stories']}, test {test['stories']}; sources {report['sources']}",
        f"rules: {report['rules']}",
        f"chosen on the tune half: {report['chosen_on_tune']}",
        "",
        "test half, pairs (LSH candidate step included):",
        f"{'variant':>18} {'pairs':>6} {'cand':>7} {'cand 32x4':>9} "
        f"{'J p1':>6} {'C p1':>6} {'Ccnt p1':>7} {'R old':>6} {'R new':>6} {'R cnt':>6}",
        "(Ccnt, R cnt: containment from the shingle counts, J / (1 + J) * (|A| + |B|) / min)",
    ]
    for kind, row in test["pairs"]["variants"].items():
        lines.append(
            f"{kind:>18} {row['pairs']:>6} {row['candidate_recall']:>7.4f} "
            f"{row['candidate_recall_32x4']:>9.4f} "
            f"{row['jaccard']['p1']:>6.3f} {row['containment']['p1']:>6.3f} "
            f"{row['containment_by_counts']['p1']:>7.3f} {row['recall']['old']:>6.3f} "
            f"{row['recall']['new']:>6.3f} {row['recall_new_by_counts']:>6.3f}"
        )
    pairs = test["pairs"]
    lines.append(
        f"different-story pairs {pairs['different_story_pairs']}, joined {pairs['different_stories_joined']}"
    )
    for scenario, by_rule in test["scenarios"].items():
        lines += ["", f"test half, {scenario}: precision / recall (wrong verdicts: same site + other)"]
        for kind, old in by_rule["old"].items():
            cells = [
                f"{name} P {f['precision'] or 0:.3f} R {f['recall'] or 0:.3f} "
                f"({f['wrong_same_site']}+{f['wrong_other']})"
                for name, f in (("old", old), ("new", by_rule["new"][kind]))
            ]
            lines.append(f"{kind:>18} {old['pairs']:>5}  " + "   ".join(cells))
    lines.append(f"\n{report['seconds']} s")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, print the tables and write benchmarks/results/dedup.json."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.dedup", description=__doc__)
    parser.add_argument("--pages", type=int, default=100, help="corpus pages sampled and cleaned")
    parser.add_argument(
        "--folder", type=int, default=80, help="test-half stories in the same-folder scenario"
    )
    args = parser.parse_args(argv)
    if not (corpus_dir() / "wcxb-dev").is_dir():
        print(f"no corpus at {corpus_dir()}: skipped")
        return 0
    report = measure(args.pages, args.folder)
    print(table(report))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
