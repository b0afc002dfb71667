"""Translit detection: phrases and lone words flagged, negatives and context."""

from __future__ import annotations

import pytest

from langlock.text.detectors.translit import (
    TranslitDetector,
    TranslitHit,
)
from tests.text.translit_cases import (
    LONE_POSITIVES,
    NEGATIVE_SETS,
    POSITIVES,
    english_sentences,
    hits_of,
    latin_words,
    same,
)

# ------------------------------------------------------------------------ positives


@pytest.mark.parametrize(("text", "expected"), POSITIVES, ids=[p[0] for p in POSITIVES])
def test_phrase_is_flagged_with_its_cyrillic(
    det: TranslitDetector, text: str, expected: str
) -> None:
    words = latin_words(text)
    want = expected.split()
    assert len(words) == len(want), "test data: one Cyrillic word per Latin word"
    got = {h.start: h for h in det.find(words)}
    for (start, end, word), cyr in zip(words, want, strict=True):
        if cyr == "?":
            continue
        assert start in got, f"{word!r} not flagged in {text!r}"
        hit = got[start]
        assert (hit.end, hit.text) == (end, word)
        assert same(hit.cyrillic, cyr), f"{word!r} -> {hit.cyrillic!r}, want {cyr!r}"
        assert 0.5 <= hit.confidence <= 1.0


@pytest.mark.parametrize(("text", "expected"), LONE_POSITIVES, ids=[p[0] for p in LONE_POSITIVES])
def test_lone_word_in_russian_prose(det: TranslitDetector, text: str, expected: str | None) -> None:
    hits = hits_of(det, text)
    assert hits, f"nothing flagged in {text!r}"
    if expected is not None:
        assert len(hits) == 1
        assert same(hits[0].cyrillic, expected)


def test_devset_style_word_inside_english(det: TranslitDetector) -> None:
    text = (
        '**お面接 (Omatsuri no de aru, Atari no aida, Yōkade "priyatnoy in-depth '
        'meeting/getting-to-know")**'
    )
    hits = hits_of(det, text)
    assert [(h.text, h.cyrillic) for h in hits] == [("priyatnoy", "приятной")]
    text = "windproof alloy *zažihat' (Belovian term for a deliberate sparking)*"
    assert [h.cyrillic for h in hits_of(det, text)] == ["зажигать"]


def test_case_is_carried_over(det: TranslitDetector) -> None:
    assert [h.cyrillic for h in hits_of(det, "PRIVET VSEM")] == ["ПРИВЕТ", "ВСЕМ"]
    assert [h.cyrillic for h in hits_of(det, "Privet, kak dela")] == ["Привет", "как", "дела"]
    assert [h.cyrillic for h in hits_of(det, "Po-russki govorit'")] == ["По-русски", "говорить"]


def test_hits_carry_offsets_of_the_input(det: TranslitDetector) -> None:
    text = "Он написал: privet, kak dela? И ушёл."
    hits = hits_of(det, text)
    assert [text[h.start : h.end] for h in hits] == ["privet", "kak", "dela"]
    assert all(text[h.start : h.end] == h.text for h in hits)
    assert hits == sorted(hits, key=lambda h: h.start)


def test_hit_is_frozen() -> None:
    hit = TranslitHit(0, 6, "privet", "привет", 0.9)
    with pytest.raises(AttributeError):
        hit.start = 1  # type: ignore[misc]


# ------------------------------------------------------------------------ negatives


def test_random_english_sentences_are_not_translit(det: TranslitDetector) -> None:
    flagged = [(s, [h.text for h in hits_of(det, s)]) for s in english_sentences()]
    flagged = [f for f in flagged if f[1]]
    assert flagged == []


@pytest.mark.parametrize("name", list(NEGATIVE_SETS))
def test_negative_set_has_no_hits(det: TranslitDetector, name: str) -> None:
    flagged = [(t, [h.text for h in hits_of(det, t)]) for t in NEGATIVE_SETS[name]]
    assert [f for f in flagged if f[1]] == []


@pytest.mark.parametrize(
    "word",
    [
        "da",
        "net",
        "on",
        "ya",
        "tak",
        "no",
        "kak",
        "mama",
        "data",
        "ne",
        "a",
        "i",
        "u",
        "pro",
        "tut",
        "vse",
        "ego",
    ],
)
def test_short_ambiguous_word_alone_is_not_flagged(det: TranslitDetector, word: str) -> None:
    assert det.find([(10, 10 + len(word), word)]) == []
    sentence = f"I think {word} is the answer here"
    assert hits_of(det, sentence) == []


@pytest.mark.parametrize(
    "word",
    ["spasibo", "pozhaluysta", "khorosho", "Zdravstvujte", "priyatno", "konechno", "izvinite"],
)
def test_strong_word_alone_is_flagged(det: TranslitDetector, word: str) -> None:
    assert len(det.find([(5, 5 + len(word), word)])) == 1


def test_loanwords_and_russian_names_in_english_are_not_flagged(det: TranslitDetector) -> None:
    for text in (
        "Babushka dolls and a samovar",
        "the tsar and the troika",
        "Sberbank Gazprom Lada Kalashnikov",
        "Anna Karenina by Leo Tolstoy",
        "sputnik, perestroika and glasnost",
    ):
        assert hits_of(det, text) == [], text


def test_capitalized_name_alone_is_not_flagged(det: TranslitDetector) -> None:
    for name in ("Tolstoy", "Moskva", "Rossii", "Sberbank", "Putin", "Ivan", "Kanye"):
        assert det.find([(0, len(name), name)]) == [], name


def test_acronyms_are_not_flagged(det: TranslitDetector) -> None:
    for word in ("NET", "DA", "GPU", "API", "SQL", "ONO"):
        assert det.find([(0, len(word), word)]) == [], word


def test_mixed_case_words_are_not_flagged(det: TranslitDetector) -> None:
    assert hits_of(det, "iPhone PriVet McKinsey YouTube") == []


# ---------------------------------------------------------------------------- context


def test_neighbours_are_close_words_only(det: TranslitDetector) -> None:
    # "kak" and "dela" next to each other form a phrase
    assert len(det.find([(0, 3, "kak"), (4, 8, "dela")])) == 2
    # far apart (Cyrillic words in between), each is a lone ambiguous word
    assert det.find([(0, 3, "kak"), (20, 24, "dela")]) == []
    # the strong word stays strong on its own
    hits = det.find([(0, 7, "spasibo"), (40, 43, "kak")])
    assert [h.text for h in hits] == ["spasibo"]


def test_weak_words_join_a_flagged_phrase(det: TranslitDetector) -> None:
    hits = hits_of(det, "da, konechno")
    assert [h.cyrillic for h in hits] == ["да", "конечно"]


def test_romaji_particles_veto_romaji_shaped_words(det: TranslitDetector) -> None:
    assert hits_of(det, "watashi wa mizu o nomimasu") == []
    assert hits_of(det, "kore wa pen desu") == []
