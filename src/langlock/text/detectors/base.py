"""The one interface every checker step implements."""

from __future__ import annotations

from collections.abc import Iterator

from langlock.text.context import Context
from langlock.text.findings import Finding


class Detector:
    """One step of the checker: ``find(ctx)`` yields findings of the kinds it owns."""

    kinds: tuple[str, ...] = ()

    def find(self, ctx: Context) -> Iterator[Finding]:
        raise NotImplementedError
