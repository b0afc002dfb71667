"""The eval report's building blocks: highlighting finding spans, interval geometry, which
examples are shown."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from langlock.eval.report import (
    highlight,
    interval_geometry,
    pick_examples,
)
from tests.eval.report_data import CATEGORIES, KUBE, SKY, SKY_FINDINGS, kube_findings
from tests.eval.report_html import Page, mark_texts


def test_highlight_marks_exact_code_point_spans_in_cyrillic() -> None:
    assert SKY[63:72] == "milestone" and SKY[82:100] == "Рэлея — и deadline"
    out = highlight(SKY, SKY_FINDINGS)
    assert mark_texts(out) == {0: "milestone", 1: "Рэлея — и deadline", 2: "deadline"}
    # Nested, not split: one element per finding, the minor one inside the wider one.
    assert out.count("<mark") == 3
    assert '<mark class="foreign_word minor" data-f="2"' in out
    assert 'title="clause reads as &lt;mixed&gt; &amp; odd"' in out


def test_highlight_crossing_spans_split_into_well_formed_pieces() -> None:
    findings = kube_findings()
    out = highlight(KUBE, findings)
    assert Page(f"<div>{out}</div>").errors == []
    assert mark_texts(out) == {i: f["text"] for i, f in enumerate(findings)}
    assert 'class="foreign_script cont"' in out  # the crossing span reopens after the outer


def test_highlight_ignores_empty_and_out_of_range_spans() -> None:
    findings = [
        {"kind": "invisible", "start": 2, "end": 2, "message": "empty"},
        {"kind": "foreign_word", "start": 3, "end": 99, "message": "past the end"},
        {"kind": "foreign_word", "start": "x", "end": 1},
    ]
    out = highlight("abc<def>", findings)
    assert mark_texts(out) == {1: "<def>"}
    assert out.startswith("abc<mark") and out.endswith("&lt;def&gt;</mark>")


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(alphabet="aбв <>&\"'\n🌍\u200b", max_size=30),
    raw=st.lists(st.tuples(st.integers(0, 32), st.integers(0, 32)), max_size=6),
)
def test_highlight_any_overlap_round_trips(text: str, raw: list[tuple[int, int]]) -> None:
    findings = [{"kind": "k", "start": s, "end": e, "message": "m"} for s, e in raw]
    out = highlight(text, findings)
    parsed = Page(f"<div>{out}</div>")
    assert parsed.errors == []
    assert parsed.find("div")[0]["text"] == text
    want = {i: text[s:e] for i, (s, e) in enumerate(raw) if min(s, len(text)) < min(e, len(text))}
    assert mark_texts(out) == want


def test_interval_geometry_clamps_and_orders() -> None:
    assert interval_geometry({"value": 0.5, "low": 0.25, "high": 0.75}, 10, 100) == (
        35.0,
        60.0,
        85.0,
    )
    lo, val, hi = interval_geometry({"value": 0.0, "low": -0.2, "high": 1.4}, 0, 50)
    assert (lo, val, hi) == (0.0, 0.0, 50.0)


def test_pick_examples_prefers_disagreement(gens: list[dict]) -> None:
    picks = pick_examples(gens, 1)
    # everyday-001 sample 0 is where "none" fails and the others pass; everyday-002 agrees.
    assert picks["everyday"] == [("everyday-001", 0)]
    assert picks["long_form"] == [("long-001", 0)]
    assert set(picks) == set(CATEGORIES)
    assert all(len(v) <= 1 for v in pick_examples(gens, 1).values())
    assert len(pick_examples(gens, 5)["everyday"]) == 2
