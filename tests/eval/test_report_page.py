"""The eval report page: structure, escaping, every strategy and category shown, atomic writes."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

from langlock.eval.formatting import interval_text
from langlock.eval.report import (
    highlight,
    render_report,
    write_report,
)
from tests.eval.report_data import CATEGORIES, STRATEGIES
from tests.eval.report_html import Page, ancestor, mark_texts, section_of

# ----------------------------------------------------------------------------- the page


def test_page_is_well_formed_and_self_contained(html: str, page: Page) -> None:
    assert page.errors == []
    assert html.startswith("<!DOCTYPE html>")
    # The SVG namespace is a name, not a fetch; nothing else may point outside the file.
    assert html.count("http") == html.count('xmlns="http://www.w3.org/2000/svg"')
    assert "@import" not in html and "@font-face" not in html
    assert html.count("url(") == html.count("url(#")
    for tag in ("link", "script", "img", "iframe", "object", "embed"):
        assert page.tags[tag] == 0, tag


def test_one_chart_per_section(page: Page) -> None:
    charts = [(section_of(e), e["attrs"]["data-chart"]) for e in page.find("svg", "chart")]
    assert sorted(charts) == [
        ("kinds", "kinds"),
        ("pass-rate", "degenerate_rate"),
        ("pass-rate", "pass_rate"),
    ]
    assert [section_of(t) for t in page.find("table", "scores")] == ["table"]
    examples = page.find("article", "example")
    assert examples and {section_of(e) for e in examples} == {"examples"}
    assert {e["attrs"]["id"] for e in page.find("section")} == {
        "pass-rate",
        "kinds",
        "table",
        "examples",
    }


def test_every_strategy_is_named_everywhere(page: Page) -> None:
    for chart in page.find("svg", "chart"):
        for s in STRATEGIES:
            assert s in chart["text"], (chart["attrs"]["data-chart"], s)
    table = page.find("table", "scores")[0]
    strategy_cells = [e["text"] for e in page.find("td", "strategy")]
    assert Counter(strategy_cells) == Counter({s: 1 + len(CATEGORIES) for s in STRATEGIES})
    assert "frame+lock" in table["text"]
    for article in page.find("article", "example"):
        cols = [
            e["attrs"]["data-strategy"]
            for e in page.find("div", "answer-col")
            if ancestor(e, "article", "data-id") == article["attrs"]["data-id"]
            and ancestor(e, "article", "data-sample") == article["attrs"]["data-sample"]
        ]
        assert cols == STRATEGIES


def test_charts_show_intervals_and_values(page: Page, summary: dict) -> None:
    chart = page.find("svg", "chart", data_chart="pass_rate")[0]
    none_all = next(
        r for r in summary["rows"] if r["strategy"] == "none" and r["category"] == "all"
    )
    assert interval_text(none_all["pass_rate"]) in chart["text"]
    assert "100%" in chart["text"] and "0%" in chart["text"]
    heat = page.find("svg", "chart", data_chart="kinds")[0]
    for kind in ("foreign word", "wrong language", "repetition"):
        assert kind in heat["text"]
    assert page.tags["circle"] >= 2 * len(STRATEGIES)


def test_marks_contain_exactly_the_finding_text(html: str, gens: list[dict]) -> None:
    by_key = {(g["id"], str(g["sample"]), g["strategy"]): g for g in gens}
    parsed = Page(html)
    answers = parsed.find("div", "answer")
    checked = 0
    for answer in answers:
        key = (
            ancestor(answer, "article", "data-id"),
            ancestor(answer, "article", "data-sample"),
            ancestor(answer, "div", "data-strategy"),
        )
        rec = by_key[key]
        assert answer["text"] == rec["answer"]
        # Re-render just this answer's fragment to read the pieces in opening order.
        got = mark_texts(highlight(rec["answer"], rec["findings"]))
        assert highlight(rec["answer"], rec["findings"]) in html
        for i, f in enumerate(rec["findings"]):
            assert got[i] == f["text"] == rec["answer"][f["start"] : f["end"]]
            checked += 1
    assert checked >= 5
    assert any(ancestor(a, "article", "data-id") == "everyday-001" for a in answers)


def test_no_markup_from_data_survives_unescaped(html: str, page: Page) -> None:
    assert "<script" not in html.lower()
    assert page.tags["script"] == 0 and page.tags["img"] == 0
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<title>langlock eval &lt;ru&gt;</title>" in html
    marks = page.find("mark", "foreign_script")
    assert '<script>alert("x")</script>' in [m["text"] for m in marks]


def test_error_record_is_shown_as_error(page: Page) -> None:
    cols = [
        c
        for c in page.find("div", "answer-col")
        if ancestor(c, "article", "data-id") == "trap-001"
        and ancestor(c, "article", "data-sample") == "0"
        and c["attrs"]["data-strategy"] == "lock"
    ]
    assert len(cols) == 1
    assert "! error" in cols[0]["text"] and "pass" not in cols[0]["text"]
    assert "TimeoutError: no answer after 60 s <endpoint>" in cols[0]["text"]


def test_degenerate_answer_is_flagged(page: Page) -> None:
    cols = [
        c
        for c in page.find("div", "answer-col")
        if ancestor(c, "article", "data-id") == "long-001"
        and c["attrs"]["data-strategy"] == "frame"
    ]
    assert cols and "degenerate" in cols[0]["text"]


def test_trap_category_is_distinct(page: Page) -> None:
    trap_rows = page.find("tbody", "trap")
    assert len(trap_rows) == 1 and trap_rows[0]["attrs"]["data-category"] == "trap"
    assert "over-blocking" in trap_rows[0]["text"]
    assert [c["attrs"]["data-category"] for c in page.find("div", "trap")] == ["trap"]
    assert not page.find("tbody", "trap", data_category="everyday")


def test_skipped_strategy_is_listed_not_drawn(summary: dict, gens: list[dict]) -> None:
    skipped = dict(summary, skipped={"lock": "the endpoint cannot apply a logits processor"})
    skipped["rows"] = [r for r in summary["rows"] if r["strategy"] != "lock"]
    page = Page(render_report(skipped, [g for g in gens if g["strategy"] != "lock"]))
    assert page.errors == []
    header = page.find("header")[0]["text"]
    assert "lock: the endpoint cannot apply a logits processor" in header
    chart = page.find("svg", "chart", data_chart="pass_rate")[0]
    assert "skipped" in chart["text"]
    assert {c["attrs"]["data-strategy"] for c in page.find("div", "answer-col")} == {
        "none",
        "frame",
        "frame+lock",
    }


def test_examples_per_category_limits_articles(summary: dict, gens: list[dict]) -> None:
    one = Page(render_report(summary, gens, examples_per_category=1))
    assert len(one.find("article", "example")) == len(CATEGORIES)
    two = Page(render_report(summary, gens, examples_per_category=2))
    assert len(two.find("article", "example")) == 2 + 1 + 1 + 1 + 1  # only everyday has two


def test_write_report_is_atomic(tmp_path: Path, summary: dict, gens: list[dict]) -> None:
    out = tmp_path / "sub" / "report.html"
    assert write_report(str(out), summary, gens) == out
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]
    assert Page(out.read_text(encoding="utf-8")).errors == []
    assert oct(out.stat().st_mode & 0o777) == oct(0o644)


def test_write_report_keeps_the_old_file_when_writing_fails(
    tmp_path: Path, summary: dict, gens: list[dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "report.html"
    out.write_text("old", encoding="utf-8")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_report(out, summary, gens)
    assert out.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]
