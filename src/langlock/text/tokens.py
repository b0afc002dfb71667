"""What ``fix`` removes outright: leaked chat-template tokens and invisible characters.

Shared by their detectors and by regions, which see them as blank space: a fence or a URL
must be the same region before and after they are removed.
"""

from __future__ import annotations

import re
import tomllib
from functools import cache
from importlib import resources

#: Zero-width and direction controls, other control characters (not tab, newline, CR),
#: U+FFFD, lone surrogates and tag characters: a character class body for ``re``.
INVISIBLE_CLASS = (
    "\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u00ad\ufffd\u180e"
    "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\U000e0001\U000e0020-\U000e007f"
)
_ANY_INVISIBLE = re.compile(f"[{INVISIBLE_CLASS}]")


def blank_invisible(text: str) -> str:
    """``text`` with every invisible character replaced by a space.

    >>> blank_invisible("a\u200bb")
    'a b'
    """
    if not _ANY_INVISIBLE.search(text):
        return text
    return _ANY_INVISIBLE.sub(" ", text)


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
    for scans in special_patterns():
        for pattern, first in scans:
            if first in text:
                text = pattern.sub(lambda m: " " * len(m.group()), text)
    return text
