"""Metrics on hand-computed cases."""

from __future__ import annotations

import pytest

from langlock.eval.metrics import (
    LineScores,
    answer_pass_rate,
    finding_lines,
    harmonic_mean,
    kind_rates,
    lcb_pass_rates,
    lcb_words,
    line_pass_rate,
    line_scores,
    major_lines_by_kind,
    prf,
)
from langlock.text.findings import KINDS, Finding, Report


def finding(kind: str, start: int, end: int, line: int, severity: str = "major") -> Finding:
    return Finding(kind, severity, start, end, line, "", "")  # type: ignore[arg-type]


def report(text: str, *findings: Finding) -> Report:
    return Report(text, "ru", "standard", list(findings))


#  line 1 "один" [0, 4), line 2 "" [5, 5), line 3 "два три" [6, 13), line 4 "четыре" [14, 20)
TEXT = "один\n\nдва три\nчетыре"


def test_answer_pass_rate_counts_only_major_findings() -> None:
    reports = [
        report("a"),
        report("b", finding("foreign_word", 0, 1, 1, "minor")),
        report("c", finding("mojibake", 0, 1, 1)),
        report("d", finding("invisible", 0, 1, 1), finding("translit", 0, 1, 1)),
    ]
    assert answer_pass_rate(reports) == 0.5
    assert answer_pass_rate([]) == 0.0


def test_line_pass_rate_skips_blank_lines_and_spans_lines() -> None:
    # A finding from line 3 into line 4 fails both; line 2 is blank and not counted.
    r = report(TEXT, finding("repetition", 8, 16, 3))
    assert r.bad_lines() == {3, 4}
    assert line_pass_rate([r]) == pytest.approx(1 / 3)
    # Minor findings do not fail lines; second answer has 1 clean non-empty line.
    clean = report("  \nтекст", finding("foreign_word", 3, 8, 2, "minor"))
    assert line_pass_rate([r, clean]) == pytest.approx(2 / 4)
    assert line_pass_rate([]) == 0.0


def test_kind_rates_count_answers_not_findings() -> None:
    reports = [
        report("x", finding("mojibake", 0, 1, 1), finding("mojibake", 0, 1, 1)),
        report("y", finding("mojibake", 0, 1, 1), finding("invisible", 0, 1, 1, "minor")),
        report("z"),
        report("w", finding("special_token", 0, 1, 1)),
    ]
    rates = kind_rates(reports)
    assert set(rates) == set(KINDS)
    assert rates["mojibake"] == 0.5
    assert rates["special_token"] == 0.25
    assert rates["invisible"] == 0.0
    assert all(v == 0.0 for v in kind_rates([]).values())


def test_major_lines_by_kind_and_finding_lines() -> None:
    r = report(
        TEXT,
        finding("translit", 0, 4, 1),
        finding("repetition", 8, 16, 3),
        finding("foreign_word", 14, 20, 4, "minor"),
    )
    assert major_lines_by_kind(r) == {"translit": {1}, "repetition": {3, 4}}
    # An empty span marks its own line only.
    assert list(finding_lines([0, 5, 6, 14], finding("invisible", 6, 6, 3))) == [3]


def test_prf_hand_computed() -> None:
    p = prf(tp=6, fp=2, fn=3)
    assert p.precision == pytest.approx(6 / 8)
    assert p.recall == pytest.approx(6 / 9)
    assert p.f1 == pytest.approx(2 * 6 / (2 * 6 + 2 + 3))
    assert prf(0, 5, 0).precision == 0.0
    assert prf(0, 0, 5).f1 == 0.0


def test_line_scores_ignores_unlabelled_lines() -> None:
    gold = {1: True, 2: True, 3: False, 4: False, 5: False}
    s = line_scores({1, 3, 7, 8}, gold)
    assert s == LineScores(tp=1, fp=1, fn=1, tn=2)
    assert s.n == 5
    assert s.fpr == pytest.approx(1 / 3)
    assert s.prf.precision == 0.5
    assert (s + s).tp == 2
    d = s.to_dict()
    assert d["recall"] == 0.5 and d["fpr"] == pytest.approx(1 / 3)


def test_lcb_words_strip_punctuation() -> None:
    assert lcb_words("«Да», — сказал он... (ok)") == ["Да", "сказал", "он", "ok"]


def is_cyrillic_line(line: str) -> bool:
    return not any("a" <= c.lower() <= "z" for c in line)


def is_english(word: str) -> bool:
    return word.lower() in {"deadline", "meeting", "really"}


def test_lcb_pass_rates_hand_computed() -> None:
    texts = [
        "один два три четыре пять\nшесть семь восемь девять десять",  # passes
        "один два три четыре пять\nLet us meet at the station tomorrow",  # line error
        "у нас deadline в пятницу вечером",  # Latin word: the line test fails it
        "короткая строка",  # skipped: no line with 5 words
        "один два три\nочень короткие строки тут",  # skipped too
        "мы обсудили план на завтра\nи разошлись по домам рано",  # passes
    ]
    s = lcb_pass_rates(texts, is_cyrillic_line, is_english)
    assert (s.responses, s.skipped, s.line_pass, s.word_pass) == (4, 2, 2, 2)
    assert s.lpr == 0.5 and s.wpr == 1.0
    assert s.lcpr == pytest.approx(2 / 3)

    # With a line test that accepts every line, the word test decides WPR.
    s = lcb_pass_rates(texts, lambda line: True, is_english)
    assert (s.line_pass, s.word_pass) == (4, 3)
    assert s.lpr == 1.0 and s.wpr == 0.75
    assert s.lcpr == pytest.approx(harmonic_mean(1.0, 0.75))


def test_lcb_pass_rates_min_words_and_empty() -> None:
    s = lcb_pass_rates(["да нет"], lambda line: False, is_english, min_words=2)
    assert (s.responses, s.lpr, s.wpr) == (1, 0.0, 1.0)
    assert s.lcpr == 0.0
    empty = lcb_pass_rates([], is_cyrillic_line, is_english)
    assert (empty.lpr, empty.wpr, empty.lcpr, empty.responses) == (1.0, 1.0, 1.0, 0)
