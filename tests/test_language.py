"""Language detection: deterministic, with a probability, 'und' when unsure."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tasks.language import UNDETERMINED, detect_language, warm_detector

from .conftest import SEEDS


@pytest.mark.parametrize(
    ("text", "language"),
    [
        # a French seed
        ((SEEDS / "002_5df296c2523e40f1.txt").read_text(encoding="utf-8"), "fr"),
        # English, German, Polish sentences
        ("The government announced on Tuesday that the new budget will be presented next week.", "en"),
        ("Die Bundesregierung hat am Dienstag angekündigt, den Haushalt nächste Woche vorzulegen.", "de"),
        ("Rząd ogłosił we wtorek, że nowy budżet zostanie przedstawiony w przyszłym tygodniu.", "pl"),
        # too short to judge
        ("OK", UNDETERMINED),
        ("12 345 678 — 2024", UNDETERMINED),
        ("", UNDETERMINED),
    ],
)
def test_detect_language(text: str, language: str) -> None:
    guess = detect_language(text, threshold=0.8, sample_chars=2000)
    assert guess.language == language
    assert 0.0 <= guess.probability <= 1.0


def test_detection_is_deterministic_on_ambiguous_text() -> None:
    text = "Bank Hotel Radio Taxi Sport Film"  # words shared by many languages
    results = {detect_language(text, threshold=0.0, sample_chars=2000) for _ in range(20)}
    assert len(results) == 1


def test_threshold_turns_an_unsure_guess_into_und() -> None:
    text = "Alexander Berlin Paris Madrid 2024 Tokyo"  # names: langdetect is unsure
    guess = detect_language(text, threshold=0.0, sample_chars=2000)
    assert 0.0 < guess.probability < 0.9
    strict = detect_language(text, threshold=0.9, sample_chars=2000)
    assert strict.language == UNDETERMINED and strict.probability == guess.probability


def test_threads_agree_after_warming() -> None:
    warm_detector()
    texts = [(SEEDS / p.name).read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))] * 8
    with ThreadPoolExecutor(max_workers=8) as pool:
        guesses = list(pool.map(lambda t: detect_language(t, threshold=0.8, sample_chars=500), texts))
    assert {g.language for g in guesses} == {"fr"}
