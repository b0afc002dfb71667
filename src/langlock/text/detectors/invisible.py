"""``invisible``: zero-width, direction-control and other control characters."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

import regex

from langlock.text.context import Context
from langlock.text.detectors.base import Detector
from langlock.text.findings import Finding
from langlock.text.tokens import INVISIBLE_CLASS

_INVISIBLE = re.compile(f"[{INVISIBLE_CLASS}]+")
_EMOJI_SIDE = regex.compile(r"[\p{Extended_Pictographic}\p{Emoji_Modifier}\ufe0f\u20e3]")


def _is_emoji_joiner(text: str, i: int) -> bool:
    """A zero-width joiner between two emoji (👩‍💻) is part of the emoji, not a finding."""
    return (
        text[i] == "\u200d"
        and 0 < i < len(text) - 1
        and bool(_EMOJI_SIDE.match(text[i - 1]))
        and bool(_EMOJI_SIDE.match(text[i + 1]))
    )


def char_label(ch: str) -> str:
    """Readable name of an invisible character.

    >>> char_label("\\u200b")
    'U+200B ZERO WIDTH SPACE'
    """
    fallback = "LONE SURROGATE" if unicodedata.category(ch) == "Cs" else "CONTROL CHARACTER"
    return f"U+{ord(ch):04X} {unicodedata.name(ch, fallback)}"


class InvisibleDetector(Detector):
    """Zero-width, direction-control, other control characters and U+FFFD."""

    kinds = ("invisible",)

    def find(self, ctx: Context) -> Iterator[Finding]:
        text = ctx.text
        for m in _INVISIBLE.finditer(text):
            start = m.start()
            for i in range(m.start(), m.end() + 1):
                if i == m.end() or _is_emoji_joiner(text, i):
                    if i > start:
                        yield self._finding(ctx, start, i)
                    start = i + 1

    @staticmethod
    def _finding(ctx: Context, start: int, end: int) -> Finding:
        labels = sorted({char_label(c) for c in ctx.text[start:end]})
        return ctx.finding(
            "invisible", start, end, "invisible character " + ", ".join(labels), fix=""
        )
