"""Readings: the Cyrillic spellings a Latin word may stand for, and what the lexicons
know about them."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from langlock.policy import DEFAULT_LANG
from langlock.text.detectors.translit.scheme import _load_scheme, _Option, _Scheme

_APOSTROPHES = "'’ʼʹ`"
_SOFT_BLOCKERS = frozenset("aeiouyj'’ʼʹ`ëâûêèéȳė")


# ------------------------------------------------------------------- lexicon resources


@lru_cache(maxsize=4)
def _morph(lang: str) -> Any:
    """The pymorphy3 analyzer for ``lang`` (None when it cannot be loaded)."""
    try:
        import pymorphy3

        return pymorphy3.MorphAnalyzer(lang=lang)
    except Exception:
        return None


@dataclass(frozen=True, slots=True)
class _Lexicon:
    """Word-form lookups: ``contains(word)``, and a prefix cursor when available."""

    contains: Callable[[str], bool]
    follow: Callable[[Any, str], Any] | None = None
    root: Any = None


@lru_cache(maxsize=4)
def _lexicon(lang: str) -> _Lexicon | None:
    """pymorphy3's dictionary of word forms (None when pymorphy3 cannot be loaded).

    The DAWG behind it doubles as a prefix tree, so readings are pruned as they grow;
    should its internals change, exact lookups through ``word_is_known`` still work.
    """
    morph = _morph(lang)
    if morph is None:
        return None
    try:
        words = morph.dictionary.words
        dct = words.dct
        dct.follow_bytes(b"", dct.ROOT)

        def follow(node: Any, text: str) -> Any:
            return dct.follow_bytes(text.encode("utf-8"), node)

        return _Lexicon(words.__contains__, follow, dct.ROOT)
    except Exception:
        return _Lexicon(lambda w: bool(morph.word_is_known(w, strict=True)))


@lru_cache(maxsize=1 << 18)
def _zipf(word: str, lang: str) -> float:
    """wordfreq's Zipf frequency, 0.0 when unknown or when wordfreq fails.

    ``lang`` may name a wordlist: ``"de:small"``.
    """
    code, _, wordlist = lang.partition(":")
    try:
        from wordfreq import zipf_frequency

        return float(zipf_frequency(word, code, wordlist=wordlist or "best"))
    except Exception:
        return 0.0


# ------------------------------------------------------------------------ candidates


@lru_cache(maxsize=1 << 16)
def _normalize(word: str) -> str:
    """Lower-case a word, unify apostrophes, drop quote marks at its edges.

    >>> _normalize("Delat’")
    "delat'"
    >>> _normalize("'Privet")
    'privet'
    >>> _normalize("z\u030cizn'") == "žizn'"
    True
    """
    w = unicodedata.normalize("NFC", word.strip()).lower()
    for ch in "’ʼ":
        w = w.replace(ch, "'")
    w = w.lstrip(_APOSTROPHES + "-").rstrip("-")
    # a closing quote after a vowel is not a soft sign
    while w and w[-1] in _APOSTROPHES and (len(w) < 2 or w[-2] in "aeiouy'"):
        w = w[:-1]
    return w


def _context_ok(opt: _Option, word: str, pos: int, end: int, prev: str, sch: _Scheme) -> bool:
    for c in opt.ctx:
        if c == "start" and not (pos == 0 or word[pos - 1] == "-"):
            return False
        if c == "end" and not (end == len(word) or word[end] in "-"):
            return False
        if c == "afterV" and not (prev in sch.vowels or prev in "ьъ"):
            return False
        if c == "afterC" and prev not in sch.consonants:
            return False
        if c == "marked" and not any(ch in sch.marked for ch in word):
            return False
    return True


def _generate(
    word: str,
    sch: _Scheme,
    limit: int,
    follow: Callable[[Any, str], Any] | None = None,
    root: Any = None,
) -> list[tuple[float, str, Any]]:
    """Beam search over Latin chunks; readings cheapest first as (cost, cyrillic, node).

    ``follow(node, text)`` advances a lexicon cursor and returns None when no word starts
    that way; readings that fall off the lexicon are dropped as soon as they do.
    """
    n = len(word)
    beams: list[dict[str, tuple[float, Any]]] = [{} for _ in range(n + 1)]
    beams[0][""] = (0.0, root)

    def add(slot: dict[str, tuple[float, Any]], out: str, cost: float, node: Any) -> None:
        old = slot.get(out)
        if old is None or cost < old[0]:
            slot[out] = (cost, node)

    for pos in range(n):
        states = beams[pos]
        if not states:
            continue
        if len(states) > limit:
            states = dict(sorted(states.items(), key=lambda kv: (kv[1][0], kv[0]))[:limit])
        chunks = [
            word[pos : pos + k]
            for k in range(min(sch.max_chunk, n - pos), 0, -1)
            if word[pos : pos + k] in sch.options
        ]
        if not chunks:
            return []
        longest = chunks[0]
        for chunk in chunks:
            split = 0.0
            if len(chunk) < len(longest):
                split = sch.split_cost.get(longest, sch.default_split)
            end = pos + len(chunk)
            # an implied soft sign goes before a consonant or at the end: pismo, zhizn
            soft_ok = end == n or word[end] == "-" or word[end] not in _SOFT_BLOCKERS
            for out, (cost, node) in states.items():
                prev = out[-1] if out else ""
                for opt in sch.options[chunk]:
                    if opt.ctx and not _context_ok(opt, word, pos, end, prev, sch):
                        continue
                    new_cost = cost + opt.cost + split
                    new_node = node
                    if follow is not None and opt.cyr:
                        new_node = follow(node, opt.cyr)
                        if new_node is None:
                            continue
                    new_out = out + opt.cyr
                    add(beams[end], new_out, new_cost, new_node)
                    if (
                        soft_ok
                        and sch.soft_sign
                        and len(new_out) > 1
                        and new_out[-1] in sch.soft_after
                    ):
                        soft_node = new_node
                        if follow is not None:
                            soft_node = follow(new_node, sch.soft_sign)
                            if soft_node is None:
                                continue
                        add(
                            beams[end], new_out + sch.soft_sign, new_cost + sch.soft_cost, soft_node
                        )
    final = sorted(
        ((c, out, node) for out, (c, node) in beams[n].items()), key=lambda t: (t[0], t[1])
    )
    return final[:limit]


def cyrillic_candidates(word: str, limit: int = 64, lang: str = DEFAULT_LANG) -> list[str]:
    """Cyrillic readings of a Latin word by the schemes alone, cheapest first.

    No lexicon is consulted: this lists what the schemes allow (at most ``limit``),
    lower-case. Empty for anything that is not a Latin-letter word. ``lang`` names the
    schemes (a profile's ``transliteration``); the default target's by default.

    >>> cyrillic_candidates("shchi")[0]
    'щи'
    >>> "жизнь" in cyrillic_candidates("zhizn")
    True
    >>> cyrillic_candidates("pis'mo")[0]
    'письмо'
    >>> cyrillic_candidates("漢字")
    []
    """
    try:
        sch = _load_scheme(lang)
        w = _normalize(word) if isinstance(word, str) else ""
        if sch is None or not w or len(w) > sch.max_word_len or limit < 1:
            return []
        return [out for _, out, _ in _generate(w, sch, min(int(limit), 4096))]
    except Exception:
        return []


# --------------------------------------------------------------------- lexicon readings


@dataclass(frozen=True, slots=True)
class _Reading:
    cyr: str  # lower-case Cyrillic
    ru: float  # Zipf-like weight of the reading
    cost: float  # spelling cost
    name_only: bool
    name_any: bool
    noun_only: bool


def _name_flags(cyr: str, sch: _Scheme) -> tuple[bool, bool, bool]:
    """(every dictionary parse is a proper name, some parse is, every parse is a noun)."""
    morph = _morph(sch.morph_lang)
    try:
        parses = [p for p in morph.parse(cyr) if getattr(p, "is_known", True)]
    except Exception:
        return False, False, False
    if not parses:
        return False, False, False
    grams = [set(str(p.tag).replace(" ", ",").split(",")) for p in parses]
    names = [bool(g & sch.name_tags) for g in grams]
    return all(names), any(names), all("NOUN" in g for g in grams)


def _ru_weight(cyr: str, sch: _Scheme, lex: _Lexicon) -> float:
    """Zipf frequency of a known reading; word lists often write ё as е (ещё, еще),
    which counts unless the е spelling is a word of its own (перёд, перед)."""
    z = _zipf(cyr, sch.freq_lang)
    plain = cyr.replace("ё", "е")
    if plain != cyr and not lex.contains(plain):
        z = max(z, _zipf(plain, sch.freq_lang))
    return z if z > 0 else sch.thresholds["known_rare_zipf"]


@lru_cache(maxsize=1 << 16)
def _best_reading(lang: str, word: str) -> _Reading | None:
    """The most likely known Russian reading of a normalized Latin word, or None."""
    sch = _load_scheme(lang)
    if sch is None or not word or len(word) > sch.max_word_len:
        return None
    lex = _lexicon(sch.morph_lang)
    if lex is None:
        return None
    cands = _generate(word, sch, sch.beam, lex.follow, lex.root)
    best: tuple[float, str, float, float] | None = None
    for cost, cyr, _node in cands:
        weight: float | None = None
        if lex.contains(cyr):
            weight = _ru_weight(cyr, sch, lex)
        else:
            for ending, adjective in sch.compound_endings:
                if cyr.endswith(ending) and len(cyr) > len(ending) + 2:
                    adj = cyr[: -len(ending)] + adjective
                    if lex.contains(adj):
                        weight = _ru_weight(adj, sch, lex) - sch.compound_penalty
                        break
        if weight is None:
            continue
        score = weight - sch.cost_weight * cost
        if best is None or score > best[0]:
            best = (score, cyr, cost, weight)
    if best is None and "-" in word.strip("-"):
        parts = [p for p in word.split("-") if p]
        readings = [_best_reading(lang, p) for p in parts]
        rs = [r for r in readings if r is not None and len(r.cyr) > 1]
        if rs and len(rs) == len(parts):
            cyr = "-".join(r.cyr for r in rs)
            return _Reading(
                cyr,
                min(r.ru for r in rs),
                sum(r.cost for r in rs),
                all(r.name_only for r in rs),
                any(r.name_any for r in rs),
                all(r.noun_only for r in rs),
            )
        return None
    if best is None:
        return None
    _, cyr, cost, weight = best
    return _Reading(cyr, weight, cost, *_name_flags(cyr, sch))


def _restore_case(latin: str, cyr: str) -> str:
    """Carry the Latin word's case over to its Cyrillic reading.

    >>> _restore_case("PRIVET", "привет"), _restore_case("Privet", "привет")
    ('ПРИВЕТ', 'Привет')
    >>> _restore_case("Po-russki", "по-русски")
    'По-русски'
    """
    letters = [c for c in latin if c.isalpha()]
    if len(letters) > 1 and all(c.isupper() for c in letters):
        return cyr.upper()
    if letters and letters[0].isupper():
        return cyr[:1].upper() + cyr[1:]
    return cyr


def to_cyrillic(word: str, lang: str = DEFAULT_LANG) -> str | None:
    """The best Cyrillic reading of a Latin word if it is a known Russian word, else None.

    Context-free and unconditional: ``to_cyrillic("net")`` is ``'нет'`` although "net" is
    also English; use ``TranslitDetector`` to decide whether a word *is* translit.
    ``lang`` names the schemes, as for ``cyrillic_candidates``.

    >>> to_cyrillic("Privet")
    'Привет'
    >>> to_cyrillic("pozhalujsta")
    'пожалуйста'
    >>> to_cyrillic("delat'")
    'делать'
    >>> to_cyrillic("xyzzyq") is None
    True
    """
    try:
        if not isinstance(word, str):
            return None
        reading = _best_reading(lang, _normalize(word))
        return None if reading is None else _restore_case(word.strip(), reading.cyr)
    except Exception:
        return None


# ---------------------------------------------------------------------------- evidence


@dataclass(frozen=True, slots=True)
class _Evidence:
    reading: _Reading | None
    foreign: float  # best competing frequency (Zipf, minor languages lowered)
    letters: int
    shapes: tuple[tuple[str, bool, bool], ...]  # (guard, fits shape, shows marker)


def _soft_apostrophe(word: str, sch: _Scheme) -> bool:
    """Whether the word spells a soft sign with an apostrophe (pis'mo, den'; not don't)."""
    if sch.soft_apostrophe is None or not sch.soft_apostrophe.search(word):
        return False
    return sch.not_soft_apostrophe is None or not sch.not_soft_apostrophe.search(word)


@lru_cache(maxsize=1 << 16)
def _evidence(lang: str, word: str) -> _Evidence:
    """Everything known about one normalized Latin word, context aside (cached)."""
    sch = _load_scheme(lang)
    letters = sum(1 for c in word if c.isalnum())
    if sch is None:
        return _Evidence(None, 0.0, letters, ())
    shapes = tuple(
        (g.name, bool(g.shape.search(word)), bool(g.marker.search(word))) for g in sch.guards
    )
    reading = _best_reading(lang, word)
    foreign = 0.0
    if reading is not None:
        plain = word.replace("'", "")
        foreign = max((_zipf(plain, lg) for lg in sch.major), default=0.0)
        if sch.minor:
            foreign = max(foreign, max(_zipf(plain, lg) for lg in sch.minor) - sch.minor_offset)
        if _soft_apostrophe(word, sch):
            foreign = max(0.0, foreign - sch.soft_apostrophe_bonus)
    return _Evidence(reading, foreign, letters, shapes)
