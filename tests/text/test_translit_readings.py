"""Translit readings: candidates, to_cyrillic, and robustness on odd input."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from langlock.text.detectors.translit import (
    TranslitDetector,
    TranslitHit,
    cyrillic_candidates,
    to_cyrillic,
)
from tests.text.translit_cases import (
    same,
)

# ------------------------------------------------------------------------- candidates


def test_candidates_cheapest_first_and_limited() -> None:
    cands = cyrillic_candidates("privet")
    assert cands[0] == "привет"
    assert 0 < len(cands) <= 64
    assert len(cyrillic_candidates("pozhaluysta", limit=5)) <= 5
    assert len(set(cands)) == len(cands)


@pytest.mark.parametrize(
    ("word", "reading"),
    [
        ("shchi", "щи"),
        ("shhi", "щи"),
        ("zhizn", "жизнь"),
        ("zhizn'", "жизнь"),
        ("pis'mo", "письмо"),
        ("4to", "что"),
        ("6kola", "школа"),
        ("wkola", "школа"),
        ("xorosho", "хорошо"),
        ("tekst", "текст"),
        ("text", "текст"),
        ("moj", "мой"),
        ("moy", "мой"),
        ("eto", "это"),
        ("yolka", "ёлка"),
        ("jolka", "ёлка"),
        ("ljubov'", "любовь"),
        ("lyubov", "любовь"),
        ("tsar'", "царь"),
        ("car'", "царь"),
        ("Iulia", "юлия"),
        ("Rossiia", "россия"),
        ('ob"yavlenie', "объявление"),
        ("žizn'", "жизнь"),
        ("ščuka", "щука"),
        ("šapka", "шапка"),
        ("čaj", "чай"),
        ("kak-to", "как-то"),
        ("po-russki", "по-русски"),
        ("shto", "что"),
    ],
)
def test_schemes_reach_the_reading(word: str, reading: str) -> None:
    assert reading in cyrillic_candidates(word)


def test_candidates_of_non_latin_are_empty() -> None:
    for word in ("", "漢字", "привет", "   ", "12345", "a" * 500, "!!!"):
        assert cyrillic_candidates(word) == []


@pytest.mark.parametrize(
    ("word", "cyr"),
    [
        ("privet", "привет"),
        ("Privet", "Привет"),
        ("PRIVET", "ПРИВЕТ"),
        ("pozhalujsta", "пожалуйста"),
        ("pozhaluysta", "пожалуйста"),
        ("delat'", "делать"),
        ("Zdravstvujte", "Здравствуйте"),
        ("khorosho", "хорошо"),
        ("horosho", "хорошо"),
        ("kak-to", "как-то"),
        ("po-russki", "по-русски"),
        ("nravitsya", "нравится"),
        ("pomosch", "помощь"),
        ("pomoshch'", "помощь"),
        ("shumersko", "шумерско"),
        ("priyatnoy", "приятной"),
        ("4to", "что"),
        ("eshche", "ещё"),
    ],
)
def test_to_cyrillic(word: str, cyr: str) -> None:
    got = to_cyrillic(word)
    assert got is not None and same(got, cyr)


@pytest.mark.parametrize(
    "word", ["xyzzyq", "pipeline", "Dijkstra", "Minecraft", "", "漢字", "watashi", "onegaishimasu"]
)
def test_to_cyrillic_none_when_unknown(word: str) -> None:
    assert to_cyrillic(word) is None


# ------------------------------------------------------------------------- robustness


def test_malformed_input_never_raises(det: TranslitDetector) -> None:
    bad: list = [
        None,
        5,
        "privet",
        (1, 2),
        (None, None, None),
        (0, 6, None),
        (0, 6, b"x"),
        (-5, -1, "privet"),
        (10, 4, "kak"),
        ("a", "b", "dela"),
        (0, 0, ""),
        (0, 3, "\x00\ud800"),
        (0, 10**12, "x" * 10_000),
    ]
    assert isinstance(det.find(bad), list)
    assert det.find([]) == []
    assert det.find(None) == []  # type: ignore[arg-type]
    assert det.find(iter([(0, 7, "spasibo")])) != []  # type: ignore[arg-type]
    assert to_cyrillic(None) is None  # type: ignore[arg-type]
    assert cyrillic_candidates(None) == []  # type: ignore[arg-type]
    assert cyrillic_candidates("privet", limit=0) == []


def test_unknown_language_finds_nothing() -> None:
    for lang in ("xx", "../../etc/passwd", "", "RU", None):
        assert TranslitDetector(lang).find([(0, 7, "spasibo")]) == []  # type: ignore[arg-type]


_latin_word = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCZŽžščŝ'’-346", min_size=0, max_size=25)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(-5, 200), st.integers(-5, 200), st.one_of(_latin_word, st.text(max_size=12))
        ),
        max_size=12,
    )
)
def test_find_never_raises(words: list[tuple[int, int, str]]) -> None:
    hits = TranslitDetector().find(words)
    assert isinstance(hits, list)
    for h in hits:
        assert isinstance(h, TranslitHit) and 0.0 < h.confidence <= 1.0
        assert (h.start, h.end, h.text) in words


@settings(max_examples=300, deadline=None)
@given(st.one_of(_latin_word, st.text(max_size=30)), st.integers(-3, 100))
def test_candidates_never_raise(word: str, limit: int) -> None:
    cands = cyrillic_candidates(word, limit)
    assert len(cands) <= max(limit, 0)
    result = to_cyrillic(word)
    assert result is None or isinstance(result, str)
