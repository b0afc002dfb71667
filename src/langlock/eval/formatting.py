"""Numbers as the eval writes them: shares as percentages, rates with their 95% interval.

One set of helpers for the report and the terminal tables. The terminal writes a missing
value as ``–`` and rounds tiny shares to ``0%``; the report writes ``—`` and ``<1%``, so
both spellings are parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: How the report writes a share that is not zero but rounds to 0%.
TINY = "<1%"


def pct(x: float | None, digits: int = 0, *, missing: str = "—", tiny: str | None = TINY) -> str:
    """A share as a percentage; tiny non-zero shares do not round down to a false 0%
    (unless ``tiny`` is None).

    >>> pct(0.4237), pct(0.4237, 1), pct(0.002), pct(0.0), pct(None)
    ('42%', '42.4%', '<1%', '0%', '—')
    >>> pct(0.002, tiny=None), pct(None, missing="–")
    ('0%', '–')
    """
    if x is None:
        return missing
    if tiny is not None and 0 < x < 0.005 and digits == 0:
        return tiny
    return f"{x * 100:.{digits}f}%"


def num(x: float | int | None, digits: int = 1) -> str:
    """A number for a table cell, or a dash when it is missing.

    >>> num(412.345), num(3, 0), num(None)
    ('412.3', '3', '—')
    """
    if x is None:
        return "—"
    return f"{x:.{digits}f}"


def interval_text(
    iv: Mapping[str, Any] | None, *, missing: str = "—", tiny: str | None = TINY
) -> str:
    """A rate with its 95% interval, as written next to charts and in the tables.

    >>> interval_text({"value": 0.42, "low": 0.3, "high": 0.55})
    '42% [30–55]'
    >>> interval_text({"value": 0.5}), interval_text(None)
    ('50%', '—')
    >>> interval_text({"value": 0.002, "low": 0.0, "high": 0.004}, tiny=None)
    '0% [0–0]'
    """
    if not iv or iv.get("value") is None:
        return missing
    low, high = iv.get("low"), iv.get("high")
    if low is None or high is None:
        return pct(iv["value"], missing=missing, tiny=tiny)
    share = pct(iv["value"], missing=missing, tiny=tiny)
    return f"{share} [{pct(low, tiny=tiny)[:-1]}–{pct(high, tiny=tiny)[:-1]}]"


def clip(s: str, limit: int = 60) -> str:
    """At most ``limit`` characters, with an ellipsis when cut (a long repetition span).

    >>> clip("abcdef", 4), clip("abc", 4)
    ('abc…', 'abc')
    """
    return s if len(s) <= limit else s[: limit - 1] + "…"
