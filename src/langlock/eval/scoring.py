"""Scores of an eval run: per answer (the checker's verdict, degeneration), then per strategy
and category with bootstrap 95% intervals.

Intervals resample *prompts* (all samples of a prompt together), since samples of one
prompt are not independent; a strategy that "passes" by emitting empty or degenerate answers
shows it in ``degenerate_rate``.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict
from statistics import fmean
from typing import Any

from langlock.eval.metrics import lcb_pass_rates
from langlock.policy import Policy
from langlock.text.check import check
from langlock.text.findings import KINDS, Report

#: One answer as ``generations.jsonl`` holds it: the prompt, the remedy (``strategy``), the
#: generation and the scores of :func:`score_answer`.
AnswerRecord = dict[str, Any]
#: One (strategy, category) row of ``summary.json``.
SummaryRow = dict[str, Any]


def score_answer(answer: str, prompt: str, policy: Policy) -> AnswerRecord:
    """The checker's verdict on one answer, with what the report needs.

    >>> from langlock.policy import Policy
    >>> s = score_answer("Это важный milestone.", "Вопрос?", Policy.from_options())
    >>> s["ok"], [f["kind"] for f in s["findings"]], s["degenerate"], s["lines"], s["lines_ok"]
    (False, ['foreign_word'], False, 1, 0)
    """
    report = check(answer, policy=policy, prompt=prompt)
    lines, lines_ok = _line_counts(report)
    return {
        "ok": report.ok,
        "findings": [asdict(f) for f in report.findings],
        "degenerate": degeneration(answer, report) is not None,
        "why_degenerate": degeneration(answer, report),
        "lines": lines,
        "lines_ok": lines_ok,
        "chars": len(answer),
    }


#: Fence lines (```) that, as half the answer's lines or more, mark fence spam: blocks with
#: nothing or next to nothing inside, which a model learns to write because code passes the
#: check (a tuned model's answers were 82 % this under ``frame``). Two real blocks with prose
#: or code around them stay under half.
EMPTY_FENCES = 6


def degeneration(answer: str, report: Report) -> str | None:
    """Why an answer is degenerate (empty, a loop, junk), or None.

    >>> from langlock.policy import Policy
    >>> policy = Policy.from_options()
    >>> [degeneration(t, check(t, policy=policy)) for t in ("", "* * * * * * * * * * * *")]
    ['empty', 'no words: 0% letters']
    >>> degeneration("```\\n```\\n```\\n```", check("", policy=policy))
    "a line three times in a row: '```'"
    >>> spam = "Да.\\n```python\\n```\\n```bash\\n```\\n```py\\nx\\n```"
    >>> degeneration(spam, check("", policy=policy))
    'code fences with little or nothing in them: 6 of 8 lines'
    >>> degeneration("Небо голубое из-за рассеяния света.", check("Небо", policy=policy))
    """
    text = answer.strip()
    if not text:
        return "empty"
    if any(f.kind == "repetition" and f.severity == "major" for f in report.findings):
        return "repetition"
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    for first, *rest in zip(lines, lines[1:], lines[2:], strict=False):
        if all(line == first for line in rest):  # also inside code: ``` ``` ``` is no code
            return f"a line three times in a row: {first[:40]!r}"
    fences = sum(line.startswith("```") for line in lines)
    if fences >= EMPTY_FENCES and fences * 2 >= len(lines):  # no code needs that many
        return f"code fences with little or nothing in them: {fences} of {len(lines)} lines"
    visible = [c for c in text if not c.isspace()]
    letters = sum(c.isalpha() for c in visible)
    if len(visible) >= 10 and letters < 0.3 * len(visible):
        return f"no words: {letters / len(visible):.0%} letters"
    data = text.encode()
    if len(data) >= 400 and len(zlib.compress(data)) < 0.12 * len(data):
        return "a loop (compresses below 12%)"
    return None


def _line_counts(report: Report) -> tuple[int, int]:
    """Non-blank lines, and those no major finding touches."""
    bad: set[int] = set()
    for f in report.findings:
        if f.severity == "major":
            first = f.line
            bad.update(range(first, first + report.text.count("\n", f.start, f.end) + 1))
    numbers = [i for i, line in enumerate(report.text.split("\n"), 1) if line.strip()]
    return len(numbers), sum(1 for i in numbers if i not in bad)


def bootstrap(
    groups: Sequence[Sequence[float]], iterations: int = 1000, seed: int = 0
) -> dict[str, float]:
    """Mean over all values, with a 95% interval from resampling whole groups.

    >>> bootstrap([[1.0, 1.0], [0.0, 0.0], [1.0, 0.0]])["value"]
    0.5
    >>> b = bootstrap([[1.0]] * 10)
    >>> (b["low"], b["high"])
    (1.0, 1.0)
    """
    values = [v for g in groups for v in g]
    if not values:
        return {"value": 0.0, "low": 0.0, "high": 0.0}
    rng = random.Random(seed)
    sums = [(sum(g), len(g)) for g in groups]
    means = []
    for _ in range(iterations):
        total = count = 0.0
        for s, n in rng.choices(sums, k=len(sums)):
            total += s
            count += n
        means.append(total / count if count else 0.0)
    means.sort()
    low = means[int(0.025 * (iterations - 1))]
    high = means[int(0.975 * (iterations - 1))]
    return {"value": fmean(values), "low": low, "high": high}


def summarize_rows(
    records: Iterable[AnswerRecord],
    strategies: Sequence[str],
    categories: Sequence[str],
    lcb_line_test: Callable[[str], bool] | None = None,
    lcb_word_test: Callable[[str], bool] | None = None,
) -> list[SummaryRow]:
    """One row per (strategy, category) and per strategy over all categories."""
    scored = [r for r in records if r.get("error") is None]
    rows = []
    for strategy in strategies:
        for category in ["all", *categories]:
            chosen = [
                r
                for r in scored
                if r["strategy"] == strategy and category in ("all", r["category"])
            ]
            rows.append(_row(strategy, category, chosen, lcb_line_test, lcb_word_test))
    return rows


def _row(
    strategy: str,
    category: str,
    records: list[AnswerRecord],
    lcb_line_test: Callable[[str], bool] | None,
    lcb_word_test: Callable[[str], bool] | None,
) -> SummaryRow:
    by_prompt: dict[str, list[AnswerRecord]] = {}
    for r in records:
        by_prompt.setdefault(r["id"], []).append(r)
    groups = list(by_prompt.values())

    def rate(test: Callable[[AnswerRecord], float]) -> dict[str, float]:
        return bootstrap([[test(r) for r in g] for g in groups])

    def line_rate(r: AnswerRecord) -> float:
        return r["lines_ok"] / r["lines"] if r["lines"] else 1.0

    kinds = {
        kind: _share(
            records,
            lambda r, k=kind: any(
                f["kind"] == k and f["severity"] == "major" for f in r["findings"]
            ),
        )
        for kind in KINDS
    }
    lpr = wpr = None
    if lcb_line_test and lcb_word_test and records:
        lcb = lcb_pass_rates([r["answer"] for r in records], lcb_line_test, lcb_word_test)
        lpr, wpr = lcb.lpr, lcb.wpr
    tokens = sum(r["tokens"] for r in records)
    seconds = sum(r["seconds"] for r in records)
    return {
        "strategy": strategy,
        "category": category,
        "n": len(records),
        "pass_rate": rate(lambda r: float(r["ok"])),
        "line_pass_rate": rate(line_rate),
        "degenerate_rate": rate(lambda r: float(r["degenerate"])),
        "empty_rate": _share(records, lambda r: not r["answer"].strip()),
        "lpr": lpr,
        "wpr": wpr,
        "kinds": kinds,
        "mean_chars": fmean(r["chars"] for r in records) if records else 0.0,
        "tokens_per_second": tokens / seconds if seconds else 0.0,
        "mean_seconds": seconds / len(records) if records else 0.0,
        "mean_attempts": fmean(r.get("attempts", 1) for r in records) if records else 0.0,
        "mean_added_seconds": (
            fmean(r.get("added_seconds", 0.0) for r in records) if records else 0.0
        ),
    }


def _share(records: list[AnswerRecord], test: Callable[[AnswerRecord], bool]) -> float:
    return sum(1 for r in records if test(r)) / len(records) if records else 0.0
