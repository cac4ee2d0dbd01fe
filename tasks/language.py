"""Language detection with langdetect: deterministic, with a probability, 'und' when unsure."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from langdetect import DetectorFactory, detect_langs
from langdetect.detector_factory import init_factory
from langdetect.lang_detect_exception import LangDetectException

UNDETERMINED = "und"
MIN_LETTERS = 20

_warm_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    """A language code (ISO 639-1, or 'und') and the detector's probability for it."""

    language: str
    probability: float


def warm_detector() -> None:
    """Load langdetect's profiles once and fix its seed, before any thread calls it."""
    # The factory loads ~50 profiles lazily; threads racing on a cold factory misfire.
    with _warm_lock:
        DetectorFactory.seed = 0
        init_factory()


def detect_language(text: str, *, threshold: float, sample_chars: int) -> LanguageGuess:
    """Return the most probable language of text, or 'und' when too short or unsure."""
    sample = text[:sample_chars]
    if sum(ch.isalpha() for ch in sample) < MIN_LETTERS:
        return LanguageGuess(UNDETERMINED, 0.0)
    warm_detector()
    try:
        best = detect_langs(sample)[0]
    except LangDetectException:
        return LanguageGuess(UNDETERMINED, 0.0)
    probability = round(float(best.prob), 4)
    if probability < threshold:
        return LanguageGuess(UNDETERMINED, probability)
    # langdetect reports Chinese as zh-cn / zh-tw; keep the primary subtag, as the table expects.
    return LanguageGuess(best.lang.split("-")[0], probability)
