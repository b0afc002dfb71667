"""``special_token``: leaked chat-template tokens."""

from __future__ import annotations

import re
from collections.abc import Iterator

from langlock.text.context import Context
from langlock.text.detectors.base import Detector
from langlock.text.findings import Finding
from langlock.text.tokens import special_patterns


class SpecialTokenDetector(Detector):
    """Leaked chat-template tokens (``<|im_end|>``, ``<end_of_turn>``, ``### Response:``)."""

    kinds = ("special_token",)

    def find(self, ctx: Context) -> Iterator[Finding]:
        text = ctx.text
        everywhere, prose_only = special_patterns()
        for pattern, first in everywhere:
            if first in text:
                for m in pattern.finditer(text):
                    yield self._finding(ctx, m)
        for pattern, first in prose_only:
            if first in text:
                for m in pattern.finditer(text):
                    if not ctx.in_code(m.start(), m.end()):
                        yield self._finding(ctx, m)

    @staticmethod
    def _finding(ctx: Context, m: re.Match[str]) -> Finding:
        return ctx.finding(
            "special_token",
            m.start(),
            m.end(),
            f"leaked chat-template token “{m.group()}”",
            fix="",
        )
