"""Plumbing every door shares: surrogate-safe JSON lines, text safe to print, atomic writes."""

from __future__ import annotations

import json
import unicodedata
from typing import Any

import regex

_SURROGATE = regex.compile(r"[\ud800-\udfff]")
_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def dumps(obj: Any) -> str:
    """Compact UTF-8 JSON; lone surrogates become ``\\udXXX`` escapes so it stays encodable.

    >>> dumps({"t": "я\\ud800"})
    '{"t": "я\\\\ud800"}'
    """
    out = json.dumps(obj, ensure_ascii=False)
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", out)


def visible(text: str) -> str:
    """Text safe to print: invisible and control characters become ``⟨U+XXXX⟩``.

    Tabs stay; lone surrogates and other unprintable code points are shown by number.

    >>> visible("при\\u200bвет\\t!")
    'при⟨U+200B⟩вет\\t!'
    """
    return "".join(
        f"⟨U+{ord(ch):04X}⟩" if ch != "\t" and unicodedata.category(ch) in _HIDDEN else ch
        for ch in text
    )
