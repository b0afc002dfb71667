"""What the corruption recipes know and where they may write: the language's data file
(``data/train/corrupt_<lang>.toml``), spellings in Latin letters read from the language's
translit schemes, and the words and sentences of a text outside its protected regions.

>>> data = load_data("ru")
>>> data.words["модель"], data.lookalike["р"], "是" in data.han_pool
('model', 'p', True)
>>> spell("Жёлтый чай", data.spellings["informal"])
'Zhyoltyy chay'
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from langlock.policy import load_profile
from langlock.text.regions import Regions

#: A span of text: ``(start, end)`` code-point offsets.
Span = tuple[int, int]

#: One way to write a letter: its Latin spelling and the contexts it needs (``start``,
#: ``end``, ``afterV``, ``afterC`` as in the translit file's [informal] table).
Option = tuple[str, frozenset[str]]

#: Markup that opens a line and is no part of its first sentence: quotes, bullets, numbers,
#: headings.
_LINE_MARKUP = re.compile(r"[ \t]*(?:>[ \t]*)*(?:[-*+•][ \t]+|\d{1,3}[.)][ \t]+|#{1,6}[ \t]+)?")
#: A sentence: up to closing punctuation that whitespace or the line end follows.
_SENTENCE = re.compile(r"\S.*?(?:[.!?…]+(?=\s|$)|$)")


@dataclass(frozen=True, slots=True)
class Spelling:
    """A way to write the target's letters in Latin ones, read from a translit scheme."""

    name: str
    letters: Mapping[str, tuple[Option, ...]]
    #: Letters after which ``afterV`` (vowels, soft and hard signs) or ``afterC`` holds.
    vowels: frozenset[str]
    consonants: frozenset[str]


@dataclass(frozen=True, slots=True, eq=False)
class CorruptionData:
    """The contents of one ``corrupt_<lang>.toml`` (see the file's comments)."""

    lang: str
    #: The target's letters, lower and upper case: what a target-language word is made of.
    letters: str
    words: Mapping[str, str]
    #: In the file's order: the first ending a word form ends in is the one glued.
    suffixes: tuple[str, ...]
    prefixes: tuple[str, ...]
    han_pool: tuple[str, ...]
    han_words: Mapping[str, str]
    lookalike: Mapping[str, str]
    spellings: Mapping[str, Spelling]
    spelling_weights: Mapping[str, float]
    switch_pool: tuple[str, ...]


def data_file(lang: str) -> str:
    """The package path of a language's corruption data.

    >>> data_file("ru")
    'langlock/data/train/corrupt_ru.toml'
    """
    return f"langlock/data/train/corrupt_{lang}.toml"


@cache
def load_data(lang: str) -> CorruptionData:
    """The corruption data of a target language, read once per process.

    A language without a data file is an error that names the file to add:

    >>> load_data("uk")
    Traceback (most recent call last):
    ...
    FileNotFoundError: no corruption data for 'uk': add langlock/data/train/corrupt_uk.toml
    """
    path = resources.files("langlock") / "data" / "train" / f"corrupt_{lang}.toml"
    if not re.fullmatch(r"[a-z]{2,3}(?:[-_][A-Za-z]+)?", lang) or not path.is_file():
        raise FileNotFoundError(f"no corruption data for {lang!r}: add {data_file(lang)}")
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    profile = load_profile(lang)
    translit = raw.get("translit", {})
    weights = {str(k): float(v) for k, v in translit.get("weights", {"informal": 1}).items()}
    scheme = _translit_scheme(profile.transliteration or lang)
    glue = raw.get("glue", {})
    han = raw.get("han", {})
    return CorruptionData(
        lang=lang,
        letters=profile.alphabet + profile.alphabet.upper(),
        words={str(k).lower(): str(v) for k, v in raw.get("words", {}).items()},
        suffixes=tuple(dict.fromkeys(glue.get("suffixes", ()))),
        prefixes=tuple(dict.fromkeys(glue.get("prefixes", ()))),
        han_pool=tuple(han.get("pool", ())),
        han_words={str(k).lower(): str(v) for k, v in han.get("words", {}).items()},
        lookalike=dict(raw.get("lookalike", {})),
        spellings={
            name: spelling_from_scheme(scheme, name, str(translit.get("base", "")))
            for name in weights
        },
        spelling_weights=weights,
        switch_pool=tuple(raw.get("switch", {}).get("pool", ())),
    )


@cache
def _translit_scheme(name: str) -> Mapping[str, Any]:
    path = resources.files("langlock") / "data" / "translit" / f"{name}.toml"
    if not path.is_file():
        raise FileNotFoundError(f"no transliteration scheme {name!r}: langlock/data/translit")
    return tomllib.loads(path.read_text(encoding="utf-8"))


def spelling_from_scheme(scheme: Mapping[str, Any], name: str, base: str = "") -> Spelling:
    """Invert one table of a translit file into a way of writing letters in Latin.

    ``"informal"`` reads the [informal] table backwards: each letter takes the cheapest
    Latin chunk that reads back as that letter alone, a chunk bound to a context (``y``
    for й after a vowel) before a general one. A formal scheme's letters are laid over
    ``base``'s, and each letter takes the scheme's first spelling.

    >>> s = spelling_from_scheme(_translit_scheme("ru"), "informal")
    >>> s.letters["ш"][0], [o[0] for o in s.letters["й"]][:2]
    (('sh', frozenset()), ['y', 'j'])
    >>> spelling_from_scheme(_translit_scheme("ru"), "scholarly", "bgn_pcgn").letters["ш"]
    (('š', frozenset()),)
    """
    consonants = frozenset(str(scheme.get("consonants", "")))
    vowels = frozenset(str(scheme.get("vowels", ""))) | {"ь", "ъ"}
    if name == "informal":
        ranked: dict[str, list[tuple[float, int, int, str, frozenset[str]]]] = {}
        for latin, specs in scheme.get("informal", {}).items():
            for spec in [specs] if isinstance(specs, str) else specs:
                cyr, cost, *contexts = str(spec).split()
                if len(cyr) == 1 and "marked" not in contexts:
                    key = (float(cost), -len(contexts), len(latin), latin, frozenset(contexts))
                    ranked.setdefault(cyr, []).append(key)
        letters = {c: tuple((o[3], o[4]) for o in sorted(opts)) for c, opts in ranked.items()}
        return Spelling(name, letters, vowels, consonants)
    schemes = scheme.get("schemes", {})
    if name not in schemes:
        raise ValueError(f"no translit scheme {name!r}; known: informal, {', '.join(schemes)}")
    table = {**schemes.get(base, {}).get("letters", {}), **schemes[name].get("letters", {})}
    letters = {
        str(c): ((str(v if isinstance(v, str) else v[0]), frozenset()),) for c, v in table.items()
    }
    return Spelling(name, letters, vowels, consonants)


def spell(text: str, spelling: Spelling) -> str:
    """Write every letter ``spelling`` knows in Latin; everything else stays.

    >>> informal = load_data("ru").spellings["informal"]
    >>> spell("Это, по-моему, ПРОСТО!", informal)
    'Eto, po-moemu, PROSTO!'
    """
    out: list[str] = []
    for i, char in enumerate(text):
        low = char.lower()
        options = spelling.letters.get(low)
        if not options:
            out.append(char)
            continue
        prev = text[i - 1].lower() if i else ""
        after = text[i + 1] if i + 1 < len(text) else ""
        here = {
            "start": not prev.isalpha(),
            "end": not after.isalpha(),
            "afterV": prev in spelling.vowels,
            "afterC": prev in spelling.consonants,
        }
        latin = next((lat for lat, ctx in options if all(here[c] for c in ctx)), options[-1][0])
        if char != low:
            word_caps = _caps_around(text, i)
            latin = latin.upper() if word_caps else latin[:1].upper() + latin[1:]
        out.append(latin)
    return "".join(out)


def _caps_around(text: str, i: int) -> bool:
    """Whether the word at ``i`` is written in capitals (two or more letters, none lower).

    >>> _caps_around("ОЧЕНЬ просто", 1), _caps_around("Жук", 0), _caps_around("Я", 0)
    (True, False, False)
    """
    start, end = i, i
    while start > 0 and text[start - 1].isalpha():
        start -= 1
    while end < len(text) and text[end].isalpha():
        end += 1
    word = text[start:end]
    return len(word) > 1 and word.isupper()


def protected(text: str) -> tuple[tuple[int, int, str], ...]:
    """The text's protected regions (code, URLs, paths …), as the checker finds them."""
    return Regions.find(text).spans


def is_free(span: Span, regions: tuple[tuple[int, int, str], ...]) -> bool:
    """Whether ``span`` overlaps no protected region.

    >>> is_free((0, 3), ((5, 9, "url"),)), is_free((4, 6), ((5, 9, "url"),))
    (True, False)
    """
    return not any(s < span[1] and span[0] < e for s, e, _ in regions)


def regions_kept(old: str, new: str) -> bool:
    """Whether ``new`` has the same protected regions as ``old``, with the same text: an
    edit outside them must neither change one nor make a new one.

    >>> regions_kept("см. `x` тут", "см. `x` там"), regions_kept("слово", "model(x)")
    (True, False)
    """
    return [old[s:e] for s, e, _ in protected(old)] == [new[s:e] for s, e, _ in protected(new)]


@cache
def _word_pattern(letters: str) -> re.Pattern[str]:
    chars = re.escape(letters)
    return re.compile(rf"(?<![\w'’-])[{chars}]+(?![\w'’-])")


def target_words(text: str, data: CorruptionData) -> list[Span]:
    """Words of target letters only, outside protected regions and not glued to anything
    (``SQL-запрос``, ``по-моему`` are left alone).

    >>> t = "Откройте https://a.ru/путь и SQL-запрос, `код` тут"
    >>> [t[s:e] for s, e in target_words(t, load_data("ru"))]
    ['Откройте', 'и', 'тут']
    """
    regions = protected(text)
    return [
        m.span() for m in _word_pattern(data.letters).finditer(text) if is_free(m.span(), regions)
    ]


def sentences(text: str) -> Iterator[Span]:
    """Sentences line by line; a line's bullet, number or heading mark is left out.

    >>> t = "Вот шаги:\\n1. Возьмите мёд. Растворите его.\\n- Готово!"
    >>> [t[s:e] for s, e in sentences(t)]
    ['Вот шаги:', 'Возьмите мёд.', 'Растворите его.', 'Готово!']
    """
    pos = 0
    for line in text.split("\n"):
        body = _LINE_MARKUP.match(line)
        start = body.end() if body else 0
        for m in _SENTENCE.finditer(line, start):
            if m.end() > m.start():
                yield pos + m.start(), pos + m.end()
        pos += len(line) + 1


def count_words(span: Span, words: list[Span]) -> int:
    """How many of ``words`` lie inside ``span``.

    >>> count_words((0, 10), [(0, 3), (4, 8), (11, 14)])
    2
    """
    return sum(1 for s, e in words if span[0] <= s and e <= span[1])


def splice(text: str, start: int, end: int, new: str) -> str:
    """``text`` with ``[start, end)`` replaced.

    >>> splice("важный шаг", 7, 10, "step")
    'важный step'
    """
    return text[:start] + new + text[end:]


def match_case(word: str, like: str) -> str:
    """``word`` in the case of ``like``: capitals, a capital first letter, or as it is.

    >>> match_case("model", "МОДЕЛЬ"), match_case("model", "Модель"), match_case("x", "я")
    ('MODEL', 'Model', 'x')
    """
    if len(like) > 1 and like.isupper():
        return word.upper()
    if like[:1].isupper():
        return word[:1].upper() + word[1:]
    return word
