"""Find and repair mojibake: text whose bytes were decoded with the wrong encoding.

Two kinds of damage are handled, both parametric in the target alphabet:

* **UTF-8 read as a single-byte code page** (``ÐŸÑ€Ð¸Ð²ÐµÑ‚``, ``РџСЂРёРІРµС‚``,
  ``–ö–∞–∫``, ``п÷я─п╦``, ``╨Я╤А``): each letter of the target alphabet became two (or
  three) characters. UTF-8's byte structure is strict, so a run that re-encodes to valid
  UTF-8 *and* decodes to letters of the target alphabet is mojibake with near certainty;
  no lexicon is needed.
* **Legacy 8-bit mix-ups** (Windows-1251 read as KOI8-R and back, ``оПХБЕР``;
  Windows-1251 read as Windows-1252, ``Ïðèâåò``; Windows-1251 and CP866 swapped): one
  letter became another letter, so only a lexicon can tell. A word counts when its wordfreq
  Zipf frequency is clearly higher after the repair than before and its shape gives
  evidence (the case flip KOI8 vs Windows-1251 leaves, or characters that no word of the
  target language contains).

Mojibake of mojibake is undone by repeating the repair while it helps (at most 3 rounds).

Which part is whose: ``ftfy.fix_encoding_and_explain`` is tried first on every candidate;
it handles UTF-8 read as Windows-1252/Latin-1 (and its sloppy variants) very well. It does
not consider Mac-Roman, KOI8-R or CP866 for Cyrillic (its badness heuristic never flags
``–ö–∞–∫``) and knows nothing of 8-bit Cyrillic mix-ups, so the byte tables, the UTF-8
grammar, the lexicon checks and the span search here are hand-written.

Speed: clean text costs one scan with a precompiled pre-filter: a character class of every
character that some family's tell-tale pair needs and that ordinary text of the target
language does not use (plus, as a second pattern, two capitals in a row for the
KOI8/Windows-1251 case flip). Only the lines it hits are matched against each family's own
pattern, and only matches of those get decoded. All patterns use the standard ``re``
module on purpose: ``regex`` scans a class of a few hundred characters about 40 times slower
(150-200 ms/MB against 3-6 ms/MB, measured on Russian text), and Python 3.11's ``re`` has
the possessive quantifiers the grammar needs.

Known limits: a fragment of only very short words can leave no tell-tale character
(Windows-1251 ``С‚С‹`` for ``ты``: ``‚`` and ``‹`` are real quotation marks too), and
Mac-Cyrillic turns words made only of р…я into dashes and capitals (``—Б—Б—Б—А``); both are
left alone rather than risk repairing real text.
"""

from __future__ import annotations

import math
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

import ftfy

from langlock.text.scripts import utf8_length

__all__ = ["RU_ALPHABET", "MojibakeSpan", "find_mojibake", "repair"]

RU_ALPHABET = "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"

#: Lowercase alphabets of languages whose wordfreq lexicon backs the legacy 8-bit checks.
_LEXICON_ALPHABETS: dict[str, str] = {
    "ru": RU_ALPHABET,
    "uk": "абвгґдеєжзиіїйклмнопрстуфхцчшщьюя",
    "bg": "абвгдежзийклмнопрстуфхцчшщъьюя",
    "mk": "абвгдѓежзѕијклљмнњопрстќуфхцчџш",
    "el": "αβγδεζηθικλμνξοπρστυφχψωάέήίόύώςϊϋΐΰ",
}

#: Human names of codecs (ours and ftfy's), as explanations print them.
_NAMES: dict[str, str] = {
    "cp1252": "Windows-1252",
    "latin-1": "Latin-1",
    "iso-8859-1": "Latin-1",
    "cp1251": "Windows-1251",
    "cp1250": "Windows-1250",
    "cp1253": "Windows-1253",
    "mac_roman": "Mac-Roman",
    "macroman": "Mac-Roman",
    "mac_cyrillic": "Mac-Cyrillic",
    "koi8_r": "KOI8-R",
    "koi8_u": "KOI8-U",
    "cp866": "CP866 (DOS)",
    "cp437": "CP437 (DOS)",
    "iso-8859-2": "ISO-8859-2",
    "sloppy-windows-1250": "Windows-1250",
    "sloppy-windows-1251": "Windows-1251",
    "sloppy-windows-1252": "Windows-1252",
    "sloppy-windows-1253": "Windows-1253",
    "sloppy-windows-1254": "Windows-1254",
    "sloppy-windows-1257": "Windows-1257",
}

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

_MAX_ROUNDS = 3
_FTFY_MAX = 1 << 16  # longer candidates skip ftfy (about 0.8 s/MB); our tables cover them
_MAX_GAP = 32  # characters allowed between two mojibake words of one span
_ASCII_GAP = r"[\t\x20-\x7e]"
_LETTER = r"[^\W\d_]"  # one letter, in ``re`` syntax

# Word classes for the lexicon-checked legacy families, weakest first.
_BAD, _NEUTRAL, _EDGE, _WEAK, _STRONG = range(5)
# Verdicts on a repaired string.
_NO, _SEEDED, _CLEAN = range(3)

_Steps = tuple[tuple[str, str], ...]  # (real encoding, shown encoding), outermost first


@dataclass(frozen=True, slots=True)
class MojibakeSpan:
    """One run of mojibake and its repair; offsets are code points into the input.

    >>> MojibakeSpan(0, 2, "Ð¿", "п", "UTF-8 bytes decoded as Windows-1252").fixed
    'п'
    """

    start: int
    end: int
    text: str
    fixed: str
    explanation: str


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

    >>> _lexicon_lang(frozenset(RU_ALPHABET)), _lexicon_lang(frozenset("abc"))
    ('ru', None)
    """
    best, best_score = None, 0.0
    for lang, alpha in _LEXICON_ALPHABETS.items():
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

    >>> p = _profile(RU_ALPHABET)
    >>> _has_seed("РџСЂРёРІРµС‚", p), _has_seed("Россия и СССР", p), _has_seed("оПХБЕР", p)
    (True, False, True)
    """
    return bool(_seeded_families(s, prof))


def _seeded_families(line: str, prof: _Profile) -> list[_Utf8Family | _LegacyFamily]:
    """The families whose tell-tale pattern occurs in ``line``.

    >>> _seeded_families("Ответ: РџСЂРёРІРµС‚", _profile(RU_ALPHABET))[0].codecs
    ('cp1251',)
    >>> _seeded_families("Ответ: Привет", _profile(RU_ALPHABET))
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

    >>> list(_seeded_lines("ok\\nРџСЂ\\nok\\nоПХБЕР", _profile(RU_ALPHABET)))
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


# --------------------------------------------------------------------------- lexicon


@lru_cache(maxsize=8)
def _frequencies(lang: str) -> dict[str, float]:
    """wordfreq's word frequencies for ``lang``, loaded on first need (about 0.7 s)."""
    import wordfreq

    return wordfreq.get_frequency_dict(lang)


def _zipf(word: str, lang: str) -> float:
    """Zipf frequency of ``word`` (0.0 when unknown); ``ё`` may be spelt ``е``.

    >>> _zipf("Привет", "ru") > 4, _zipf("оПХБЕР", "ru")
    (True, 0.0)
    """
    freqs = _frequencies(lang)
    w = word.lower()
    f = freqs.get(w, 0.0)
    if not f and "ё" in w:
        f = freqs.get(w.replace("ё", "е"), 0.0)
    return math.log10(f) + 9.0 if f > 0 else 0.0


def _natural_case(word: str) -> bool:
    """True for ``слово``, ``Слово`` and ``СЛОВО``; false for ``сЛОВО``.

    >>> [_natural_case(w) for w in ("как", "Как", "КАК", "кАК", "КаК")]
    [True, True, True, False, False]
    """
    letters = [c for c in word if c.isalpha()]
    if len(letters) < 2:
        return True
    return all(c.islower() for c in letters[1:]) or all(c.isupper() for c in letters)


def _flip_shape(word: str) -> bool:
    """The shape KOI8-R/Windows-1251 mix-ups leave: ``ЙЮЙ`` (from ``как``), ``оПХБЕР``.

    >>> [_flip_shape(w) for w in ("ЙЮЙ", "оПХБЕР", "Привет", "мВт", "Я")]
    [True, True, False, False, False]
    """
    letters = [c for c in word if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters[1:])


def _word_class(before: str, after: str, fam: _LegacyFamily, lang: str) -> int:
    """How much one word supports a legacy repair: strong, weak, edge, neutral or bad.

    >>> f = _profile(RU_ALPHABET).legacy[0]
    >>> [_word_class(w, w.translate(f.trans), f, "ru") for w in ("оПХБЕР", "Привет", "Ч")]
    [4, 0, 1]
    """
    n = sum(c.isalpha() for c in after)
    if n < 2:
        return _NEUTRAL
    if not _natural_case(after):
        return _BAD
    evidence = _flip_shape(before) if fam.case_flip else any(c in fam.odd for c in before)
    z_before = _zipf(before, lang)
    z_after = _zipf(after, lang)
    if evidence:
        if z_after - z_before >= 2.5 and (
            (n >= 3 and z_after >= 2.5 and z_before <= 2.0) or (n == 2 and z_after >= 5.0)
        ):
            return _STRONG
        if n == 2:
            return _NEUTRAL
        return _EDGE if z_before <= 2.0 else _BAD
    if z_before < 1.0 and z_after >= 3.0:
        return _WEAK
    return _BAD


def _segment_ok(
    classes: list[int], befores: list[str], afters: list[str], fam: _LegacyFamily
) -> bool:
    """Whether a run of judged words is, taken together, confidently mojibake.

    >>> f = _profile(RU_ALPHABET).legacy[0]
    >>> _segment_ok([_STRONG], ["оПХБЕР"], ["Привет"], f)
    True
    >>> _segment_ok([_STRONG], ["ЙЮЙ"], ["как"], f)  # one all-caps word is too little
    False
    """
    strong = [i for i, c in enumerate(classes) if c == _STRONG]
    if not strong:
        return False
    support = len(strong) + classes.count(_WEAK)
    long_words = sum(sum(ch.isalpha() for ch in a) >= 3 for a in afters)
    if 2 * support < long_words:
        return False
    longest = max(len(afters[i]) for i in strong)
    if support >= 2 and (longest >= 4 or len(strong) >= 3):
        return True
    i = strong[0]
    return len(afters[i]) >= 5 and (not fam.case_flip or befores[i][:1].islower())


# --------------------------------------------------------------------------- decoding


def _utf8_bytes(s: str, fam: _Utf8Family) -> bytes | None:
    """The bytes ``s`` came from if it is UTF-8 shown in ``fam``'s code page, else None.

    A plain space (or U+FFFD) is read as the lost continuation byte only where UTF-8
    needs a continuation byte.

    >>> f = _profile(RU_ALPHABET).utf8[1]
    >>> _utf8_bytes("Р РѕСЃ", f).decode()
    'Рос'
    """
    if s.translate(fam.known):
        return None  # a character the code page does not have
    if "\ufffd" in s:
        return _utf8_bytes_alias(s, fam)
    raw = s.translate(fam.to_bytes).encode("latin-1")
    if " " in fam.alias and " " in s:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            return _utf8_bytes_alias(s, fam)
    return raw


def _utf8_bytes_alias(s: str, fam: _Utf8Family) -> bytes | None:
    """``_utf8_bytes`` the slow way, reading aliases where a continuation byte is due.

    >>> _utf8_bytes_alias("Р С", _profile(RU_ALPHABET).utf8[1])
    b'\\xd0\\xa0\\xd1'
    """
    out = bytearray()
    need = 0
    table, alias = fam.table, fam.alias
    for ch in s:
        b = table.get(ch)
        if need and (b is None or b < 0x80) and ch in alias:
            b = alias[ch]
        if b is None:
            return None
        out.append(b)
        if need and 0x80 <= b <= 0xBF:
            need -= 1
        else:
            need = max(_utf8_len(b) - 1, 0)
    return bytes(out)


def _label(fam: _Utf8Family, s: str) -> str:
    """Name of the code page of ``fam`` that shows ``s`` (Latin-1 when C1 controls occur).

    >>> f = _profile(RU_ALPHABET).utf8[0]
    >>> _label(f, "Ð\\x9f"), _label(f, "ÐŸ")
    ('Latin-1', 'Windows-1252')
    """
    if len(fam.codecs) > 1:
        first = _table(fam.codecs[:1])
        if any(ch not in first or "\x80" <= ch <= "\x9f" for ch in s if not ch.isascii()):
            return _NAMES.get(fam.codecs[1], fam.codecs[1])
    return _NAMES.get(fam.codecs[0], fam.codecs[0])


def _legacy_decode(s: str, fam: _LegacyFamily, strict: bool) -> str | None:
    """Re-read ``s`` as ``fam.real``. Characters outside the shown code page stay as they
    are, or make the result None when ``strict``.

    >>> f = _profile(RU_ALPHABET).legacy[0]
    >>> _legacy_decode("оПХБЕР, ЙЮЙ ДЕКЮ?", f, strict=True)
    'Привет, как дела?'
    """
    if strict and any(not ch.isascii() and ord(ch) not in fam.trans for ch in s):
        return None
    return s.translate(fam.trans)


def _legacy_whole(s: str, fam: _LegacyFamily, lang: str) -> str | None:
    """All of ``s`` repaired as a legacy mix-up, when the lexicon clearly agrees.

    >>> f = _profile(RU_ALPHABET).legacy[0]
    >>> _legacy_whole("оПХБЕР, ЙЮЙ ДЕКЮ?", f, "ru"), _legacy_whole("США", f, "ru")
    ('Привет, как дела?', None)
    """
    after = _legacy_decode(s, fam, strict=True)
    if after is None or after == s:
        return None
    befores: list[str] = []
    afters: list[str] = []
    classes: list[int] = []
    for m in fam.word_re.finditer(s):
        before = m.group()
        afters.append(before.translate(fam.trans))
        befores.append(before)
        classes.append(_word_class(before, afters[-1], fam, lang))
        if classes[-1] == _BAD:
            return None  # most strings fail at once; stop before judging every word
    if not classes or not _segment_ok(classes, befores, afters, fam):
        return None
    return after


def _ftfy_step(s: str) -> tuple[str, _Steps] | None:
    """ftfy's repair of ``s`` with the (real, shown) encodings it undid, outermost first.

    >>> _ftfy_step("ÐŸÑ€Ð¸Ð²ÐµÑ‚")
    ('Привет', (('UTF-8', 'Windows-1252'),))
    """
    try:
        fixed, plan = ftfy.fix_encoding_and_explain(s)
    except Exception:  # a third party must never break the checker
        return None
    steps: list[tuple[str, str]] = []
    pending: str | None = None
    for action, arg in plan or ():
        if action == "encode":
            pending = arg
        elif action == "decode" and pending is not None:
            if not arg.startswith("utf-8"):
                return None  # ftfy's C1-control clean-up, not a decoding we can vouch for
            steps.append(("UTF-8", _NAMES.get(pending, pending)))
            pending = None
    if not steps or fixed == s:
        return None
    return fixed, tuple(steps)


def _one_round(
    s: str, prof: _Profile, use_ftfy: bool, use_legacy: bool
) -> Iterator[tuple[str, _Steps]]:
    """Every single repair of ``s`` that decodes cleanly, with the encodings it undid."""
    if use_ftfy and len(s) <= _FTFY_MAX:
        r = _ftfy_step(s)
        if r is not None:
            yield r
    for fam in prof.utf8:
        b = _utf8_bytes(s, fam)
        if b is None or b.isascii():
            continue
        try:
            out = b.decode("utf-8")
        except UnicodeDecodeError:
            continue
        yield out, (("UTF-8", _label(fam, s)),)
    if use_legacy and prof.lang is not None:
        for lfam in prof.legacy:
            fixed = _legacy_whole(s, lfam, prof.lang)
            if fixed is not None:
                yield fixed, ((_NAMES[lfam.real], _NAMES[lfam.shown]),)


def _verdict(fixed: str, prof: _Profile, min_letters: int, src_len: int = 0) -> int:
    """Is ``fixed`` text of the target language (clean), still damaged (seeded), or not?

    Clean text has at least ``min_letters`` letters of the alphabet and few other non-ASCII
    letters or symbols; or no letters at all but punctuation that took three UTF-8 bytes
    (so, when the source length ``src_len`` is given, three source characters each).

    >>> p = _profile(RU_ALPHABET)
    >>> _verdict("Привет", p, 2), _verdict("Ѹ", p, 2), _verdict("«", p, 2, 2)
    (2, 0, 0)
    >>> _verdict("—", p, 2, src_len=3), _verdict("—", p, 2, src_len=2)
    (2, 0)
    """
    without_target = fixed.translate(prof.drop_target)
    target = len(fixed) - len(without_target)
    other = 0
    for ch in without_target.translate(prof.drop_plain):  # what is left is rare: judge it
        if ch.isalpha():
            other += 1
            continue
        cat = unicodedata.category(ch)
        if cat[0] == "C" or ch == "\ufffd":
            return _NO
        if cat in ("So", "Sk", "Lm") or cat[0] == "M":
            other += 1
    if target < min_letters or other * 4 > target:
        punct3 = any(ord(ch) >= 0x800 and ch in _PUNCT_OK for ch in without_target)
        if target or other or not punct3 or src_len < 3 * len(fixed.strip()):
            return _NO
    return _SEEDED if _has_seed(fixed, prof) else _CLEAN


def _explain(steps: _Steps) -> str:
    """One line naming the damage; ``steps`` are (real, shown) pairs, outermost first.

    >>> _explain((("UTF-8", "Mac-Roman"),))
    'UTF-8 bytes decoded as Mac-Roman'
    >>> _explain((("UTF-8", "Windows-1252"), ("UTF-8", "Windows-1251")))
    'double mojibake: UTF-8 bytes decoded as Windows-1251, then as Windows-1252'
    """
    order = list(reversed(steps))  # the order the damage was done in
    first = f"{order[0][0]} bytes decoded as {order[0][1]}"
    if len(order) == 1:
        return first
    if len(set(order)) == 1:
        times = {2: "twice", 3: "three times"}.get(len(order), f"{len(order)} times")
        return f"{first}, {times} over (mojibake of mojibake)"
    rest = ", then as ".join(
        shown if real == "UTF-8" else f"{shown} ({real} bytes)" for real, shown in order[1:]
    )
    kind = "double" if len(order) == 2 else "triple"
    return f"{kind} mojibake: {first}, then as {rest}"


def _search(
    s: str, prof: _Profile, min_letters: int, utf8_first: bool = True
) -> tuple[str, str] | None:
    """Repair ``s`` breadth-first for up to three rounds: (fixed, explanation) or None.

    With ``utf8_first`` (spans found by a UTF-8 grammar) the outermost layer must be a UTF-8
    misreading; legacy 8-bit mix-ups are then only tried as inner layers."""
    frontier: list[tuple[str, _Steps]] = [(s, ())]
    seen = {s}
    fallback: tuple[str, str] | None = None
    for _ in range(_MAX_ROUNDS):
        nxt: list[tuple[str, _Steps]] = []
        for cur, steps in frontier:
            first = not steps
            for fixed, step in _one_round(cur, prof, first, not (first and utf8_first)):
                path = steps + step
                if fixed in seen or len(path) > _MAX_ROUNDS:
                    continue
                seen.add(fixed)
                v = _verdict(fixed, prof, min_letters, len(s))
                if v == _CLEAN:
                    return fixed, _explain(path)
                if v == _SEEDED and fallback is None:
                    fallback = (fixed, _explain(path))
                nxt.append((fixed, path))
        frontier = nxt[:8]
        if not frontier:
            break
    return fallback


# --------------------------------------------------------------------------- spans


def _quick_ok(word: str, fam: _Utf8Family, prof: _Profile) -> bool:
    """Whether one word decodes as UTF-8 shown in ``fam`` to target letters (or to more
    mojibake, for double damage); cheap enough to run on every word of a long span.

    >>> f = _profile(RU_ALPHABET).utf8[1]
    >>> _quick_ok("Рё", f, _profile(RU_ALPHABET)), _quick_ok("Сё", f, _profile(RU_ALPHABET))
    (True, False)
    """
    b = _utf8_bytes(word, fam)
    if b is None:
        return False
    try:
        out = b.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return _verdict(out, prof, 1, len(word)) != _NO or _has_seed(out, prof)


def _utf8_candidate(
    line: str, a: int, b: int, fam: _Utf8Family, prof: _Profile
) -> list[MojibakeSpan]:
    """Repair ``line[a:b]``, a match of ``fam``'s grammar. When it fails as a whole, it is
    split into its words and the runs of words that decode are tried on their own."""
    chunk = line[a:b]
    if not _has_seed(chunk, prof):
        return []
    r = _search(chunk, prof, min_letters=2)
    if r is not None:
        return [MojibakeSpan(a, b, chunk, *r)]
    words = list(fam.word_re.finditer(line, a, b))
    if len(words) < 2:
        return []
    ok = [_quick_ok(w.group(), fam, prof) for w in words]
    found: list[MojibakeSpan] = []
    i = 0
    while i < len(words):
        if not ok[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(words) and ok[j + 1]:
            j += 1
        sa, sb = words[i].start(), words[j].end()
        sub = line[sa:sb]
        r = _search(sub, prof, min_letters=2) if _has_seed(sub, prof) else None
        if r is not None:
            found.append(MojibakeSpan(sa, sb, sub, *r))
        i = j + 1
    return found


def _gap_ok(gap: str) -> bool:
    """Whether two words separated by ``gap`` may belong to one legacy span.

    >>> _gap_ok(", "), _gap_ok("\\n"), _gap_ok(" ╚"), _gap_ok(" и ")
    (True, False, True, False)
    """
    if len(gap) > _MAX_GAP or "\n" in gap:
        return False
    return all(ch.isascii() or not ch.isalpha() for ch in gap)


def _legacy_spans(
    line: str, fam: _LegacyFamily, prof: _Profile, taken: _Taken
) -> list[MojibakeSpan]:
    """Spans of one legacy 8-bit mix-up in one line, judged word by word with the lexicon;
    words inside spans already ``taken`` are skipped."""
    lang = prof.lang or ""  # legacy families exist only where a lexicon language does
    ms = [m for m in fam.word_re.finditer(line) if taken.free(m.start(), m.end())]
    befores = [m.group() for m in ms]
    afters = [b.translate(fam.trans) for b in befores]
    classes = [_word_class(b, a, fam, lang) for b, a in zip(befores, afters, strict=True)]
    found: list[MojibakeSpan] = []
    i, n = 0, len(ms)
    while i < n:
        if classes[i] in (_BAD, _NEUTRAL):
            i += 1
            continue
        j = i
        while (
            j + 1 < n
            and classes[j + 1] != _BAD
            and _gap_ok(line[ms[j].end() : ms[j + 1].start()])
            and taken.free(ms[j].end(), ms[j + 1].start())
        ):
            j += 1
        while classes[j] == _NEUTRAL:
            j -= 1
        seg = slice(i, j + 1)
        if _segment_ok(classes[seg], befores[seg], afters[seg], fam):
            a, b = ms[i].start(), ms[j].end()
            chunk = line[a:b]
            fixed = _legacy_decode(chunk, fam, strict=False)
            if fam.seed_re.search(chunk) and fixed and _verdict(fixed, prof, 2) != _NO:
                expl = f"{_NAMES[fam.real]} bytes decoded as {_NAMES[fam.shown]}"
                found.append(MojibakeSpan(a, b, chunk, fixed, expl))
        i = j + 1
    return found


class _Taken:
    """Non-overlapping [start, end) intervals with a logarithmic overlap test.

    >>> t = _Taken()
    >>> t.add(2, 5)
    >>> t.free(0, 2), t.free(4, 6), t.free(5, 9)
    (True, False, True)
    """

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []

    def free(self, start: int, end: int) -> bool:
        i = bisect_right(self.starts, start)
        if i and self.ends[i - 1] > start:
            return False
        return i == len(self.starts) or self.starts[i] >= end

    def add(self, start: int, end: int) -> None:
        i = bisect_right(self.starts, start)
        self.starts.insert(i, start)
        self.ends.insert(i, end)


def _line_spans(line: str, offset: int, prof: _Profile) -> list[MojibakeSpan]:
    """All spans in one line: UTF-8 candidates longest first (a shorter candidate that
    overlaps an accepted span is not even decoded), then legacy mix-ups in what is left."""
    fams = _seeded_families(line, prof)
    cands = [
        (m.start(), m.end(), fam)
        for fam in fams
        if isinstance(fam, _Utf8Family)
        for m in fam.span_re.finditer(line)
    ]
    cands.sort(key=lambda c: (c[0] - c[1], c[0]))
    taken = _Taken()
    found: list[MojibakeSpan] = []
    for a, b, fam in cands:
        if not taken.free(a, b):
            continue
        for sp in _utf8_candidate(line, a, b, fam, prof):
            if taken.free(sp.start, sp.end):
                taken.add(sp.start, sp.end)
                found.append(sp)
    for lfam in fams:
        if isinstance(lfam, _LegacyFamily):
            for sp in _legacy_spans(line, lfam, prof, taken):
                if taken.free(sp.start, sp.end):
                    taken.add(sp.start, sp.end)
                    found.append(sp)
    found.sort(key=lambda x: x.start)
    if offset:
        found = [
            MojibakeSpan(x.start + offset, x.end + offset, x.text, x.fixed, x.explanation)
            for x in found
        ]
    return found


def _line_bounds(text: str, pos: int) -> tuple[int, int]:
    """Start and end of the line holding ``pos``.

    >>> _line_bounds("ab\\ncd\\nef", 4)
    (3, 5)
    """
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    return start, len(text) if end == -1 else end


# --------------------------------------------------------------------------- public API


def repair(s: str, alphabet: str = RU_ALPHABET) -> tuple[str, str] | None:
    """Repair one mojibake string: (fixed, explanation), or None when it is not mojibake.

    ``s`` must hold at least one tell-tale pattern of a family (``Р·Р°`` alone, for
    ``за``, does not).

    >>> repair("–ö–∞–∫ –±–æ—Ä–æ—Ç—å—Å—è")
    ('Как бороться', 'UTF-8 bytes decoded as Mac-Roman')
    >>> repair("РџСЂРёРІРµС‚")[0], repair("оПХБЕР")[1]
    ('Привет', 'Windows-1251 bytes decoded as KOI8-R')
    >>> repair("Привет") is None, repair("Ð¸") is None
    (True, True)
    """
    if not isinstance(s, str) or s.isascii():
        return None
    prof = _profile(alphabet)
    if not _has_seed(s, prof):
        return None
    return _search(s, prof, min_letters=2, utf8_first=False)


def find_mojibake(text: str, alphabet: str = RU_ALPHABET) -> list[MojibakeSpan]:
    """Spans of mojibake in ``text``, each with its repair.

    ``alphabet`` holds the lowercase letters of the target language; a repair counts only
    when it yields mostly letters of that alphabet (or plain ASCII and punctuation), which
    keeps real text from being "repaired". Spans are sorted and never overlap; a span
    never crosses a line break.

    >>> [(s.start, s.end, s.fixed) for s in find_mojibake("Ответ: –ö–∞–∫ –±–æ—Ä–æ—Ç—å—Å—è?")]
    [(7, 30, 'Как бороться')]
    >>> find_mojibake("Россия, Сергей, РСФСР. С уважением — «Привет»!")
    []
    """
    if not isinstance(text, str) or text.isascii():
        return []
    prof = _profile(alphabet)
    spans: list[MojibakeSpan] = []
    for start, end in _seeded_lines(text, prof):
        spans.extend(_line_spans(text[start:end], start, prof))
    return spans
