"""Mojibake spans: fragments in mixed lines, other alphabets, no false alarms, robustness."""

from __future__ import annotations

import dataclasses
import json
import random
from pathlib import Path

import ftfy.bad_codecs  # noqa: F401  (registers the sloppy-windows-* codecs used below)
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from langlock.text.detectors.mojibake import find_mojibake, repair
from langlock.text.detectors.mojibake.families import _has_seed, _profile, default_alphabet
from tests.text.mojibake_cases import (
    EL_ALPHABET,
    NEGATIVES,
    PIECES,
    RU_ALPHABET,
    RU_CYRILLIC_WORDS,
    RU_WORDS,
    UK_ALPHABET,
    UTF8_FAMILIES,
    _sentences,
    _words,
    check_invariants,
    legacy,
    utf8_as,
)

# --------------------------------------------------------------------------- spans


def test_mixed_line_gives_just_the_fragment() -> None:
    text = "Всё хорошо, но потом: ÐŸÑ€Ð¸Ð²ÐµÑ‚, Ð¼Ð¸Ñ€! И дальше нормальный текст."
    spans = find_mojibake(text)
    check_invariants(text, spans)
    assert [(s.text, s.fixed) for s in spans] == [("ÐŸÑ€Ð¸Ð²ÐµÑ‚, Ð¼Ð¸Ñ€", "Привет, мир")]


def test_mixed_line_legacy_fragment() -> None:
    text = "Нормальный текст, потом оПХБЕР, ЙЮЙ ДЕКЮ? и снова нормальный."
    assert [(s.text, s.fixed) for s in find_mojibake(text)] == [
        ("оПХБЕР, ЙЮЙ ДЕКЮ", "Привет, как дела")
    ]


def test_several_fragments_and_lines() -> None:
    a = utf8_as("mac_roman")("Первая часть")
    b = utf8_as("sloppy-windows-1251")("вторая часть")
    c = utf8_as("koi8_r")("Третья строка")
    text = f"Начало {a} середина «{b}» конец.\nДругая строка: {c}!\nЧистая строка."
    spans = find_mojibake(text)
    check_invariants(text, spans)
    assert [s.fixed for s in spans] == ["Первая часть", "вторая часть", "Третья строка"]
    assert [s.text for s in spans] == [a, b, c]


def test_span_keeps_ascii_words_between_mojibake_words() -> None:
    """ASCII between mojibake words is inside the span; ASCII at its edges is not."""
    bad = utf8_as("sloppy-windows-1251")("Я люблю Python и Go")
    spans = find_mojibake(bad)
    assert [(s.text, s.fixed) for s in spans] == [(bad[:-3], "Я люблю Python и")]


def test_ukrainian_alphabet() -> None:
    good = "Привіт, як справи? Їжак і ґанок — це українські слова"
    for codec in ("sloppy-windows-1252", "sloppy-windows-1251", "mac_roman", "koi8_u"):
        bad = utf8_as(codec)(good)
        assert [s.fixed for s in find_mojibake(bad, UK_ALPHABET)] == [good]
    assert find_mojibake(good, UK_ALPHABET) == []


def test_greek_alphabet() -> None:
    good = "Καλημέρα κόσμε, τι κάνεις"
    for codec in ("sloppy-windows-1252", "mac_roman", "sloppy-windows-1251"):
        assert [s.fixed for s in find_mojibake(utf8_as(codec)(good), EL_ALPHABET)] == [good]
    bad = legacy("cp1253", "sloppy-windows-1252")(good)
    assert [s.fixed for s in find_mojibake(bad, EL_ALPHABET)] == [good]
    assert find_mojibake(good, EL_ALPHABET) == []


def test_repair_of_other_alphabet_does_not_count() -> None:
    """Russian mojibake is not reported when the target is English, nor Greek for Russian."""
    assert find_mojibake("ÐŸÑ€Ð¸Ð²ÐµÑ‚, Ð¼Ð¸Ñ€", "abcdefghijklmnopqrstuvwxyz") == []
    assert find_mojibake(utf8_as("sloppy-windows-1252")("Καλημέρα κόσμε")) == []


def test_default_alphabet_is_russian() -> None:
    assert RU_ALPHABET == "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"
    text = "Ответ: РџСЂРёРІРµС‚"
    assert find_mojibake(text, RU_ALPHABET) == find_mojibake(text)
    assert repair("РџСЂРёРІРµС‚", RU_ALPHABET) == repair("РџСЂРёРІРµС‚")


def test_span_is_frozen() -> None:
    sp = find_mojibake("ÐŸÑ€Ð¸Ð²ÐµÑ‚")[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        sp.start = 3  # type: ignore[misc]


# --------------------------------------------------------------------------- negatives


@pytest.mark.parametrize("text", NEGATIVES)
def test_no_false_positive(text: str) -> None:
    assert find_mojibake(text) == []
    assert repair(text) is None


def test_generated_russian_sentences_are_clean() -> None:
    sentences = _sentences(RU_WORDS, 400, seed=1)
    variants: list[str] = []
    for s in sentences:
        variants += [s, s.upper(), s.title(), s.replace(" ", "\u00a0"), f"«{s}» — {s.lower()}…"]
    for text in variants:
        assert find_mojibake(text) == [], text
    assert find_mojibake("\n".join(variants)) == []


@pytest.mark.parametrize(
    "lang", ["uk", "bg", "mk", "en", "de", "fr", "es", "pt", "pl", "cs", "el", "tr", "is", "da"]
)
def test_generated_foreign_sentences_are_clean(lang: str) -> None:
    sentences = _sentences(_words(lang, 3000), 100, seed=2)
    text = "\n".join(sentences + [s.upper() for s in sentences])
    assert find_mojibake(text) == []


def test_uppercase_russian_pairs_are_clean() -> None:
    """Two capitalised words in a row trigger the KOI8/Windows-1251 check; real words pass."""
    rng = random.Random(5)
    for _ in range(300):
        text = " ".join(rng.choice(RU_WORDS).upper() for _ in range(rng.randint(2, 4)))
        assert find_mojibake(text) == [], text


DEVSET = Path(__file__).resolve().parents[3] / "shared" / "devset" / "answers.jsonl"


@pytest.mark.skipif(not DEVSET.exists(), reason="dev set not available")
def test_devset_answers_are_clean() -> None:
    """Real model answers (none has mojibake): not a single span, also upper-cased."""
    texts = [json.loads(line)["text"] for line in DEVSET.read_text("utf-8").splitlines()]
    for text in texts:
        assert find_mojibake(text) == [], text[:200]
        assert find_mojibake(text.upper()) == [], text[:200]


# --------------------------------------------------------------------------- robustness


def test_huge_single_line_clean() -> None:
    rng = random.Random(9)
    line = " ".join(rng.choice(RU_WORDS) for _ in range(160_000))[:1_000_000]
    assert len(line) == 1_000_000
    assert find_mojibake(line) == []


def test_long_single_line_of_mojibake() -> None:
    good = " ".join(_sentences(RU_CYRILLIC_WORDS, 2000, seed=4))
    bad = utf8_as("mac_roman")(good)
    spans = find_mojibake(bad)
    check_invariants(bad, spans)
    assert "".join(s.fixed for s in spans) in good
    assert sum(len(s.text) for s in spans) > 0.95 * len(bad)


def test_odd_inputs_never_raise() -> None:
    for text in [
        "\ud800",
        "\udfff Р\ud800Ñ\udc00 ÐŸ\ud800",
        "Р" * 10_000 + "Ð" * 1000 + "\xa0" * 5 + "Ñ€" * 3,
        "\x00\x01\x7f\x80\x9f",
        "".join(chr(c) for c in range(0x80, 0x800)),
        "\U0010ffff\U000e0001\U0001f600",
        "Ð\n" * 1000,
    ]:
        spans = find_mojibake(text)
        check_invariants(text, spans)
        repair(text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.characters(blacklist_categories=()), max_size=200))
def test_any_text_never_raises(text: str) -> None:
    spans = find_mojibake(text)
    check_invariants(text, spans)
    result = repair(text)
    assert result is None or (isinstance(result[0], str) and isinstance(result[1], str))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PIECES), max_size=30).map("".join))
def test_mixed_pieces_invariants(text: str) -> None:
    spans = find_mojibake(text)
    check_invariants(text, spans)
    for sp in spans:
        assert "\n" not in sp.text


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(RU_CYRILLIC_WORDS[:2000]), min_size=1, max_size=8))
def test_any_russian_words_are_clean(words: list[str]) -> None:
    text = " ".join(words)
    assert find_mojibake(text) == []
    assert find_mojibake(text.capitalize() + ".") == []


_PROFILE = _profile(default_alphabet())


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sampled_from(RU_CYRILLIC_WORDS[:3000]), min_size=2, max_size=8),
    st.sampled_from([c for c, _ in UTF8_FAMILIES]),
)
@example(["и", "защиты"], "sloppy-windows-1251")  # no tell: assumed away, not failed
@example(["в", "защиты"], "sloppy-windows-1251")
def test_utf8_damage_round_trips(words: list[str], codec: str) -> None:
    # Only short words ("у у", "ты ты" → "С‚С‹") can leave no tell-tale character that real
    # text lacks (‚ and ‹ are real quotes): a known limit, documented in the module.
    assume(any(len(w) >= 4 for w in words))
    # Mac-Cyrillic turns words made only of р…я into "—Б—Б—Б—А": dashes and capitals with no
    # tell-tale character; a known limit (see the module's notes).
    assume(codec != "mac_cyrillic" or any("а" <= c <= "п" for c in "".join(words)))
    good = " ".join(words)
    bad = utf8_as(codec)(good)
    # Longer words can lack a tell too: «защиты» shows as «Р·Р°С‰РёС‚С‹» in Windows-1251, every
    # character of which real text has (· ° ‰ ё ‚ ‹); spans start at a tell, by design.
    assume(_has_seed(bad, _PROFILE))
    text = f"До: {bad}. После."
    spans = find_mojibake(text)
    check_invariants(text, spans)
    assert [s.fixed for s in spans] == [good]
