"""``check``: run every detector the policy asks for and return one Report."""

from __future__ import annotations

from langlock.policy import DEFAULT_LANG, Policy, PresetName, policy_for
from langlock.text.context import Context
from langlock.text.detectors import (
    Detector,
    InvisibleDetector,
    LatinWordDetector,
    MojibakeDetector,
    RepetitionDetector,
    ScriptDetector,
    SisterLanguageDetector,
    SpecialTokenDetector,
)
from langlock.text.findings import Finding, Report

DETECTORS: tuple[Detector, ...] = (
    SpecialTokenDetector(),
    InvisibleDetector(),
    MojibakeDetector(),
    ScriptDetector(),
    LatinWordDetector(),
    SisterLanguageDetector(),
    RepetitionDetector(),
)


def check(
    text: str,
    lang: str = DEFAULT_LANG,
    preset: str = PresetName.standard.value,
    prompt: str | None = None,
    policy: Policy | None = None,
) -> Report:
    """Find where ``text`` leaves the target language.

    >>> r = check("Это важный milestone проекта.")
    >>> r.ok, [(f.kind, f.text) for f in r.findings]
    (False, [('foreign_word', 'milestone')])
    >>> check("Установите Docker и запустите SQL-запрос.").ok
    True
    """
    policy = policy or policy_for(lang, preset)
    ctx = Context(text, policy, prompt)
    findings: list[Finding] = []
    for detector in DETECTORS:
        findings.extend(f for f in detector.find(ctx) if policy.reports(f.kind))
    return Report(text, policy.lang, policy.preset.name, _dedupe(findings))


def _dedupe(findings: list[Finding]) -> list[Finding]:
    """Sort by position; drop exact duplicates (same kind and span)."""
    seen: set[tuple[str, int, int]] = set()
    out: list[Finding] = []
    for f in sorted(findings, key=lambda f: (f.start, f.end, f.kind)):
        key = (f.kind, f.start, f.end)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out
