"""Word knowledge: frequencies (wordfreq), morphology (pymorphy3) and shipped name lists.

All of it comes from installed packages or files inside langlock; nothing is downloaded.
The libraries load lazily on first use and every lookup is cached per word.

>>> zipf("attention", "en") > 4
True
>>> is_known_name("pandas")
True
"""

from __future__ import annotations

from functools import cache, lru_cache
from importlib import resources
from typing import Any


def _data_lines(*parts: str) -> frozenset[str]:
    path = resources.files("langlock").joinpath("data", *parts)
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(w.strip().casefold() for w in lines if w.strip() and not w.startswith("#"))


@cache
def software_names() -> frozenset[str]:
    """Lowercase names of libraries and tools that are names, not words, in prose."""
    return _data_lines("names", "software.txt") | _data_lines("names", "tech.txt")


@cache
def english_stopwords() -> frozenset[str]:
    return _data_lines("lexicon", "stopwords_en.txt")


@cache
def english_title_words() -> frozenset[str]:
    return _data_lines("lexicon", "title_words_en.txt")


def is_known_name(word: str) -> bool:
    return word.casefold() in software_names()


@lru_cache(maxsize=262144)
def zipf(word: str, lang: str) -> float:
    """wordfreq Zipf frequency (0 = unknown, 7 = "the"); 0.0 when the language is absent."""
    if not lang:
        return 0.0
    from wordfreq import zipf_frequency

    try:
        return zipf_frequency(word, lang)
    except LookupError:
        return 0.0


@cache
def _morph(lang: str) -> Any:
    import pymorphy3

    return pymorphy3.MorphAnalyzer(lang=lang)


@lru_cache(maxsize=262144)
def is_native_word(word: str, lang: str, wordfreq_lang: str = "") -> bool:
    """True when the word is in the language's morphological dictionary (any inflection),
    or, for languages without one, in its frequency list.

    >>> is_native_word("кошками", "ru")
    True
    >>> is_native_word("прювет", "ru")
    False
    """
    low = word.casefold()
    if lang:
        try:
            return bool(_morph(lang).word_is_known(low))
        except (ImportError, ValueError, OSError):
            pass
    return zipf(low, wordfreq_lang or lang) > 1.0


def best_foreign_language(words: list[str], langs: tuple[str, ...]) -> tuple[str, float]:
    """The language (of ``langs``) in which the words are most frequent, with the mean Zipf.

    >>> best_foreign_language(["en", "la", "grandeza", "de", "tu", "destino"], ("en", "es"))[0]
    'es'
    """
    return _best_language(tuple(w.casefold() for w in words[:MAX_SAMPLE]), langs)


@lru_cache(maxsize=65536)
def _best_language(sample: tuple[str, ...], langs: tuple[str, ...]) -> tuple[str, float]:
    best, best_score = langs[0] if langs else "en", -1.0
    for lang in langs:
        score = sum([zipf(w, lang) for w in sample]) / max(1, len(sample))
        if lang == "en" and score >= CLEARLY_ENGLISH:
            return "en", score  # ordinary English prose: no need to try the others
        if score > best_score:
            best, best_score = lang, score
    return best, best_score


#: Words enough to tell English from Spanish; more only costs time.
MAX_SAMPLE = 8
#: Mean Zipf frequency of running English text is about 5; Spanish or German words read
#: as English score far lower.
CLEARLY_ENGLISH = 4.0
