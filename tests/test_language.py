"""Language detection: langdetect with a second opinion, deterministic, 'und' when unsure."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tasks.language import (
    MIN_LETTERS,
    SOLE_MIN,
    UNDETERMINED,
    LanguageGuess,
    Opinion,
    combine,
    detect_language,
    langdetect_opinion,
    langid_opinion,
    letter_count,
    warm_detector,
)

from .conftest import SEEDS

# Sentences from langid-dev (lingua-py's test data); README.md beside them says how each file was chosen.
FIXTURES = Path(__file__).parent / "fixtures" / "language"


def lines(name: str) -> list[str]:
    return (FIXTURES / name).read_text(encoding="utf-8").splitlines()


def detect(text: str, threshold: float = 0.8) -> LanguageGuess:
    return detect_language(text, threshold=threshold, sample_chars=2000)


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
    guess = detect(text)
    assert guess.language == language
    assert 0.0 <= guess.probability <= 1.0


@pytest.mark.parametrize(
    ("fixture", "language", "neighbour"),
    [
        # languages langdetect has no profile for, and what it answered instead
        ("ka.txt", "ka", "et"),  # Georgian
        ("hy.txt", "hy", "et"),  # Armenian
        ("az.txt", "az", "tr"),  # Azerbaijani
        ("sr.txt", "sr", "mk"),  # Serbian, Cyrillic
        ("zu.txt", "zu", "sw"),  # Zulu
    ],
)
def test_a_language_outside_langdetect_is_named_never_its_neighbour(
    fixture: str, language: str, neighbour: str
) -> None:
    sentences = lines(fixture)
    assert detect(" ".join(sentences)).language == language
    for sentence in sentences:
        assert detect(sentence).language in (language, UNDETERMINED)
        assert detect(sentence, threshold=0.0).language != neighbour


def test_malay_is_never_called_indonesian() -> None:
    # langdetect has no Malay profile and calls it Indonesian; neither detector tells the two apart.
    sentences = lines("ms.txt")
    for text in [" ".join(sentences), *sentences]:
        assert detect(text, threshold=0.0).language in ("ms", UNDETERMINED)


@pytest.mark.parametrize(
    ("text", "letters"),
    [
        ("हिन्दी", 6),  # two vowel signs (Mc) and a virama (Mn) are written on the consonants
        ("e\u0301te\u0301", 5),  # decomposed accents (Mn)
        ("Ünïcode", 7),
        ("12 345 — !?", 0),
        ("日本語のテキスト", 8),
    ],
)
def test_letter_count_includes_marks_written_on_letters(text: str, letters: int) -> None:
    assert letter_count(text) == letters


def test_short_hindi_is_judged_not_cut_as_too_short() -> None:
    sentences = lines("hi_short_by_isalpha.txt")
    for sentence in sentences:
        # why these sentences: str.isalpha finds too few letters in them, the categories enough
        assert sum(ch.isalpha() for ch in sentence) < MIN_LETTERS <= letter_count(sentence)
        judged = combine(langdetect_opinion(sentence), langid_opinion(sentence), threshold=0.0)
        assert detect(sentence, threshold=0.0) == judged
        assert judged.language in ("hi", UNDETERMINED)
    assert detect(" ".join(sentences)).language == "hi"


@pytest.mark.parametrize(
    ("fixture", "language"),
    [
        # langdetect's weakest known languages on single sentences
        ("ca.txt", "ca"),
        ("da.txt", "da"),
        ("nb.txt", "no"),  # Norwegian Bokmål, labelled as langdetect labels it
    ],
)
def test_known_languages_keep_their_label(fixture: str, language: str) -> None:
    sentences = lines(fixture)
    assert detect(" ".join(sentences)).language == language
    for sentence in sentences:
        assert detect(sentence).language in (language, UNDETERMINED)


@pytest.mark.parametrize(
    ("fixture", "language"),
    [
        ("da_langdetect_neighbour.txt", "da"),  # langdetect alone: no, de, no
        ("nb_langdetect_neighbour.txt", "no"),  # langdetect alone: da, da, da
    ],
)
def test_a_sentence_langdetect_gives_a_neighbour_is_not_mislabelled(fixture: str, language: str) -> None:
    for sentence in lines(fixture):
        assert detect(sentence).language in (language, UNDETERMINED)


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        # both name it, each above the threshold: the label, with the lower probability
        (Opinion("de", 0.99), Opinion("de", 0.9), LanguageGuess("de", 0.9)),
        # both name it, py3langid below the threshold
        (Opinion("de", 0.99), Opinion("de", 0.5), LanguageGuess(UNDETERMINED, 0.5)),
        # both name it, langdetect below the threshold
        (Opinion("de", 0.6), Opinion("de", 0.99), LanguageGuess(UNDETERMINED, 0.6)),
        # two languages langdetect knows: a disagreement
        (Opinion("es", 0.99), Opinion("ca", 0.99), LanguageGuess(UNDETERMINED, 0.0)),
        # a language langdetect has no profile for, named confidently
        (Opinion("et", 1.0), Opinion("ka", SOLE_MIN), LanguageGuess("ka", SOLE_MIN)),
        # the same, named by py3langid alone with less than SOLE_MIN
        (Opinion("et", 1.0), Opinion("ka", 0.85), LanguageGuess(UNDETERMINED, 0.85)),
        # a label with no ISO 639-1 code (Northern Sotho)
        (Opinion("st", 0.9), Opinion("nso", 0.99), LanguageGuess(UNDETERMINED, 0.0)),
        # written standards neither detector tells apart
        (Opinion("id", 1.0), Opinion("id", 1.0), LanguageGuess(UNDETERMINED, 1.0)),
        (Opinion("hr", 1.0), Opinion("bs", 0.99), LanguageGuess(UNDETERMINED, 0.99)),
        # langdetect found no features
        (Opinion(UNDETERMINED, 0.0), Opinion("en", 0.99), LanguageGuess(UNDETERMINED, 0.0)),
    ],
)
def test_combine(first: Opinion, second: Opinion, expected: LanguageGuess) -> None:
    assert combine(first, second, threshold=0.8) == expected


def test_a_stricter_threshold_turns_a_label_into_und() -> None:
    sentence = "The government announced on Tuesday that the new budget will be presented next week."
    guess = detect(sentence, threshold=0.0)
    assert guess.language == "en" and guess.probability < 1.0
    strict = detect(sentence, threshold=guess.probability + 0.0001)
    assert strict == LanguageGuess(UNDETERMINED, guess.probability)


def test_detection_is_deterministic_on_ambiguous_text() -> None:
    text = "Bank Hotel Radio Taxi Sport Film"  # words shared by many languages
    results = {detect_language(text, threshold=0.0, sample_chars=2000) for _ in range(20)}
    assert len(results) == 1


def test_threads_agree_with_one_thread() -> None:
    warm_detector()
    texts = [(SEEDS / p.name).read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    texts += [sentence for path in sorted(FIXTURES.glob("*.txt")) for sentence in lines(path.name)]
    serial = [detect_language(t, threshold=0.8, sample_chars=500) for t in texts]
    with ThreadPoolExecutor(max_workers=8) as pool:
        threaded = list(pool.map(lambda t: detect_language(t, threshold=0.8, sample_chars=500), texts * 4))
    assert threaded == serial * 4
    assert {g.language for g in serial} >= {"fr", "ka", "sr", UNDETERMINED}
