"""Which writing system a character belongs to, cached per character.

>>> script_of("ж"), script_of("q"), script_of("中"), script_of("1")
('Cyrillic', 'Latin', 'Han', 'Common')
"""

from __future__ import annotations

import re
from functools import lru_cache

import regex

#: Scripts we name in findings, most frequent in model output first (checked in order).
SCRIPTS: tuple[str, ...] = (
    "Cyrillic",
    "Latin",
    "Han",
    "Hiragana",
    "Katakana",
    "Hangul",
    "Arabic",
    "Greek",
    "Hebrew",
    "Devanagari",
    "Thai",
    "Armenian",
    "Georgian",
    "Bengali",
    "Tamil",
    "Telugu",
    "Gujarati",
    "Gurmukhi",
    "Kannada",
    "Malayalam",
    "Sinhala",
    "Tibetan",
    "Ethiopic",
    "Khmer",
    "Lao",
    "Myanmar",
    "Mongolian",
    "Bopomofo",
    "Syriac",
    "Thaana",
)
_PATTERNS = [(name, regex.compile(rf"\p{{Script={name}}}")) for name in SCRIPTS]
_INHERITED = regex.compile(r"\p{Script=Inherited}|\p{M}")


@lru_cache(maxsize=65536)
def script_of(char: str) -> str:
    """Script name of one character: a name from SCRIPTS, 'Inherited' (combining marks),
    'Common' (digits, punctuation, symbols) or 'Other'."""
    for name, pattern in _PATTERNS:
        if pattern.match(char):
            return name
    if _INHERITED.match(char):
        return "Inherited"
    if char.isalpha():
        return "Other"
    return "Common"


def script_runs(word: str) -> list[tuple[str, int, int]]:
    """Split a word into runs of one script; marks join the run before them.

    >>> script_runs("Макcвелла")
    [('Cyrillic', 0, 3), ('Latin', 3, 4), ('Cyrillic', 4, 9)]
    """
    runs: list[tuple[str, int, int]] = []
    for i, ch in enumerate(word):
        s = script_of(ch)
        if s in ("Inherited", "Common") and runs:
            name, start, _ = runs[-1]
            runs[-1] = (name, start, i + 1)
            continue
        if runs and runs[-1][0] == s and runs[-1][2] == i:
            runs[-1] = (s, runs[-1][1], i + 1)
        else:
            runs.append((s, i, i + 1))
    return runs


@lru_cache(maxsize=64)
def script_class(name: str) -> str:
    """A character-class body for the stdlib ``re`` module matching one script's letters in
    the Basic Multilingual Plane, e.g. ``\\u0400-\\u0484...``.

    ``re`` scans plain ranges many times faster than ``regex`` scans ``\\p{Script=…}``, so
    hot patterns are built from these ranges (derived once from ``regex``'s Unicode data).
    Only the BMP: one range past it makes ``re`` fall back to a slow class, and the scripts
    we test this way (Latin, Cyrillic, Greek) have only rare letters there.

    >>> import re
    >>> bool(re.fullmatch(f"[{script_class('Cyrillic')}]+", "ёжик"))
    True
    """
    pattern = regex.compile(rf"\p{{Script={name}}}+")
    parts = []
    for m in pattern.finditer(_bmp()):
        first, last = m.group()[0], m.group()[-1]
        parts.append(_escape(first) if first == last else f"{_escape(first)}-{_escape(last)}")
    return "".join(parts)


@lru_cache(maxsize=1)
def _bmp() -> str:
    return "".join(chr(c) for c in range(0x10000) if not 0xD800 <= c <= 0xDFFF)


def _escape(ch: str) -> str:
    return f"\\u{ord(ch):04x}"


@lru_cache(maxsize=16)
def letters_of(scripts: frozenset[str]) -> re.Pattern[str]:
    """One letter of any of the scripts, for counting with ``findall``.

    >>> len(letters_of(frozenset({"Cyrillic"})).findall("abc где"))
    3
    """
    return re.compile(f"[{''.join(script_class(s) for s in sorted(scripts))}]")


def utf8_length(lead: int) -> int:
    """Bytes in the UTF-8 sequence that ``lead`` starts (0 for a continuation or bad byte).

    >>> utf8_length(0x41), utf8_length(0xD0), utf8_length(0xE5), utf8_length(0x8E)
    (1, 2, 3, 0)
    """
    if lead < 0x80:
        return 1
    if 0xC2 <= lead <= 0xDF:
        return 2
    if 0xE0 <= lead <= 0xEF:
        return 3
    if 0xF0 <= lead <= 0xF4:
        return 4
    return 0
