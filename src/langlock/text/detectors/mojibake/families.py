"""Byte tables, the families of mojibake and the pre-filter, built once per target
alphabet."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

from langlock.policy import DEFAULT_LANG, languages, load_profile
from langlock.text.scripts import utf8_length


def default_alphabet() -> str:
    """The alphabet ``find_mojibake`` and ``repair`` assume: the default target's.

    >>> default_alphabet() == load_profile("ru").alphabet
    True
    """
    return load_profile(DEFAULT_LANG).alphabet


@cache
def lexicon_alphabets() -> Mapping[str, str]:
    """Lowercase alphabets of languages whose wordfreq lexicon backs the legacy 8-bit checks
    (the ``letters`` of ``data/languages.toml``), in the file's order.

    >>> list(lexicon_alphabets())[:2]
    ['ru', 'uk']
    """
    return {code: lang.letters for code, lang in languages().items() if lang.letters}


@cache
def codec_names() -> Mapping[str, str]:
    """Human names of codecs (ours and ftfy's), as explanations print them.

    >>> codec_names()["koi8_r"]
    'KOI8-R'
    """
    path = resources.files("langlock") / "data" / "encodings.toml"
    return dict(tomllib.loads(path.read_text(encoding="utf-8"))["names"])


#: Code pages that UTF-8 gets misread as. A tuple is merged into one byte table (Latin-1
#: and Windows-1252 differ only in 0x80-0x9F; KOI8-U only adds Ukrainian letters).
_UTF8_MISREAD: tuple[tuple[str, ...], ...] = (
    ("cp1252", "latin-1"),
    ("cp1251",),
    ("mac_roman",),
    ("mac_cyrillic",),
    ("koi8_r", "koi8_u"),
    ("cp866",),
    ("cp437",),
    ("cp1250",),
)

#: Legacy 8-bit mix-ups: (code page the bytes were shown in, code page they were written in).
_LEGACY_MIXUPS: tuple[tuple[str, str], ...] = (
    ("koi8_r", "cp1251"),
    ("cp1251", "koi8_r"),
    ("koi8_u", "cp1251"),
    ("cp1251", "koi8_u"),
    ("cp1252", "cp1251"),
    ("cp866", "cp1251"),
    ("cp1251", "cp866"),
    ("cp1252", "cp1253"),
)

#: Characters ordinary text puts next to letters; a pre-filter hit never rests on them.
_COMMON = frozenset("«»‹›—–‐‑‒―…“”„‟‘’‚‛№°§©®±·•×÷²³¹½¼¾€£¥¢™‰′″\xa0\xad\u2009\u202f")

#: Punctuation a letter-less span may repair to (``â€”`` is a broken em dash); only
#: characters of three UTF-8 bytes prove it, see ``_verdict``.
_PUNCT_OK = frozenset("«»‹›—–‐‑‒―…“”„‟‘’‚‛•№™€†‡‰′″\xa0\u2009\u202f")

_MAX_GAP = 32  # characters allowed between two mojibake words of one span
_ASCII_GAP = r"[\t\x20-\x7e]"
_LETTER = r"[^\W\d_]"  # one letter, in ``re`` syntax


# --------------------------------------------------------------------------- byte tables


@lru_cache(maxsize=64)
def _table(codecs: tuple[str, ...]) -> dict[str, int]:
    """Map each character of one or more single-byte codecs to its byte.

    Bytes a codec leaves undefined map from the C1/Latin-1 character of the same number,
    as ftfy's "sloppy" codecs do. The first codec wins where they disagree.

    >>> t = _table(("cp1252",))
    >>> t["Ÿ"], t["\\x81"], _table(("cp1251",))["Р"]
    (159, 129, 208)
    """
    table: dict[str, int] = {}
    for codec in codecs:
        for b in range(256):
            try:
                ch = bytes([b]).decode(codec)
            except UnicodeDecodeError:
                ch = chr(b)
            table.setdefault(ch, b)
    return table


def _cont_alias(codec: str) -> dict[str, int]:
    """Characters that stand for a lost continuation byte, trusted only in that position.

    A no-break space (0xA0) is often flattened to a plain space; and where a code page
    leaves exactly one continuation byte undefined, a U+FFFD can only have been that byte.

    >>> _cont_alias("cp1251")
    {' ': 160, '�': 152}
    >>> _cont_alias("mac_roman")
    {}
    """
    alias: dict[str, int] = {}
    if bytes([0xA0]).decode(codec, errors="replace") == "\xa0":
        alias[" "] = 0xA0
    undefined = []
    for b in range(0x80, 0xC0):
        try:
            bytes([b]).decode(codec)
        except UnicodeDecodeError:
            undefined.append(b)
    if len(undefined) == 1:
        alias["\ufffd"] = undefined[0]
    return alias


def _cls(chars: Iterable[str]) -> str:
    """A character class matching exactly ``chars`` (one that never matches when empty).

    >>> _cls("abc-")
    '[\\\\u002d\\\\u0061-\\\\u0063]'
    >>> _cls("")
    '(?!)'
    """
    codes = sorted({ord(c) for c in chars})
    if not codes:
        return "(?!)"
    parts = []
    i = 0
    while i < len(codes):
        j = i
        while j + 1 < len(codes) and codes[j + 1] == codes[j] + 1:
            j += 1
        lo, hi = codes[i], codes[j]
        parts.append(f"\\u{lo:04x}" if lo == hi else f"\\u{lo:04x}-\\u{hi:04x}")
        i = j + 1
    return "[" + "".join(parts) + "]"


def _utf8_len(lead: int) -> int:
    """Length of the multi-byte UTF-8 sequence a lead byte starts (0 for ASCII or no lead).

    >>> _utf8_len(0xD0), _utf8_len(0xE2), _utf8_len(0x80), _utf8_len(0x41)
    (2, 3, 0, 0)
    """
    return utf8_length(lead) if lead >= 0x80 else 0


# --------------------------------------------------------------------------- families


@dataclass(frozen=True, slots=True)
class _Utf8Family:
    """UTF-8 bytes shown in the code page(s) ``codecs``."""

    codecs: tuple[str, ...]
    table: dict[str, int]
    alias: dict[str, int]
    to_bytes: dict[int, str]  # for str.translate: character -> chr(its byte)
    known: dict[int, None]  # for str.translate: deletes every character of the table
    word_re: re.Pattern[str]
    span_re: re.Pattern[str]
    seed_re: re.Pattern[str]
    tells: frozenset[str]


@dataclass(frozen=True, slots=True)
class _LegacyFamily:
    """Bytes of 8-bit ``real`` shown as 8-bit ``shown``; judged word by word."""

    shown: str
    real: str
    trans: dict[int, str]
    word_re: re.Pattern[str]
    odd: frozenset[str]
    case_flip: bool
    upper: frozenset[str]
    seed_re: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class _Profile:
    """Everything precomputed for one target alphabet."""

    letters: frozenset[str]
    lang: str | None
    utf8: tuple[_Utf8Family, ...]
    legacy: tuple[_LegacyFamily, ...]
    tells_re: re.Pattern[str]
    caps_re: re.Pattern[str] | None  # None when no case-flip family applies
    drop_target: dict[int, None]  # for str.translate: deletes letters of the alphabet
    drop_plain: dict[int, None]  # deletes printable ASCII, tab, newlines and _PUNCT_OK


def _lexicon_lang(letters: frozenset[str]) -> str | None:
    """The wordfreq language whose alphabet matches ``letters`` (lowercase), if any.

    >>> _lexicon_lang(frozenset(default_alphabet())), _lexicon_lang(frozenset("abc"))
    ('ru', None)
    """
    best, best_score = None, 0.0
    for lang, alpha in lexicon_alphabets().items():
        a = frozenset(alpha)
        score = len(a & letters) / len(a | letters)
        if score > best_score:
            best, best_score = lang, score
    return best if best_score >= 0.9 else None


def _both_cases(letters: frozenset[str]) -> frozenset[str]:
    """The letters with their capitals (those that are one character).

    >>> sorted(_both_cases(frozenset("аΐ")))
    ['ΐ', 'А', 'а']
    """
    return letters | {ch.upper() for ch in letters if len(ch.upper()) == 1}


def _utf8_family(codecs: tuple[str, ...], letters: frozenset[str]) -> _Utf8Family:
    """Grammar and tell-tale pattern of UTF-8 read as ``codecs``."""
    table = _table(codecs)
    alias = _cont_alias(codecs[0])
    by_len: dict[int, set[str]] = {2: set(), 3: set(), 4: set()}
    cont: set[str] = set()
    for ch, b in table.items():
        if 0x80 <= b <= 0xBF:
            cont.add(ch)
        elif _utf8_len(b):
            by_len[_utf8_len(b)].add(ch)
    cont |= alias.keys() - {" "}
    c = _cls(cont)
    space_alias = rf"|\x20(?={_cls(by_len[2] | by_len[3] | by_len[4])})" if " " in alias else ""
    seq = (
        rf"(?:{_cls(by_len[2])}(?:{c}{space_alias})"
        rf"|{_cls(by_len[3])}{c}{{2}}|{_cls(by_len[4])}{c}{{3}})"
    )
    word = rf"{seq}++"
    span = rf"{word}(?:{_ASCII_GAP}{{1,{_MAX_GAP}}}+{word})*+"

    # Tell-tale pairs: a lead byte ordinary text never shows, then any continuation; or a
    # lead it does show (a letter, a dash), then a continuation it does not.
    common = _COMMON | _both_cases(letters)
    wanted = {ch.encode("utf-8")[0] for ch in common if len(ch.encode("utf-8")) > 1}
    wanted |= {0xC2, 0xC3, 0xE2}  # leads of the first layer of double mojibake
    seeds = []
    tells: set[str] = set()
    for n in (2, 3, 4):
        odd = {ch for ch in by_len[n] if ch not in common and not ch.isspace()}
        tells |= odd
        seeds.append(_cls(odd) + c * (n - 1))
    usual = {ch for ch, b in table.items() if b in wanted and ch in common}
    odd_cont = {ch for ch in cont if ch not in common and not ch.isspace()}
    tells |= odd_cont
    seeds.append(_cls(usual) + _cls(odd_cont))
    seed = "|".join(s for s in seeds if not s.startswith("(?!)")) or "(?!)"
    return _Utf8Family(
        codecs=codecs,
        table=table,
        alias=alias,
        to_bytes={ord(ch): chr(b) for ch, b in table.items()},
        known=dict.fromkeys(map(ord, table.keys() | alias.keys())),
        word_re=re.compile(word),
        span_re=re.compile(span),
        seed_re=re.compile(seed),
        tells=frozenset(tells),
    )


def _legacy_family(shown: str, real: str, letters: frozenset[str]) -> _LegacyFamily | None:
    """Word pattern and tell-tale pattern of 8-bit ``real`` shown as ``shown``."""
    both = _both_cases(letters)
    try:
        "".join(sorted(both)).encode(real)
    except UnicodeEncodeError:
        return None
    codecs = (shown, "latin-1") if shown == "cp1252" else (shown,)
    trans: dict[int, str] = {}
    for ch, b in _table(codecs).items():
        if b < 0x80:
            continue
        try:
            trans[ord(ch)] = bytes([b]).decode(real)
        except UnicodeDecodeError:
            continue
    words = {chr(k) for k, v in trans.items() if v in both}
    if not words:
        return None
    odd = frozenset(ch for ch in words if ch not in both and ch not in _COMMON)
    case_flip = len(words & both) >= 0.8 * len(words)
    w = _cls(words)
    upper: frozenset[str] = frozenset()
    if case_flip:  # Cyrillic shown as Cyrillic: the only tell is the flipped case
        upper = frozenset(ch for ch in words if ch.isupper())
        low, up = _cls(ch for ch in words if ch.islower()), _cls(upper)
        seed = (
            rf"(?<!{_LETTER}){low}{up}{{2,}}(?!{_LETTER})"
            rf"|(?<!{_LETTER}){up}{{2,}}[^\S\n]{{1,2}}{up}{{2,}}(?!{_LETTER})"
        )
    else:
        seed = rf"{_cls(odd)}{w}?{_cls(odd)}|{_cls(odd)}{w}{{2}}"
    return _LegacyFamily(
        shown=shown,
        real=real,
        trans=trans,
        word_re=re.compile(rf"{w}+"),
        odd=odd,
        case_flip=case_flip,
        upper=upper,
        seed_re=re.compile(seed),
    )


@lru_cache(maxsize=16)
def _profile(alphabet: str) -> _Profile:
    """Families, grammars and the pre-filter for one target alphabet (built once)."""
    letters = frozenset(alphabet.lower())
    lang = _lexicon_lang(letters)
    utf8 = tuple(_utf8_family(codecs, letters) for codecs in _UTF8_MISREAD)
    legacy: list[_LegacyFamily] = []
    if lang is not None:
        # KOI8-R where it covers the alphabet, else KOI8-U (Ukrainian); never both
        skip = "koi8_u" if _legacy_family("cp1251", "koi8_r", letters) else "koi8_r"
        for shown, real in _LEGACY_MIXUPS:
            if skip in (shown, real):
                continue
            fam = _legacy_family(shown, real, letters)
            if fam is not None:
                legacy.append(fam)
    # Each family pattern needs one of these characters (or, for the case flip, two
    # capitals in a row), so one cheap scan finds every line worth a closer look.
    tells: set[str] = set()
    upper: set[str] = set()
    for fam8 in utf8:
        tells |= fam8.tells
    for lfam in legacy:
        tells |= lfam.odd
        upper |= lfam.upper
    # Two patterns, not one alternation: ``re`` scans a bare class about four times faster
    # than an alternation, and ``[A][A]`` three times faster than ``[A]{2}``.
    tells_re = re.compile(_cls(tells))
    caps_re = re.compile(_cls(upper) * 2) if upper else None
    both = _both_cases(letters)
    plain = {chr(c) for c in range(0x20, 0x7F)} | set("\t\n\r") | _PUNCT_OK
    return _Profile(
        letters,
        lang,
        utf8,
        tuple(legacy),
        tells_re,
        caps_re,
        dict.fromkeys(map(ord, both)),
        dict.fromkeys(map(ord, plain - both)),
    )


def _has_seed(s: str, prof: _Profile) -> bool:
    """Whether ``s`` holds a tell-tale pattern of some mojibake family.

    >>> p = _profile(default_alphabet())
    >>> _has_seed("РџСЂРёРІРµС‚", p), _has_seed("Россия и СССР", p), _has_seed("оПХБЕР", p)
    (True, False, True)
    """
    return bool(_seeded_families(s, prof))


def _seeded_families(line: str, prof: _Profile) -> list[_Utf8Family | _LegacyFamily]:
    """The families whose tell-tale pattern occurs in ``line``.

    >>> _seeded_families("Ответ: РџСЂРёРІРµС‚", _profile(default_alphabet()))[0].codecs
    ('cp1251',)
    >>> _seeded_families("Ответ: Привет", _profile(default_alphabet()))
    []
    """
    chars = set(line)
    caps = None
    found: list[_Utf8Family | _LegacyFamily] = []
    for fam in prof.utf8:
        if not chars.isdisjoint(fam.tells) and fam.seed_re.search(line):
            found.append(fam)
    for lfam in prof.legacy:
        if lfam.case_flip:
            if caps is None:
                caps = prof.caps_re is not None and prof.caps_re.search(line) is not None
            if not caps:
                continue
        elif chars.isdisjoint(lfam.odd):
            continue
        if lfam.seed_re.search(line):
            found.append(lfam)
    return found


def _seeded_lines(text: str, prof: _Profile) -> Iterator[tuple[int, int]]:
    """(start, end) of each line that one of the two pre-filter patterns hits, in order.

    >>> list(_seeded_lines("ok\\nРџСЂ\\nok\\nоПХБЕР", _profile(default_alphabet())))
    [(3, 7), (11, 17)]
    """
    patterns = [p for p in (prof.tells_re, prof.caps_re) if p is not None]
    nxt = [p.search(text) for p in patterns]
    while True:
        hits = [m.start() for m in nxt if m is not None]
        if not hits:
            return
        start, end = _line_bounds(text, min(hits))
        yield start, end
        for k, p in enumerate(patterns):
            m = nxt[k]
            if m is not None and m.start() <= end:
                nxt[k] = p.search(text, end + 1)


def _line_bounds(text: str, pos: int) -> tuple[int, int]:
    """Start and end of the line holding ``pos``.

    >>> _line_bounds("ab\\ncd\\nef", 4)
    (3, 5)
    """
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    return start, len(text) if end == -1 else end
