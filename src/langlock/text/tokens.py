"""Leaked chat-template tokens: the patterns, shared by the detector and by regions
(which treat a leaked token as blank space, since ``fix`` removes it)."""

from __future__ import annotations

import re
import tomllib
from functools import cache
from importlib import resources

_Scans = tuple[tuple[re.Pattern[str], str], ...]


@cache
def special_patterns() -> tuple[_Scans, _Scans]:
    """(everywhere, prose only) patterns, compiled one by one: each starts with a literal,
    which ``re`` finds fast, where one alternation of all of them would try every position."""
    raw = resources.files("langlock").joinpath("data", "special_tokens.toml").read_text("utf-8")
    data = tomllib.loads(raw)
    return _grouped(data["everywhere"]), _grouped(data["prose_only"])


def _grouped(patterns: list[str]) -> _Scans:
    """One alternation per first character: ``re`` then jumps from one "<" to the next."""
    groups: dict[str, list[str]] = {}
    for p in patterns:
        groups.setdefault(_first_literal(p), []).append(p)
    return tuple(
        (re.compile("|".join(f"(?:{p})" for p in ps)), first) for first, ps in groups.items()
    )


def _first_literal(pattern: str) -> str:
    r"""The character every match of ``pattern`` starts with, if it is a plain one ("" if not):
    a text without it needs no scan.

    >>> _first_literal(r"<\|[a-z]+\|>"), _first_literal(r"\[/?INST\]"), _first_literal("(?m)^x")
    ('<', '[', '')
    """
    if pattern[:1] == "\\" and pattern[1:2] in "[]()|<>#":
        return pattern[1]
    return pattern[0] if pattern[:1] and pattern[0] not in "\\([.^$|?*+{" else ""


def blank_special_tokens(text: str) -> str:
    """``text`` with every leaked token replaced by spaces of the same length.

    >>> blank_special_tokens("a<|im_end|>b")
    'a          b'
    """
    if "<" not in text and "[" not in text and "#" not in text and ":" not in text:
        return text
    for scans in special_patterns():
        for pattern, first in scans:
            if first in text:
                text = pattern.sub(lambda m: " " * len(m.group()), text)
    return text
