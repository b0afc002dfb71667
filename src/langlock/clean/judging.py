"""A piece of the input judged in a worker: each record's outcome, rendered the way the
writers take it, and the piece's numbers.

Every engine's workers run ``judge``; the process that writes only appends what they
rendered and adds up their ``Stats``, in input order, so every engine writes the same bytes
and the writing process stays nearly idle.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from langlock.clean.cleaner import Outcome, RecordCleaner, Verdict
from langlock.clean.readers import CorpusItem, CorpusKind
from langlock.clean.writers import render_records
from langlock.io import jsonl_line

#: Rejected records shown in the stats as examples.
EXAMPLES = 5


@dataclass
class Stats:
    """What a run (or one piece of it) did, in numbers. ``records_in`` counts every line of a
    line-based input, blank ones too: ``records_in = kept + rejected + blank``."""

    records_in: int = 0
    kept: int = 0
    repaired: int = 0
    rejected: int = 0
    unreadable: int = 0
    bad_format: int = 0
    blank: int = 0  # empty or whitespace-only lines: no record, nothing written
    findings_by_kind: Counter[str] = field(default_factory=Counter)
    findings_by_field: Counter[str] = field(default_factory=Counter)
    examples: list[dict[str, Any]] = field(default_factory=list)

    def add(self, item: CorpusItem, outcome: Outcome | None) -> None:
        self.records_in += 1
        if outcome is None:
            self.unreadable += 1
            self.rejected += 1
            return
        for name, findings in outcome.findings.items():
            for f in findings:
                self.findings_by_kind[f["kind"]] += 1
                self.findings_by_field[_field_kind(name)] += 1
        if outcome.status is Verdict.rejected:
            self.rejected += 1
            self.bad_format += outcome.reason.startswith("format:")
            if len(self.examples) < EXAMPLES:
                self.examples.append({"source": item.source, "reason": outcome.reason})
        else:
            self.kept += 1
            self.repaired += outcome.status is Verdict.repaired

    def add_blank(self, lines: int) -> None:
        """Count ``lines`` blank lines (read, but holding no record)."""
        self.records_in += lines
        self.blank += lines

    def merge(self, later: Stats) -> None:
        """Add the numbers of the piece that follows this one.

        >>> first, second = Stats(records_in=2, kept=2), Stats(records_in=1, rejected=1)
        >>> first.merge(second)
        >>> first.records_in, first.kept, first.rejected
        (3, 2, 1)
        """
        self.records_in += later.records_in
        self.kept += later.kept
        self.repaired += later.repaired
        self.rejected += later.rejected
        self.unreadable += later.unreadable
        self.bad_format += later.bad_format
        self.blank += later.blank
        self.findings_by_kind.update(later.findings_by_kind)
        self.findings_by_field.update(later.findings_by_field)
        self.examples += later.examples[: EXAMPLES - len(self.examples)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "records_in": self.records_in,
            "kept": self.kept,
            "repaired": self.repaired,
            "rejected": self.rejected,
            "rejected_unreadable": self.unreadable,
            "rejected_format": self.bad_format,
            "rejected_findings": self.rejected - self.unreadable - self.bad_format,
            "blank": self.blank,
            "balanced": self.records_in == self.kept + self.rejected + self.blank,
            "findings_by_kind": dict(sorted(self.findings_by_kind.items())),
            "findings_by_field": dict(sorted(self.findings_by_field.items())),
            "examples": self.examples,
        }


def _field_kind(name: str) -> str:
    """Turn numbers out of a field path, so turns of every record count together.

    >>> _field_kind("messages[3].content")
    'messages[].content'
    """
    return re.sub(r"\[\d+\]", "[]", name)


@dataclass(kw_only=True)
class Judged:
    """One piece, judged: the kept records and the rejects as the writers take them."""

    kept: bytes | list[dict[str, Any]]
    kept_count: int
    rejects: bytes
    rejects_count: int
    stats: Stats


def judge(cleaner: RecordCleaner, items: Iterable[CorpusItem], output_kind: CorpusKind) -> Judged:
    """Judge records in order. An unreadable item goes to the rejects with its source and
    raw text; a rejected record with its reason and findings.

    >>> from langlock.policy import Policy
    >>> items = [CorpusItem(source="a:1", record={"text": "Привет"}),
    ...          CorpusItem(source="a:2", record=None, error="not JSON", raw="{")]
    >>> judged = judge(RecordCleaner(Policy.from_options()), items, CorpusKind.jsonl)
    >>> judged.kept.decode()  # type: ignore[union-attr]
    '{"text": "Привет"}\\n'
    >>> judged.rejects.decode()
    '{"source": "a:2", "reason": "not JSON", "raw": "{"}\\n'
    """
    stats = Stats()
    kept: list[dict[str, Any]] = []
    rejects: list[bytes] = []
    for item in items:
        outcome = None if item.record is None else cleaner.clean(item.record)
        stats.add(item, outcome)
        if outcome is None:
            rejects.append(
                jsonl_line({"source": item.source, "reason": item.error, "raw": item.raw})
            )
        elif outcome.status is Verdict.rejected:
            row = {
                "source": item.source,
                "reason": outcome.reason,
                "findings": outcome.findings,
                "record": item.record,
            }
            rejects.append(jsonl_line(row))
        else:
            kept.append(outcome.record or {})
    return Judged(
        kept=render_records(output_kind, kept),
        kept_count=len(kept),
        rejects=b"".join(rejects),
        rejects_count=len(rejects),
        stats=stats,
    )
