"""Russian written in Latin letters: find it and give the Cyrillic spelling.

``privet, kak dela`` is Russian in Latin letters ("translit"). No library detects the
informal kind, so this module is a small lexicon-backed classifier:

1. **Candidates.** A Latin word is read back into Cyrillic with the transliteration
   schemes in ``data/translit/{lang}.toml`` (BGN/PCGN, ICAO passport, ISO 9 / GOST,
   scholarly, informal "volapuk": ``sh``/``ch``/``zh``/``ya``, ``j`` for й, ``'`` for ь,
   ``4`` for ч, ``w`` for ш ...). A beam search over the word keeps the cheapest
   readings (``cyrillic_candidates``); when the lexicon is loaded, readings that are not
   the prefix of any Russian word form are dropped as they grow.
2. **Lexicon.** A reading counts when the pymorphy3 dictionary knows it; its weight is its
   wordfreq Zipf frequency, less a little for an unusual spelling.
3. **Competition.** The Latin word's own frequency in English and the other Latin-script
   languages likely in answers (wordfreq), and the shapes of romaji, pinyin and Korean
   romanization (regexes in the data file), speak against it.
4. **Context.** Neighbouring words decide: a phrase with a clearly Russian word
   (``ya ne znayu``) is flagged whole; a lone word only when it is long, frequent in
   Russian and nothing else (``spasibo``, ``khorosho``), never ``da``, ``net``, ``mama``.

Import is cheap: the data file, pymorphy3 and wordfreq load on first use and stay cached.

>>> cyrillic_candidates("privet")[0]
'привет'
"""

from __future__ import annotations

import math
import re
import tomllib
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["TranslitDetector", "TranslitHit", "cyrillic_candidates", "to_cyrillic"]

_DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "translit"
_LANG_RE = re.compile(r"^[a-z]{2,3}$")
_APOSTROPHES = "'’ʼʹ`"
_SOFT_BLOCKERS = frozenset("aeiouyj'’ʼʹ`ëâûêèéȳė")
_NEIGHBOUR_GAP = 3  # words closer than this (end to start, in code points) are neighbours


@dataclass(frozen=True, slots=True)
class TranslitHit:
    """One Latin word judged to be transliterated Russian, with its Cyrillic spelling."""

    start: int
    end: int
    text: str
    cyrillic: str
    confidence: float


# --------------------------------------------------------------------------- scheme data


@dataclass(frozen=True, slots=True)
class _Option:
    cyr: str
    cost: float
    ctx: frozenset[str]


@dataclass(frozen=True, slots=True)
class _Guard:
    name: str
    shape: re.Pattern[str]
    marker: re.Pattern[str]
    run_markers: bool
    penalty: float


@dataclass(frozen=True, slots=True)
class _Scheme:
    """A language's transliteration data, compiled from its toml file."""

    lang: str
    morph_lang: str
    freq_lang: str
    vowels: frozenset[str]
    consonants: frozenset[str]
    options: dict[str, tuple[_Option, ...]]
    max_chunk: int
    split_cost: dict[str, float]
    default_split: float
    beam: int
    max_word_len: int
    cost_weight: float
    soft_sign: str
    soft_cost: float
    soft_after: frozenset[str]
    marked: frozenset[str]
    compound_endings: tuple[tuple[str, str], ...]
    compound_penalty: float
    major: tuple[str, ...]
    minor: tuple[str, ...]
    minor_offset: float
    thresholds: dict[str, float]
    name_tags: frozenset[str]
    guards: tuple[_Guard, ...]
    soft_apostrophe: re.Pattern[str] | None
    not_soft_apostrophe: re.Pattern[str] | None
    soft_apostrophe_bonus: float
    translit_marker: re.Pattern[str] | None


_DEFAULT_THRESHOLDS: dict[str, float] = {
    "known_rare_zipf": 1.0,
    "anchor_min_letters": 4,
    "anchor_min_ru": 2.0,
    "anchor_max_foreign": 3.0,
    "anchor_min_score": 1.5,
    "anchor_max_cost": 0.9,
    "support_min_ru": 1.0,
    "support_min_score": 0.0,
    "weak_min_ru": 4.0,
    "weak_min_score": -1.5,
    "pair_min_best_score": 2.5,
    "pair_min_total": 3.0,
    "pair_max_best_cost": 0.5,
    "lone_min_letters": 5,
    "lone_min_ru": 3.0,
    "lone_max_foreign": 2.5,
    "lone_min_score": 2.0,
    "lone_max_cost": 0.9,
    "lone_cost_per_letter": 0.15,
    "long_min_letters": 8,
    "long_min_ru": 1.5,
    "long_max_foreign": 1.0,
    "long_min_score": 1.0,
    "acronym_max_letters": 4,
    "run_lone_max_foreign": 1.0,
    "title_noun_min_score": 3.0,
    "title_noun_max_foreign": 1.5,
}


def _parse_option(spec: str, default_cost: float = 0.0) -> _Option | None:
    """Parse one informal option, ``"CYRILLIC COST [CONTEXT ...]"``.

    >>> _parse_option("й 0.3 afterV")
    _Option(cyr='й', cost=0.3, ctx=frozenset({'afterV'}))
    >>> _parse_option("_ 1 end").cyr
    ''
    """
    parts = str(spec).split()
    if not parts:
        return None
    cyr = "" if parts[0] == "_" else parts[0]
    try:
        cost = float(parts[1]) if len(parts) > 1 else default_cost
    except ValueError:
        return None
    return _Option(cyr, cost, frozenset(parts[2:]))


def _add_option(
    table: dict[str, dict[tuple[str, frozenset[str]], float]], latin: str, opt: _Option
) -> None:
    slot = table.setdefault(latin, {})
    key = (opt.cyr, opt.ctx)
    if key not in slot or opt.cost < slot[key]:
        slot[key] = opt.cost


def _compile_scheme(raw: dict[str, Any], lang: str) -> _Scheme:
    """Turn the toml tables into lookup structures (inverting the formal schemes)."""
    table: dict[str, dict[tuple[str, frozenset[str]], float]] = {}
    for scheme in (raw.get("schemes") or {}).values():
        cost = float(scheme.get("cost", 0.0))
        for cyr, latin in (scheme.get("letters") or {}).items():
            for lat in [latin] if isinstance(latin, str) else list(latin):
                if lat:
                    _add_option(table, str(lat).lower(), _Option(str(cyr), cost, frozenset()))
    for latin, specs in (raw.get("informal") or {}).items():
        for spec in [specs] if isinstance(specs, str) else list(specs):
            opt = _parse_option(spec)
            if opt is not None:
                _add_option(table, str(latin).lower(), opt)
    options = {
        lat: tuple(
            sorted(
                (_Option(c, v, ctx) for (c, ctx), v in slot.items()), key=lambda o: (o.cost, o.cyr)
            )
        )
        for lat, slot in table.items()
    }
    search = raw.get("search") or {}
    comp = raw.get("competitors") or {}
    det = dict(_DEFAULT_THRESHOLDS)
    det.update(
        {k: float(v) for k, v in (raw.get("detector") or {}).items() if isinstance(v, int | float)}
    )
    guards = []
    for name, g in (raw.get("guards") or {}).items():
        try:
            guards.append(
                _Guard(
                    name,
                    re.compile(g["shape"]),
                    re.compile(g["marker"]),
                    bool(g.get("run_markers", False)),
                    float(g.get("penalty", 2.0)),
                )
            )
        except (KeyError, re.error, TypeError, ValueError):
            continue
    cs = raw.get("compound_stem") or {}
    sig = raw.get("signals") or {}
    return _Scheme(
        lang=lang,
        morph_lang=str(raw.get("morph_lang", lang)),
        freq_lang=str(raw.get("freq_lang", lang)),
        vowels=frozenset(str(raw.get("vowels", ""))),
        consonants=frozenset(str(raw.get("consonants", ""))),
        options=options,
        max_chunk=max((len(k) for k in options), default=1),
        split_cost={str(k): float(v) for k, v in (search.get("split_cost") or {}).items()},
        default_split=float(search.get("default_split_cost", 0.5)),
        beam=int(search.get("beam", 64)),
        max_word_len=int(search.get("max_word_len", 40)),
        cost_weight=float(search.get("cost_weight", 0.5)),
        soft_sign=str(search.get("implied_soft_sign", "")),
        soft_cost=float(search.get("implied_soft_sign_cost", 0.8)),
        soft_after=frozenset(str(search.get("implied_soft_sign_after", ""))),
        marked=frozenset(str(search.get("marked_letters", ""))),
        compound_endings=tuple((str(a), str(b)) for a, b in cs.get("endings", [])),
        compound_penalty=float(cs.get("penalty", 1.0)),
        major=tuple(comp.get("major", ["en"])),
        minor=tuple(comp.get("minor", [])),
        minor_offset=float(comp.get("minor_offset", 1.0)),
        thresholds=det,
        name_tags=frozenset((raw.get("detector") or {}).get("name_tags", [])),
        guards=tuple(guards),
        soft_apostrophe=_compile_or_none(sig.get("soft_apostrophe")),
        not_soft_apostrophe=_compile_or_none(sig.get("not_soft_apostrophe")),
        soft_apostrophe_bonus=float(sig.get("soft_apostrophe_bonus", 0.0)),
        translit_marker=_compile_or_none(sig.get("translit_marker")),
    )


def _compile_or_none(pattern: Any) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern) if isinstance(pattern, str) and pattern else None
    except re.error:
        return None


@lru_cache(maxsize=16)
def _load_scheme(lang: str) -> _Scheme | None:
    """The compiled data of ``data/translit/{lang}.toml``, or None when there is none.

    >>> _load_scheme("ru").lang
    'ru'
    >>> _load_scheme("../etc") is None
    True
    """
    if not isinstance(lang, str) or not _LANG_RE.match(lang):
        return None
    path = _DATA_DIR / f"{lang}.toml"
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
        return _compile_scheme(raw, lang)
    except (OSError, tomllib.TOMLDecodeError, TypeError, ValueError, KeyError):
        return None


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


def cyrillic_candidates(word: str, limit: int = 64) -> list[str]:
    """Cyrillic readings of a Latin word by the schemes alone, cheapest first.

    No lexicon is consulted: this lists what the schemes allow (at most ``limit``),
    lower-case. Empty for anything that is not a Latin-letter word.

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
        sch = _load_scheme("ru")
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


def to_cyrillic(word: str) -> str | None:
    """The best Cyrillic reading of a Latin word if it is a known Russian word, else None.

    Context-free and unconditional: ``to_cyrillic("net")`` is ``'нет'`` although "net" is
    also English; use ``TranslitDetector`` to decide whether a word *is* translit.

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
        reading = _best_reading("ru", _normalize(word))
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


@dataclass(slots=True)
class _Item:
    start: int
    end: int
    text: str
    ev: _Evidence
    score: float
    label: str = "X"  # A(nchor), S(upport), W(eak), X (not Russian)


def _run_shape_counts(items: list[_Item], n_guards: int) -> list[tuple[int, int]]:
    """Per guard: how many words of the run fit its shape, and how many show a marker."""
    counts = []
    for gi in range(n_guards):
        fit = sum(1 for it in items if it.ev.shapes[gi][1])
        marks = sum(1 for it in items if it.ev.shapes[gi][2])
        counts.append((fit, marks))
    return counts


def _guard_penalty(item: _Item, counts: list[tuple[int, int]], run_len: int, sch: _Scheme) -> float:
    """Score lost to romaji/pinyin/Korean look-alikes, judged with the run's markers."""
    penalty = 0.0
    for gi, guard in enumerate(sch.guards):
        _, fits, marked = item.ev.shapes[gi]
        if not fits:
            continue
        if marked:
            penalty = max(penalty, guard.penalty)
            continue
        if guard.run_markers:
            fit, marks = counts[gi]
            others_fit, others = fit - 1, run_len - 1
            if marks and others_fit * 2 >= others:
                penalty = max(penalty, guard.penalty)
    return penalty


def _is_caps(text: str) -> bool:
    """All capitals, more than one letter.

    >>> _is_caps("PRIVET"), _is_caps("Privet"), _is_caps("I")
    (True, False, False)
    """
    letters = [c for c in text if c.isalpha()]
    return len(letters) > 1 and all(c.isupper() for c in letters)


def _is_acronym(text: str, sch: _Scheme) -> bool:
    """A short all-caps word (GPU, API, DA), which alone is an acronym, not translit."""
    return (
        _is_caps(text) and sum(c.isalpha() for c in text) <= sch.thresholds["acronym_max_letters"]
    )


@lru_cache(maxsize=1 << 16)
def _is_mixed_case(text: str) -> bool:
    """Upper-case after the first letter of a part, but not all caps: iPhone, McKinsey.

    >>> _is_mixed_case("iPhone"), _is_mixed_case("Privet"), _is_mixed_case("PRIVET")
    (True, False, False)
    >>> _is_mixed_case("zh-Hant"), _is_mixed_case("Rostov-na-Donu")
    (True, False)
    """
    letters = [c for c in text if c.isalpha()]
    if not letters or all(c.isupper() for c in letters):
        return False
    parts = [p for p in re.split(r"[-'’]", text) if p]
    if any(any(c.isupper() for c in part[1:]) for part in parts):
        return True
    # lower case, then a capital: zh-Hant, e-Mail (not Po-russki, Rostov-na-Donu)
    return parts[0][:1].islower() and any(p[:1].isupper() for p in parts[1:])


def _label(item: _Item, sch: _Scheme, run_len: int) -> str:
    """A(nchor): clearly Russian; S(upport): Russian rather than foreign; W(eak): a
    frequent Russian word that is also foreign (da, no), which only joins a phrase;
    X: not Russian. ``item.score`` must be set."""
    t = sch.thresholds
    r = item.ev.reading
    if r is None or _is_mixed_case(item.text):
        return "X"
    if run_len == 1 and _is_acronym(item.text, sch):
        return "X"
    if (
        item.ev.letters >= t["anchor_min_letters"]
        and r.ru >= t["anchor_min_ru"]
        and item.ev.foreign <= t["anchor_max_foreign"]
        and r.cost <= t["anchor_max_cost"]
        and item.score >= t["anchor_min_score"]
        and not r.name_only
    ):
        return "A"
    if item.ev.letters > 1 and r.ru >= t["support_min_ru"] and item.score >= t["support_min_score"]:
        return "S"  # single letters (v, s, i, or a variable x) only ever join as weak
    if r.ru >= t["weak_min_ru"] and item.score >= t["weak_min_score"]:
        return "W"
    return "X"


def _is_title(text: str) -> bool:
    """Title-case (first letter upper, not all caps).

    >>> _is_title("Privet"), _is_title("PRIVET"), _is_title("privet")
    (True, False, False)
    """
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and letters[0].isupper() and not all(c.isupper() for c in letters)


def _lone_ok(item: _Item, sch: _Scheme, in_run: bool) -> bool:
    """Whether one word alone is strong enough evidence (spasibo yes, mama no).

    ``in_run``: other Latin words surround it (an English sentence, say), where only a
    word that no other language uses will do (priyatnoy yes, babushka no).
    """
    t = sch.thresholds
    r = item.ev.reading
    if r is None or r.name_only or _is_acronym(item.text, sch):
        return False
    ev = item.ev
    if in_run and (
        ev.foreign > t["run_lone_max_foreign"]
        or _is_title(item.text)
        or sch.translit_marker is None
        or not sch.translit_marker.search(_normalize(item.text))
    ):
        return False  # amid English: only a word with a translit spelling, not a name
    if _is_title(item.text) or _is_caps(item.text):
        if r.name_any:
            return False  # Tolstoy, Moskva: a name in Latin spelling
        if r.noun_only and (
            item.score < t["title_noun_min_score"] or ev.foreign > t["title_noun_max_foreign"]
        ):
            return False  # Sberbank, COBYLA: maybe a brand
    if r.cost > max(t["lone_max_cost"], t["lone_cost_per_letter"] * ev.letters):
        return False
    if (
        ev.letters >= t["lone_min_letters"]
        and r.ru >= t["lone_min_ru"]
        and ev.foreign <= t["lone_max_foreign"]
        and item.score >= t["lone_min_score"]
    ):
        return True
    # long and nothing else, in Russian prose only: rare English words (grammeme) are
    # Russian word forms too often for this to hold amid English
    return (
        not in_run
        and ev.letters >= t["long_min_letters"]
        and r.ru >= t["long_min_ru"]
        and ev.foreign <= t["long_max_foreign"]
        and item.score >= t["long_min_score"]
    )


def _confidence(strength: float) -> float:
    """Map summed evidence (Zipf units) to (0.5, 0.99].

    >>> _confidence(0.0), _confidence(10.0)
    (0.5, 0.98)
    """
    return round(min(0.99, 0.5 + 0.5 * (1.0 - math.exp(-max(0.0, strength) / 3.0))), 2)


def _chain_flagged(chain: list[_Item], sch: _Scheme, in_run: bool) -> bool:
    """Whether the Russian-looking words of one chain make it translit.

    A clearly Russian word with company (``ya ne znayu``), a lone word that is strong
    on its own (``spasibo``), or a phrase whose best word is strongly Russian and whose
    words together lean Russian (``kak dela``: "dela" is also Portuguese).
    """
    t = sch.thresholds
    strong = [it for it in chain if it.label in "AS"]
    if not strong:
        return False
    distinct = {_normalize(it.text) for it in strong}  # "binom ... binom" is one word
    if any(it.label == "A" for it in strong) and len(distinct) >= 2:
        return True
    if len(strong) == 1 and _lone_ok(strong[0], sch, in_run):
        return True
    best = max(strong, key=lambda it: it.score)
    reading = best.ev.reading
    return (
        len(chain) >= 2
        and reading is not None
        and best.score >= t["pair_min_best_score"]
        and reading.cost <= t["pair_max_best_cost"]
        and not reading.name_any
        and sum(it.score for it in chain) >= t["pair_min_total"]
        and any(it.ev.letters >= 4 for it in chain)
    )


def _judge_chain(chain: list[_Item], sch: _Scheme, run_len: int) -> list[tuple[_Item, float]]:
    """Hits within one chain of A/S/W words (consecutive neighbours in a run)."""
    if len(chain) > 1 and all(_is_title(it.text) for it in chain):
        return []  # a list of names: Sberbank Gazprom Lada
    if not _chain_flagged(chain, sch, run_len > 1):
        return []
    strong = [it for it in chain if it.label in "AS"]
    # weak words (da, no) join only where they touch the flagged core
    idx = [i for i, it in enumerate(chain) if it.label in "AS"]
    lo, hi = min(idx), max(idx)
    while lo > 0 and chain[lo - 1].label == "W":
        lo -= 1
    while hi < len(chain) - 1 and chain[hi + 1].label == "W":
        hi += 1
    conf = _confidence(sum(max(0.0, it.score) for it in strong))
    return [(it, conf) for it in chain[lo : hi + 1]]


def _runs(words: Sequence[Any]) -> list[list[tuple[int, int, str]]]:
    """Split the caller's words into runs of neighbours; malformed entries break runs.

    >>> [[w for *_, w in r] for r in _runs([(0, 6, "privet"), (8, 11, "kak"), (30, 34, "dela")])]
    [['privet', 'kak'], ['dela']]
    """
    runs: list[list[tuple[int, int, str]]] = []
    cur: list[tuple[int, int, str]] = []
    for entry in words:
        try:
            start, end, text = entry
            ok = isinstance(text, str) and isinstance(start, int) and isinstance(end, int)
        except (TypeError, ValueError):
            ok = False
        if not ok:
            if cur:
                runs.append(cur)
            cur = []
            continue
        if cur and not (0 <= start - cur[-1][1] < _NEIGHBOUR_GAP):
            runs.append(cur)
            cur = []
        cur.append((start, end, text))
    if cur:
        runs.append(cur)
    return runs


class TranslitDetector:
    """Find Russian words written in Latin letters among a text's Latin words.

    >>> det = TranslitDetector()
    >>> [h.cyrillic for h in det.find([(0, 6, "privet"), (8, 11, "kak"), (12, 16, "dela")])]
    ['привет', 'как', 'дела']
    >>> det.find([(0, 3, "net")])
    []
    """

    def __init__(self, lang: str = "ru") -> None:
        self.lang = lang if isinstance(lang, str) else ""

    @property
    def _scheme(self) -> _Scheme | None:
        return _load_scheme(self.lang)

    def find(self, words: Sequence[tuple[int, int, str]]) -> list[TranslitHit]:
        """Return the words judged to be transliterated Russian, in order.

        ``words`` are the Latin-letter words of a text outside code and URLs, as
        ``(start, end, word)`` with code-point offsets; words less than 3 code points
        apart (end to start) are neighbours. Case carries over: Privet -> Привет.
        """
        try:
            sch = self._scheme
            if sch is None or words is None:
                return []
            hits: list[TranslitHit] = []
            for run in _runs(list(words)):
                hits.extend(self._find_in_run(run, sch))
            hits.sort(key=lambda h: (h.start, h.end))
            return hits
        except Exception:
            return []

    def _find_in_run(self, run: list[tuple[int, int, str]], sch: _Scheme) -> list[TranslitHit]:
        items: list[_Item] = []
        for start, end, text in run:
            ev = _evidence(sch.lang, _normalize(text))
            items.append(_Item(start, end, text, ev, 0.0))
        counts = _run_shape_counts(items, len(sch.guards))
        for it in items:
            r = it.ev.reading
            if r is None:
                continue
            it.score = r.ru - it.ev.foreign - sch.cost_weight * r.cost
            it.score -= _guard_penalty(it, counts, len(items), sch)
            it.label = _label(it, sch, len(items))
        hits: list[TranslitHit] = []
        chain: list[_Item] = []
        for it in [*items, None]:
            if it is not None and it.label != "X":
                chain.append(it)
                continue
            if chain:
                for member, conf in _judge_chain(chain, sch, len(items)):
                    reading = member.ev.reading
                    if reading is None:
                        continue
                    hits.append(
                        TranslitHit(
                            member.start,
                            member.end,
                            member.text,
                            _restore_case(member.text.strip(), reading.cyr),
                            conf,
                        )
                    )
            chain = []
        return hits
