"""One record's verdict under a mode: keep it, repair it with certain fixes, or reject it.

``drop`` rejects a record with any major finding in a checked text; ``repair`` applies the
checker's certain fixes (homoglyphs, mojibake, invisible characters, transliteration, …),
checks again and keeps the record only if every text is now clean; ``tag`` keeps every
record and adds what was found under ``langlock``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from langlock.clean.records import AUTO, FormatError, Unit, detect_format, units, with_text
from langlock.policy import Policy
from langlock.text.check import check
from langlock.text.findings import Finding
from langlock.text.repair import fix

TAG_FIELD = "langlock"


class CleanMode(StrEnum):
    """What to do with a record that has a major finding (``--mode``)."""

    drop = "drop"
    repair = "repair"
    tag = "tag"


class Verdict(StrEnum):
    """What became of a record: kept as it was, kept repaired, or rejected."""

    kept = "kept"
    repaired = "repaired"
    rejected = "rejected"


@dataclass(kw_only=True)
class Outcome:
    """What became of one record."""

    status: Verdict
    record: dict[str, Any] | None
    reason: str = ""
    #: Major findings per checked field (after repair, what was left).
    findings: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    fixed_fields: list[str] = field(default_factory=list)


class RecordCleaner:
    """Checks the texts of records of one format under one policy and mode."""

    def __init__(
        self,
        policy: Policy,
        *,
        mode: str = CleanMode.drop,
        fmt: str = AUTO,
        roles: Sequence[str] = ("assistant",),
        text_field: str | None = None,
    ) -> None:
        if mode not in set(CleanMode):
            raise ValueError(f"unknown mode {mode!r}; choose one of {', '.join(CleanMode)}")
        self.policy = policy
        self.mode = CleanMode(mode)
        self.fmt = fmt
        self.roles = tuple(roles)
        self.text_field = text_field

    def clean(self, record: dict[str, Any]) -> Outcome:
        """The outcome for one record.

        >>> from langlock.policy import Policy
        >>> cleaner = RecordCleaner(Policy.from_options(), mode=CleanMode.repair)
        >>> out = cleaner.clean({"text": "Закон Макcвелла"})
        >>> str(out.status), out.record
        ('repaired', {'text': 'Закон Максвелла'})
        >>> cleaner.clean({"text": "Это важный milestone"}).reason
        'not repairable: text: foreign_word «milestone»'
        """
        try:
            fmt = detect_format(record) if self.fmt == AUTO else self.fmt
            checked = units(record, fmt, self.roles, self.text_field)
        except (FormatError, KeyError, TypeError) as exc:
            return Outcome(status=Verdict.rejected, record=None, reason=f"format: {exc}")
        bad = {u.field: (u, majors) for u in checked if (majors := self._majors(u))}
        if self.mode is CleanMode.tag:
            tagged = dict(record)
            tagged[TAG_FIELD] = {
                "ok": not bad,
                "findings": {name: _dicts(m) for name, (_, m) in bad.items()},
            }
            findings = {n: _dicts(m) for n, (_, m) in bad.items()}
            return Outcome(status=Verdict.kept, record=tagged, findings=findings)
        if not bad:
            return Outcome(status=Verdict.kept, record=record)
        if self.mode is CleanMode.repair:
            return self._repair(record, bad)
        findings = {n: _dicts(m) for n, (_, m) in bad.items()}
        return Outcome(status=Verdict.rejected, record=None, reason=_reason(bad), findings=findings)

    def _majors(self, unit: Unit) -> list[Finding]:
        report = check(unit.text, policy=self.policy, prompt=unit.prompt)
        return [f for f in report.findings if f.severity == "major"]

    def _repair(
        self, record: dict[str, Any], bad: dict[str, tuple[Unit, list[Finding]]]
    ) -> Outcome:
        repaired = record
        left: dict[str, tuple[Unit, list[Finding]]] = {}
        for name, (unit, _) in bad.items():
            fixed = fix(unit.text, policy=self.policy, prompt=unit.prompt)
            repaired = with_text(repaired, unit.path, fixed.text)
            majors = [f for f in fixed.remaining.findings if f.severity == "major"]
            if majors:
                left[name] = (unit, majors)
        if left:
            findings = {n: _dicts(m) for n, (_, m) in left.items()}
            reason = "not repairable: " + _reason(left)
            return Outcome(status=Verdict.rejected, record=None, reason=reason, findings=findings)
        return Outcome(status=Verdict.repaired, record=repaired, fixed_fields=list(bad))


def _dicts(findings: list[Finding]) -> list[dict[str, Any]]:
    return [
        {"kind": f.kind, "start": f.start, "end": f.end, "text": f.text, "message": f.message}
        for f in findings
    ]


def _reason(bad: dict[str, tuple[Unit, list[Finding]]]) -> str:
    """A short reason: field, kind and text of the first few findings."""
    parts = []
    for name, (_, majors) in bad.items():
        parts += [f"{name}: {f.kind} «{f.text[:40]}»" for f in majors[:3]]
    return "; ".join(parts[:5])
