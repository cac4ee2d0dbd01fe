"""Language detection: langdetect first, py3langid as a second opinion, 'und' when they cannot agree."""

from __future__ import annotations

import functools
import os
import threading
import unicodedata
from dataclasses import dataclass
from typing import Any

from langdetect import DetectorFactory, detect_langs
from langdetect.detector_factory import PROFILES_DIRECTORY, init_factory
from langdetect.lang_detect_exception import LangDetectException
from py3langid.langid import MODEL_FILE, LanguageIdentifier

UNDETERMINED = "und"
MIN_LETTERS = 20
# The combination rule, chosen on langid-dev (benchmarks/language.py):
# - both detectors name the same language, each with probability >= threshold: that language;
# - py3langid names a language langdetect has no profile for (langdetect can then only answer a
#   neighbour: Georgian -> et, Serbian -> mk, Zulu -> sw): that language when py3langid's probability
#   is >= SOLE_MIN, a single voice needing more than an agreed label (at 0.8 Tsonga, which neither
#   knows, passes as Xhosa and paragraph precision falls to 99.3 %; at 0.9 it is 99.8 %);
# - any other disagreement, short text or long: 'und'.
# - a label in INDISTINCT is 'und' whoever gives it: neither detector tells these written standards apart
#   (py3langid's share for Indonesian against Malay, and Croatian against Bosnian, overlaps between
#   texts of either), and langdetect, lacking ms and bs, names every Malay text id and Bosnian one hr.
SOLE_MIN = 0.9
INDISTINCT = frozenset({"id", "ms", "hr", "bs"})
# py3langid labels under another ISO 639-1 code: varieties go under their macrolanguage, as langdetect
# files Chinese as zh and Norwegian as no; Gikuyu has a 639-1 code of its own. Labels left with three
# letters have no 639-1 code, and py3langid gives them to languages it lacks (Tswana as nso), so they
# never become a label on their own.
_ISO_639_1 = {
    "ary": "ar",
    "arz": "ar",
    "fuv": "ff",
    "gug": "gn",
    "kik": "ki",
    "nn": "no",
    "sdh": "ku",
    "uzs": "uz",
    "wuu": "zh",
    "yue": "zh",
}
# Letters, and the marks written on them (Indic vowel signs are Mc/Mn, not letters, to str.isalpha).
_LETTER_CATEGORIES = frozenset({"Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc"})

_warm_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    """A language code (ISO 639-1, or 'und') and the detectors' probability for it."""

    language: str
    probability: float


@dataclass(frozen=True, slots=True)
class Opinion:
    """One detector's most probable language for a text and its probability."""

    language: str
    probability: float


def letter_count(text: str) -> int:
    """Return how many characters of text are letters or marks combined with them."""
    return sum(1 for ch in text if unicodedata.category(ch) in _LETTER_CATEGORIES)


@functools.cache
def _identifier() -> Any:
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


@functools.cache
def langdetect_languages() -> frozenset[str]:
    """Return the languages langdetect has a profile for, as the labels it gives."""
    return frozenset(name.split("-")[0] for name in os.listdir(PROFILES_DIRECTORY))


def warm_detector() -> None:
    """Load both detectors' models once and fix langdetect's seed, before any thread calls them."""
    # The factory loads ~50 profiles lazily; threads racing on a cold factory misfire.
    with _warm_lock:
        DetectorFactory.seed = 0
        init_factory()
        _identifier()
        langdetect_languages()


def langdetect_opinion(sample: str) -> Opinion:
    """Return langdetect's best language for sample ('und' with 0.0 when it finds no features)."""
    try:
        best = detect_langs(sample)[0]
    except LangDetectException:
        return Opinion(UNDETERMINED, 0.0)
    # langdetect reports Chinese as zh-cn / zh-tw; keep the primary subtag, as the table expects.
    return Opinion(best.lang.split("-")[0], round(float(best.prob), 4))


def langid_opinion(sample: str) -> Opinion:
    """Return py3langid's best language for sample, its varieties' probabilities added up."""
    totals: dict[str, float] = {}
    for label, probability in _identifier().rank(sample):
        code = _ISO_639_1.get(label, label)
        totals[code] = totals.get(code, 0.0) + probability
    best = max(totals, key=totals.__getitem__)
    return Opinion(best, round(min(totals[best], 1.0), 4))


def combine(first: Opinion, second: Opinion, *, threshold: float) -> LanguageGuess:
    """Return the language langdetect (first) and py3langid (second) back together, or 'und'."""
    if first.language == second.language:
        language, probability = first.language, min(first.probability, second.probability)
        backed = probability >= threshold
    elif len(second.language) == 2 and second.language not in langdetect_languages():
        language, probability = second.language, second.probability
        backed = probability >= max(threshold, SOLE_MIN)
    else:
        return LanguageGuess(UNDETERMINED, 0.0)
    if not backed or language in INDISTINCT:
        return LanguageGuess(UNDETERMINED, probability)
    return LanguageGuess(language, probability)


def detect_language(text: str, *, threshold: float, sample_chars: int) -> LanguageGuess:
    """Return the language of text's first sample_chars characters, or 'und' when too short or unsure."""
    sample = text[:sample_chars]
    if letter_count(sample) < MIN_LETTERS:
        return LanguageGuess(UNDETERMINED, 0.0)
    warm_detector()
    return combine(langdetect_opinion(sample), langid_opinion(sample), threshold=threshold)
