"""``fix``: apply the certain fixes of a report, explain each, and check again."""

from __future__ import annotations

from langlock.policy import DEFAULT_LANG, Policy, PresetName, policy_for
from langlock.text.check import check
from langlock.text.context import FIX_PROTECTED
from langlock.text.findings import Change, Finding, Fixed
from langlock.text.regions import Regions

#: Fixes are applied until nothing changes; each round can only shrink what is left.
MAX_ROUNDS = 4


def fix(
    text: str,
    lang: str = DEFAULT_LANG,
    preset: str = PresetName.standard.value,
    prompt: str | None = None,
    policy: Policy | None = None,
) -> Fixed:
    """Apply every certain fix and say what changed and why.

    >>> r = fix("Макcвелла\\u200b")
    >>> r.text, [c.kind for c in r.changes]
    ('Максвелла', ['mixed_script', 'invisible'])
    """
    policy = policy or policy_for(lang, preset)
    current, changes = text, []
    # A fix can change the protected regions themselves (an invisible character gone, two
    # regions' delimiters meet): the fixed text is fixed again, with its own regions, until
    # it is stable, so that fix(fix(x)) == fix(x).
    for _ in range(MAX_ROUNDS):
        fixed, round_changes = _fix_pass(current, prompt, policy)
        if fixed == current:
            break
        current, changes = fixed, changes + round_changes
    return Fixed(text, current, changes, check(current, prompt=prompt, policy=policy))


def _fix_pass(text: str, prompt: str | None, policy: Policy) -> tuple[str, list[Change]]:
    """One pass: certain fixes applied in rounds, outside the text's protected regions."""
    current, changes = text, []
    # The pass's protected regions stay protected in its later rounds, even where an
    # earlier fix changed what surrounds them (a URL glued to a word once a space-like
    # invisible character is gone is still the user's URL).
    keep = [(s, e) for s, e, kind in Regions.find(text).spans if kind in FIX_PROTECTED]
    for _ in range(MAX_ROUNDS):
        report = check(current, prompt=prompt, policy=policy)
        candidates = [f for f in report.findings if f.fix is not None and not _hits(f, keep)]
        edits = _non_overlapping(candidates)
        (fixed, round_changes), shifted = apply_edits(current, edits), _shifted(keep, edits)
        lost = _unprotected(fixed, shifted)
        if lost:  # an edit beside a region undid it (``\x10$x$`` -> ``Q$x$``): keep those
            near = [(keep[i][0] - 1, keep[i][1] + 1) for i in lost]
            edits = [f for f in edits if not _hits(f, near)]
            (fixed, round_changes), shifted = apply_edits(current, edits), _shifted(keep, edits)
            if _unprotected(fixed, shifted):
                edits = []
        if not edits:
            break
        current, keep = fixed, shifted
        changes += round_changes
    return current, changes


def _shifted(spans: list[tuple[int, int]], edits: list[Finding]) -> list[tuple[int, int]]:
    return [(_shift(s, edits), _shift(e, edits)) for s, e in spans]


def _unprotected(text: str, spans: list[tuple[int, int]]) -> list[int]:
    """Which of ``spans`` no protected region of ``text`` covers any more."""
    regions = [(s, e) for s, e, kind in Regions.find(text).spans if kind in FIX_PROTECTED]
    return [
        i
        for i, (s, e) in enumerate(spans)
        if s < e and not any(rs <= s and e <= re for rs, re in regions)
    ]


def _hits(f: Finding, spans: list[tuple[int, int]]) -> bool:
    return any(f.start < e and s < f.end for s, e in spans)


def _shift(offset: int, edits: list[Finding]) -> int:
    """Where ``offset`` lands after ``edits`` (none of which covers it).

    >>> from langlock.text.findings import Finding
    >>> _shift(5, [Finding("invisible", "major", 1, 2, 1, "x", "m", "")])
    4
    """
    return offset + sum(len(f.fix or "") - (f.end - f.start) for f in edits if f.end <= offset)


def _non_overlapping(findings: list[Finding]) -> list[Finding]:
    """Keep the first of overlapping edits (findings come sorted by position)."""
    kept: list[Finding] = []
    for f in sorted(findings, key=lambda f: (f.start, -f.end)):
        if f.fix != f.text and (not kept or f.start >= kept[-1].end):
            kept.append(f)
    return kept


def apply_edits(text: str, edits: list[Finding]) -> tuple[str, list[Change]]:
    """Replace each finding's span by its fix (non-overlapping, sorted).

    >>> from langlock.text.findings import Finding
    >>> apply_edits("ab", [Finding("invisible", "major", 1, 2, 1, "b", "m", "")])[0]
    'a'
    """
    parts: list[str] = []
    pos = 0
    changes: list[Change] = []
    for f in edits:
        assert f.fix is not None
        parts += [text[pos : f.start], f.fix]
        pos = f.end
        changes.append(Change(f.kind, f.start, f.end, f.text, f.fix, f.message))
    parts.append(text[pos:])
    return "".join(parts), changes
