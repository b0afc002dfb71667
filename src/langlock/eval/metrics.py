"""Scores over checker reports: pass rates, per-kind rates, line precision/recall, LCB metrics.

Everything here is a pure function of its inputs (reports, line sets, callables); nothing
loads a model or reads a file.

Answer- and line-level pass rates
---------------------------------
``answer_pass_rate``
    fraction of answers whose report is ``ok`` (no major finding).
``line_pass_rate``
    fraction of non-empty lines (``line.strip() != ""``) that no major finding overlaps.
``kind_rates``
    for each kind in ``KINDS``, the fraction of answers with at least one major finding of
    that kind.

Language Confusion Benchmark metrics
------------------------------------
Marchisio et al. (2024), "Understanding and Mitigating Language Confusion in LLMs", define
two pass rates over a set of responses that should all be in one target language, computed
in their ``compute_metrics.py`` as follows:

* Each response is split into lines on ``\\n``. Lines with fewer than 5 words (after
  stripping punctuation) are ignored, and a response with no remaining line is skipped
  entirely (it counts in neither rate).
* **LPR** (line-level pass rate): the fraction of (non-skipped) responses in which *every*
  line is identified as the target language by a line-level language identifier (fastText
  ``lid.176`` in the paper, a line with confidence <= 0.3 counting as wrong).
* **WPR** (word-level pass rate): among the responses that passed the line test, the
  fraction that contain *no* isolated foreign word. The paper's word test is "a token that
  is in an English word list" (lower-case entries longer than 3 letters) and is only
  reported for non-Latin-script targets (ar, hi, ja, ko, ru, zh).
* **LCPR** (language confusion pass rate): the harmonic mean of LPR and WPR.

``lcb_pass_rates`` takes the line test and the word test as callables, so the paper's
fastText + word-list tests, or langlock's own checker, can be plugged in.

Line-level detection scores
---------------------------
``prf`` turns true/false positive and false negative counts into precision, recall and
F1; ``line_scores`` counts them for predicted bad lines against gold line labels.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from langlock.text.findings import KINDS, Finding, Report, line_of, line_starts

_PUNCT = str.maketrans("", "", string.punctuation + "—–«»„“”…")


def _ratio(num: int | float, den: int | float) -> float:
    """``num / den``, or 0.0 when ``den`` is zero.

    >>> _ratio(1, 4), _ratio(3, 0)
    (0.25, 0.0)
    """
    return num / den if den else 0.0


def answer_pass_rate(reports: Iterable[Report]) -> float:
    """Fraction of answers without a major finding (0.0 when there are none).

    >>> from langlock.text.findings import Finding, Report
    >>> bad = Report("a b", "ru", "standard", [Finding("translit", "major", 0, 1, 1, "a", "")])
    >>> answer_pass_rate([Report("x", "ru", "standard"), bad])
    0.5
    """
    reports = list(reports)
    return _ratio(sum(r.ok for r in reports), len(reports))


def line_pass_rate(reports: Iterable[Report]) -> float:
    """Fraction of non-empty lines, over all answers, that no major finding overlaps.

    Blank lines (only whitespace) are left out of both numerator and denominator.

    >>> from langlock.text.findings import Finding, Report
    >>> r = Report("ok\\n\\nbad", "ru", "standard",
    ...            [Finding("translit", "major", 4, 7, 3, "bad", "")])
    >>> line_pass_rate([r])
    0.5
    """
    total = passed = 0
    for report in reports:
        bad = report.bad_lines()
        for number, line in enumerate(report.text.split("\n"), start=1):
            if line.strip():
                total += 1
                passed += number not in bad
    return _ratio(passed, total)


def kind_rates(reports: Iterable[Report]) -> dict[str, float]:
    """For each kind, the fraction of answers with at least one *major* finding of it.

    >>> from langlock.text.findings import Finding, Report
    >>> r1 = Report("x", "ru", "standard", [Finding("mojibake", "major", 0, 1, 1, "x", "")])
    >>> r2 = Report("y", "ru", "standard", [Finding("foreign_word", "minor", 0, 1, 1, "y", "")])
    >>> rates = kind_rates([r1, r2])
    >>> rates["mojibake"], rates["foreign_word"]
    (0.5, 0.0)
    """
    reports = list(reports)
    counts = dict.fromkeys(KINDS, 0)
    for report in reports:
        for kind in {f.kind for f in report.findings if f.major}:
            counts[kind] = counts.get(kind, 0) + 1
    return {kind: _ratio(n, len(reports)) for kind, n in counts.items()}


def major_lines_by_kind(report: Report) -> dict[str, set[int]]:
    """1-based lines that a major finding of each kind overlaps (kinds without one absent).

    >>> from langlock.text.findings import Finding, Report
    >>> r = Report("a\\nb\\nc", "ru", "standard",
    ...            [Finding("repetition", "major", 2, 5, 2, "b\\nc", "")])
    >>> major_lines_by_kind(r)
    {'repetition': {2, 3}}
    """
    starts = line_starts(report.text)
    lines: dict[str, set[int]] = {}
    for f in report.findings:
        if f.major:
            lines.setdefault(f.kind, set()).update(finding_lines(starts, f))
    return lines


def finding_lines(starts: list[int], finding: Finding) -> range:
    """1-based lines a finding overlaps, given ``line_starts`` of its text.

    >>> from langlock.text.findings import Finding
    >>> finding_lines([0, 2, 4], Finding("repetition", "major", 2, 5, 2, "b\\nc", ""))
    range(2, 4)
    """
    return range(finding.line, line_of(starts, max(finding.start, finding.end - 1)) + 1)


@dataclass(frozen=True, slots=True)
class PRF:
    """Precision, recall and F1."""

    precision: float
    recall: float
    f1: float


def prf(tp: int, fp: int, fn: int) -> PRF:
    """Precision, recall and F1 from counts (each 0.0 when undefined).

    >>> prf(8, 2, 8)
    PRF(precision=0.8, recall=0.5, f1=0.6153846153846154)
    >>> prf(0, 0, 0)
    PRF(precision=0.0, recall=0.0, f1=0.0)
    """
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp + fn)
    return PRF(precision, recall, _ratio(2 * precision * recall, precision + recall))


@dataclass(frozen=True, slots=True)
class LineScores:
    """Confusion counts over labelled lines, with the usual rates derived from them."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def __add__(self, other: LineScores) -> LineScores:
        return LineScores(
            self.tp + other.tp, self.fp + other.fp, self.fn + other.fn, self.tn + other.tn
        )

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    @property
    def prf(self) -> PRF:
        return prf(self.tp, self.fp, self.fn)

    @property
    def fpr(self) -> float:
        """False-positive rate: flagged clean lines over all clean lines."""
        return _ratio(self.fp, self.fp + self.tn)

    def to_dict(self) -> dict[str, float | int]:
        p = self.prf
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
            "precision": p.precision,
            "recall": p.recall,
            "f1": p.f1,
            "fpr": self.fpr,
        }


def line_scores(pred_bad_lines: Iterable[int], gold: Mapping[int, bool]) -> LineScores:
    """Count predicted bad lines against gold labels; unlabelled lines are ignored.

    ``gold`` maps a 1-based line number to True (bad) or False (clean).

    >>> line_scores({1, 2, 9}, {1: True, 2: False, 3: True, 4: False})
    LineScores(tp=1, fp=1, fn=1, tn=1)
    """
    pred = set(pred_bad_lines)
    tp = fp = fn = tn = 0
    for number, bad in gold.items():
        flagged = number in pred
        if bad:
            tp += flagged
            fn += not flagged
        else:
            fp += flagged
            tn += not flagged
    return LineScores(tp, fp, fn, tn)


@dataclass(frozen=True, slots=True)
class LCBScores:
    """Language Confusion Benchmark pass rates over one set of responses.

    ``responses`` counts the responses scored (not skipped), ``line_pass`` those whose
    every line passed, ``word_pass`` those of them with no foreign word.
    """

    lpr: float
    wpr: float
    lcpr: float
    responses: int
    skipped: int
    line_pass: int
    word_pass: int


def lcb_words(line: str) -> list[str]:
    """Whitespace tokens of a line with ASCII and typographic punctuation removed.

    >>> lcb_words("Привет, мир — hello!")
    ['Привет', 'мир', 'hello']
    """
    return line.translate(_PUNCT).split()


def lcb_pass_rates(
    texts: Iterable[str],
    is_target_line: Callable[[str], bool],
    is_foreign_word: Callable[[str], bool],
    *,
    min_words: int = 5,
) -> LCBScores:
    """LPR, WPR and LCPR (Marchisio et al. 2024) with pluggable line and word tests.

    ``is_target_line(line)`` says whether a line (punctuation removed, as in the paper's
    code) is in the target language; ``is_foreign_word(word)`` whether a token is an
    isolated foreign word. Lines with fewer
    than ``min_words`` tokens are ignored and responses left with no line are skipped.
    WPR is computed over the responses that passed the line test; LCPR is the harmonic
    mean of LPR and WPR.

    >>> cyrillic = lambda line: not any("a" <= c.lower() <= "z" for c in line)
    >>> english = lambda word: word.lower() in {"deadline", "meeting"}
    >>> texts = [
    ...     "один два три четыре пять",              # passes both
    ...     "один два три четыре deadline",          # line test fails
    ...     "коротко",                               # skipped: no line of 5 words
    ... ]
    >>> s = lcb_pass_rates(texts, cyrillic, english)
    >>> (s.responses, s.skipped, s.lpr, s.wpr)
    (2, 1, 0.5, 1.0)
    """
    responses = skipped = line_pass = word_pass = 0
    for text in texts:
        lines = [words for line in text.split("\n") if len(words := lcb_words(line)) >= min_words]
        if not lines:
            skipped += 1
            continue
        responses += 1
        if all(is_target_line(" ".join(words)) for words in lines):
            line_pass += 1
            if not any(is_foreign_word(w) for words in lines for w in words):
                word_pass += 1
    # As in the paper's code, an empty denominator gives a pass rate of 1.0.
    lpr = 1.0 - _ratio(responses - line_pass, responses)
    wpr = 1.0 - _ratio(line_pass - word_pass, line_pass)
    return LCBScores(lpr, wpr, harmonic_mean(lpr, wpr), responses, skipped, line_pass, word_pass)


def harmonic_mean(a: float, b: float) -> float:
    """Harmonic mean of two rates (0.0 when both are zero).

    >>> harmonic_mean(0.5, 1.0)
    0.6666666666666666
    """
    return _ratio(2 * a * b, a + b)
