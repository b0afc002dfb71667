"""Legacy 8-bit mix-ups (Windows-1251 read as KOI8-R, …): one letter became another, so
the lexicon judges each word."""

from __future__ import annotations

import math
from functools import lru_cache

from langlock.text.detectors.mojibake.families import _LegacyFamily

# Word classes for the lexicon-checked legacy families, weakest first.
_BAD, _NEUTRAL, _EDGE, _WEAK, _STRONG = range(5)


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

    >>> from langlock.text.detectors.mojibake.families import _profile, default_alphabet
    >>> f = _profile(default_alphabet()).legacy[0]
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

    >>> from langlock.text.detectors.mojibake.families import _profile, default_alphabet
    >>> f = _profile(default_alphabet()).legacy[0]
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


def _legacy_decode(s: str, fam: _LegacyFamily, strict: bool) -> str | None:
    """Re-read ``s`` as ``fam.real``. Characters outside the shown code page stay as they
    are, or make the result None when ``strict``.

    >>> from langlock.text.detectors.mojibake.families import _profile, default_alphabet
    >>> f = _profile(default_alphabet()).legacy[0]
    >>> _legacy_decode("оПХБЕР, ЙЮЙ ДЕКЮ?", f, strict=True)
    'Привет, как дела?'
    """
    if strict and any(not ch.isascii() and ord(ch) not in fam.trans for ch in s):
        return None
    return s.translate(fam.trans)


def _legacy_whole(s: str, fam: _LegacyFamily, lang: str) -> str | None:
    """All of ``s`` repaired as a legacy mix-up, when the lexicon clearly agrees.

    >>> from langlock.text.detectors.mojibake.families import _profile, default_alphabet
    >>> f = _profile(default_alphabet()).legacy[0]
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
