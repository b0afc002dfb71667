"""Mojibake families: each code page and legacy mix-up, double and triple damage."""

from __future__ import annotations

from collections.abc import Callable

import ftfy.bad_codecs  # noqa: F401  (registers the sloppy-windows-* codecs used below)
import pytest

from langlock.text.detectors.mojibake import find_mojibake, repair
from tests.text.mojibake_cases import (
    RU_CYRILLIC_WORDS,
    SENTENCE,
    UTF8_FAMILIES,
    _sentences,
    check_invariants,
    legacy,
    utf8_as,
)

# --------------------------------------------------------------------------- acceptance


def test_mac_roman_acceptance() -> None:
    """The required case: ftfy misses it, we must not."""
    text = "–ö–∞–∫ –±–æ—Ä–æ—Ç—å—Å—è"
    spans = find_mojibake(text)
    assert len(spans) == 1
    sp = spans[0]
    assert (sp.start, sp.end, sp.text) == (0, len(text), text)
    assert sp.fixed == "Как бороться"
    assert sp.explanation == "UTF-8 bytes decoded as Mac-Roman"
    assert repair(text) == ("Как бороться", "UTF-8 bytes decoded as Mac-Roman")


def test_mac_roman_inside_russian_answer() -> None:
    text = "Вопрос: –ö–∞–∫ –±–æ—Ä–æ—Ç—å—Å—è —Å –æ—à–∏–±–∫–∞–º–∏? Ответ ниже."
    spans = find_mojibake(text)
    assert [(s.text, s.fixed) for s in spans] == [
        ("–ö–∞–∫ –±–æ—Ä–æ—Ç—å—Å—è —Å –æ—à–∏–±–∫–∞–º–∏", "Как бороться с ошибками")
    ]


# --------------------------------------------------------------------------- families

LITERAL_CASES = [
    ("ÐŸÑ€Ð¸Ð²ÐµÑ‚", "Привет", "UTF-8 bytes decoded as Windows-1252"),
    ("РџСЂРёРІРµС‚", "Привет", "UTF-8 bytes decoded as Windows-1251"),
    ("п÷я─п╦п╡п╣я┌", "Привет", "UTF-8 bytes decoded as KOI8-R"),
    ("╨Я╤А╨╕╨▓╨╡╤В", "Привет", "UTF-8 bytes decoded as CP866 (DOS)"),
    ("оПХБЕР", "Привет", "Windows-1251 bytes decoded as KOI8-R"),
    ("рТЙЧЕФ", "Привет", "KOI8-R bytes decoded as Windows-1251"),
    ("оПХБЕР, ЙЮЙ ДЕКЮ?", "Привет, как дела?", "Windows-1251 bytes decoded as KOI8-R"),
    ("Ïðèâåò, êàê äåëà?", "Привет, как дела?", "Windows-1251 bytes decoded as Windows-1252"),
    ("╧ЁштхЄ, ъръ фхыр?", "Привет, как дела?", "Windows-1251 bytes decoded as CP866 (DOS)"),
]


@pytest.mark.parametrize(("bad", "good", "why"), LITERAL_CASES)
def test_repair_literal_examples(bad: str, good: str, why: str) -> None:
    assert repair(bad) == (good, why)


def test_koi8_example_of_the_brief_is_transposed() -> None:
    """``п÷п╦я─п╣п╡п╣я┌`` (from the brief) has two letters swapped: still mojibake, decoded
    faithfully; the real KOI8-R rendering of ``Привет`` is ``п÷я─п╦п╡п╣я┌``."""
    assert repair("п÷п╦я─п╣п╡п╣я┌") == ("Пиревет", "UTF-8 bytes decoded as KOI8-R")
    assert utf8_as("koi8_r")("Привет") == "п÷я─п╦п╡п╣я┌"


@pytest.mark.parametrize(("codec", "name"), UTF8_FAMILIES)
def test_utf8_family_whole_sentence(codec: str, name: str) -> None:
    bad = utf8_as(codec)(SENTENCE)
    text = f"Ответ: {bad}\nДальше всё в порядке."
    spans = find_mojibake(text)
    check_invariants(text, spans)
    assert [(s.text, s.fixed) for s in spans] == [(bad, SENTENCE)]
    assert spans[0].explanation == f"UTF-8 bytes decoded as {name}"
    assert spans[0].start == len("Ответ: ")


@pytest.mark.parametrize(("codec", "name"), UTF8_FAMILIES)
def test_utf8_family_many_sentences(codec: str, name: str) -> None:
    for good in _sentences(RU_CYRILLIC_WORDS, 40, seed=len(codec), lo=1):
        bad = utf8_as(codec)(good)
        spans = find_mojibake(bad)
        check_invariants(bad, spans)
        core = good.rstrip(".!?:")  # ASCII stays ASCII; a damaged "…" belongs to the span
        assert [s.fixed for s in spans] == [core], (good, bad)
        assert name in spans[0].explanation


LEGACY_FAMILIES = [
    (legacy("cp1251", "koi8_r"), "Windows-1251 bytes decoded as KOI8-R"),
    (legacy("koi8_r", "sloppy-windows-1251"), "KOI8-R bytes decoded as Windows-1251"),
    (legacy("cp1251", "sloppy-windows-1252"), "Windows-1251 bytes decoded as Windows-1252"),
    (legacy("cp1251", "cp866"), "Windows-1251 bytes decoded as CP866 (DOS)"),
    (legacy("cp866", "sloppy-windows-1251"), "CP866 (DOS) bytes decoded as Windows-1251"),
]


@pytest.mark.parametrize(("damage", "why"), LEGACY_FAMILIES)
def test_legacy_family_whole_sentence(damage: Callable[[str], str], why: str) -> None:
    bad = damage(SENTENCE)
    spans = find_mojibake(f"Ответ: {bad}\nКонец.")
    assert [(s.fixed, s.explanation) for s in spans] == [(SENTENCE, why)]


@pytest.mark.parametrize(("damage", "why"), LEGACY_FAMILIES)
def test_legacy_family_many_sentences(damage: Callable[[str], str], why: str) -> None:
    """Lexicon-checked families: most sentences are found; a found repair is never wrong."""
    found = 0
    sentences = _sentences(RU_CYRILLIC_WORDS, 80, seed=len(why), lo=3, ends=".!?:")
    for good in sentences:
        bad = damage(good)
        spans = find_mojibake(bad)
        check_invariants(bad, spans)
        found += bool(spans)
        for sp in spans:
            assert sp.explanation == why
            assert sp.fixed in good, (good, sp)
    assert found >= 0.9 * len(sentences)


DOUBLE_CASES = [
    (
        lambda s: utf8_as("sloppy-windows-1252")(utf8_as("sloppy-windows-1252")(s)),
        "UTF-8 bytes decoded as Windows-1252, twice over (mojibake of mojibake)",
    ),
    (
        lambda s: utf8_as("sloppy-windows-1252")(utf8_as("sloppy-windows-1251")(s)),
        "double mojibake: UTF-8 bytes decoded as Windows-1251, then as Windows-1252",
    ),
    (
        lambda s: utf8_as("sloppy-windows-1251")(utf8_as("mac_roman")(s)),
        "double mojibake: UTF-8 bytes decoded as Mac-Roman, then as Windows-1251",
    ),
    (
        lambda s: utf8_as("sloppy-windows-1251")(utf8_as("sloppy-windows-1251")(s)),
        "UTF-8 bytes decoded as Windows-1251, twice over (mojibake of mojibake)",
    ),
    (
        lambda s: utf8_as("sloppy-windows-1252")(legacy("cp1251", "sloppy-windows-1252")(s)),
        "double mojibake: Windows-1251 bytes decoded as Windows-1252, then as Windows-1252",
    ),
]


@pytest.mark.parametrize(("damage", "why"), DOUBLE_CASES)
def test_double_encoding(damage: Callable[[str], str], why: str) -> None:
    bad = damage(SENTENCE)
    spans = find_mojibake(f"Текст: {bad}")
    assert [(s.fixed, s.explanation) for s in spans] == [(SENTENCE, why)]
    assert repair(bad) == (SENTENCE, why)


def test_triple_encoding() -> None:
    bad = SENTENCE
    for _ in range(3):
        bad = utf8_as("sloppy-windows-1252")(bad)
    fixed, why = repair(bad) or ("", "")
    assert fixed == SENTENCE
    assert "three times" in why


def test_broken_punctuation_alone() -> None:
    text = "Он сказал â€” и ушёл, а она: вЂњнетвЂќ."
    assert [(s.text, s.fixed) for s in find_mojibake(text)] == [
        ("â€”", "—"),
        ("вЂњ", "“"),
        ("вЂќ", "”"),
    ]


def test_flattened_no_break_space() -> None:
    """``Р`` is D0 A0 in UTF-8; copy-paste often turns its A0 (no-break space) into a space."""
    bad = "Р РѕСЃСЃРёСЏ Рё Р РѕРјР°"
    assert repair(bad) == ("Россия и Рома", "UTF-8 bytes decoded as Windows-1251")
    assert [s.fixed for s in find_mojibake(f"Страна: {bad}.")] == ["Россия и Рома"]


def test_lost_undefined_byte_of_windows_1251() -> None:
    """0x98 is undefined in Windows-1251, so a U+FFFD after ``Р`` can only be ``И``."""
    assert repair("РџР\ufffdР\ufffdРљ") == ("ПИИК", "UTF-8 bytes decoded as Windows-1251")
