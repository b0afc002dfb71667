"""Findings, reports and fix results: the data every langlock door passes around.

The JSON shape is a contract (``../shared/DESIGN.md``): ``{"kind", "severity", "start",
"end", "line", "text", "message", "fix"}`` with code-point offsets into the original text
and a 1-based line number (lines split on ``\\n``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

#: The closed list of kinds in POLICY.md. Adding one is a deliberate change to POLICY.md,
#: the JSON schema and the tests together.
KINDS: tuple[str, ...] = (
    "foreign_script",
    "foreign_word",
    "wrong_language",
    "translit",
    "mixed_script",
    "mojibake",
    "invisible",
    "special_token",
    "repetition",
)

Severity = Literal["minor", "major"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One span of text that leaves the target language.

    >>> f = Finding("invisible", "major", 3, 4, 1, "\\u200b", "zero-width space", "")
    >>> f.to_dict()["kind"]
    'invisible'
    """

    kind: str
    severity: Severity
    start: int
    end: int
    line: int
    text: str
    message: str
    fix: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def major(self) -> bool:
        return self.severity == "major"


@dataclass(slots=True)
class Report:
    """Everything the checker found in one text.

    ``ok`` is False when any finding is major (POLICY.md, "Severity and verdict").
    """

    text: str
    lang: str
    preset: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(f.major for f in self.findings)

    def kinds(self) -> set[str]:
        return {f.kind for f in self.findings}

    def bad_lines(self) -> set[int]:
        """1-based numbers of lines that a major finding overlaps.

        A finding spanning several lines marks each of them.
        """
        starts = line_starts(self.text)
        bad: set[int] = set()
        for f in self.findings:
            if f.major:
                last = line_of(starts, max(f.start, f.end - 1))
                bad.update(range(f.line, last + 1))
        return bad

    def to_dict(self, record_id: Any = None) -> dict[str, Any]:
        return {
            "id": record_id,
            "ok": self.ok,
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass(frozen=True, slots=True)
class Change:
    """One edit made by ``fix``: where (in the original text), what, and why."""

    kind: str
    start: int
    end: int
    before: str
    after: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class Fixed:
    """The result of ``langlock.fix``: the new text, each change, and what is left."""

    original: str
    text: str
    changes: list[Change]
    remaining: Report

    @property
    def changed(self) -> bool:
        return self.text != self.original

    def to_dict(self, record_id: Any = None) -> dict[str, Any]:
        return {
            "id": record_id,
            "text": self.text,
            "changes": [c.to_dict() for c in self.changes],
            "ok": self.remaining.ok,
            "remaining": [f.to_dict() for f in self.remaining.findings],
        }


def line_starts(text: str) -> list[int]:
    """Code-point offsets where each line begins.

    >>> line_starts("ab\\ncd\\n")
    [0, 3, 6]
    """
    starts = [0]
    pos = text.find("\n")
    while pos != -1:
        starts.append(pos + 1)
        pos = text.find("\n", pos + 1)
    return starts


def line_of(starts: list[int], offset: int) -> int:
    """1-based line number of a code-point offset, given ``line_starts``.

    >>> line_of([0, 3, 6], 4)
    2
    """
    from bisect import bisect_right

    return bisect_right(starts, offset)
