"""The eval report: structure, escaping and highlighting, and a look in headless Chromium."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from langlock.eval import report as report_mod
from langlock.eval.report import (
    highlight,
    interval_geometry,
    pick_examples,
    render_report,
    write_report,
)

STRATEGIES = ["none", "frame", "lock", "frame+lock"]
CATEGORIES = ["everyday", "technical", "english_instruction", "long_form", "trap"]
KIND_NAMES = [
    "foreign_script",
    "foreign_word",
    "wrong_language",
    "mixed_script",
    "translit",
    "mojibake",
    "invisible",
    "special_token",
    "repetition",
]

# A Cyrillic answer with an astral character first: a UTF-16 offset would be one off.
SKY = (
    "🌍 Небо голубое: свет рассеивается на молекулах воздуха.\n"
    "Это не milestone, а закон Рэлея — и deadline тут ни при чём."
)
SKY_FINDINGS = [
    {
        "kind": "foreign_word",
        "severity": "major",
        "start": 63,
        "end": 72,
        "line": 2,
        "text": "milestone",
        "message": "English word in Russian prose",
    },
    # "deadline" lies inside a wider span: the marks nest.
    {
        "kind": "wrong_language",
        "severity": "major",
        "start": 82,
        "end": 100,
        "line": 2,
        "text": "Рэлея — и deadline",
        "message": "clause reads as <mixed> & odd",
    },
    {
        "kind": "foreign_word",
        "severity": "minor",
        "start": 92,
        "end": 100,
        "line": 2,
        "text": "deadline",
        "message": "English word in Russian prose",
    },
]

# Two spans that cross ("kubectl rollout" and "rollout restart") and one nested in both.
KUBE = "Перезапустите под: kubectl rollout restart, затем проверьте логи."
SCRIPT_ANSWER = 'Вот перевод: <script>alert("x")</script> & «до свидания»'
SCRIPT_PROMPT = 'Переведи: "<script>alert(1)</script> & goodbye" <img src=x onerror=alert(1)>'


def find(answer: str, needle: str, kind: str, message: str, severity: str = "major") -> dict:
    """A finding at the first occurrence of ``needle`` (code-point offsets)."""
    start = answer.index(needle)
    return {
        "kind": kind,
        "severity": severity,
        "start": start,
        "end": start + len(needle),
        "line": answer.count("\n", 0, start) + 1,
        "text": needle,
        "message": message,
    }


def kube_findings() -> list[dict]:
    return [
        find(KUBE, "kubectl rollout", "foreign_word", "English words in Russian prose"),
        find(KUBE, "rollout restart", "foreign_script", "Latin run outside code"),
        find(KUBE, "rollout", "translit", "could be transliterated", "minor"),
    ]


PROMPTS = {
    "everyday-001": ("everyday", "Почему небо голубое?"),
    "everyday-002": ("everyday", "Как сварить гречку?"),
    "technical-001": ("technical", "Как перезапустить под?"),
    "english-001": ("english_instruction", SCRIPT_PROMPT),
    "long-001": ("long_form", "Расскажи историю языка."),
    "trap-001": ("trap", "Напиши по-английски: Hello, world"),
}
LONG = "\n\n".join(
    f"Глава {i}. Язык модели остаётся русским, если рамка и замок работают вместе; "
    "иначе в длинном ответе постепенно появляются английские слова."
    for i in range(1, 16)
)
DRIFT = "In summary, the model drifts into English at the end."
LOOP = "Да, да. " * 60


def record(
    pid: str,
    strategy: str,
    sample: int,
    answer: str | None,
    findings: list[dict] | None = None,
    *,
    degenerate: bool = False,
    error: str | None = None,
) -> dict:
    """One eval JSONL record; ``ok`` follows the findings as the checker's verdict does."""
    category, prompt = PROMPTS[pid]
    findings = findings or []
    return {
        "id": pid,
        "category": category,
        "prompt": prompt,
        "strategy": strategy,
        "sample": sample,
        "seed": 17 + sample,
        "answer": answer,
        "ok": None if error else not any(f["severity"] == "major" for f in findings),
        "degenerate": degenerate,
        "findings": findings,
        "tokens": None if error else 40 + len(answer or "") // 4,
        "seconds": 0.4 if error else 1.5 + sample,
        "error": error,
    }


def clean(pid: str, strategy: str, sample: int) -> dict:
    text = f"Ответ на {pid} ({strategy}, выборка {sample}): всё написано по-русски."
    return record(pid, strategy, sample, text)


def answers(strategy: str, sample: int) -> list[dict]:
    """One strategy's answers to every prompt: each category fails in its own way."""
    locked = strategy in ("lock", "frame+lock")
    out = []
    # everyday: the Cyrillic answer with exact offsets fails without a remedy.
    if strategy == "none" and sample == 0:
        out.append(record("everyday-001", strategy, 0, SKY, SKY_FINDINGS))
    else:
        out.append(clean("everyday-001", strategy, sample))
    out.append(clean("everyday-002", strategy, sample))
    # technical: crossing spans unless the lock is on.
    if locked:
        fixed = "Перезапустите под командой из справки и проверьте журнал."
        out.append(record("technical-001", strategy, sample, fixed))
    else:
        out.append(record("technical-001", strategy, sample, KUBE, kube_findings()))
    # english_instruction: HTML-special text in the prompt and, without a remedy, the answer.
    if strategy == "none":
        script = '<script>alert("x")</script>'
        bad = find(SCRIPT_ANSWER, script, "foreign_script", "Latin <script> run & more")
        out.append(record("english-001", strategy, sample, SCRIPT_ANSWER, [bad]))
    else:
        out.append(record("english-001", strategy, sample, "Вот перевод: «до свидания»."))
    # long_form: drifts into English at the end; "frame" loops once instead.
    if strategy == "frame" and sample == 0:
        rep = find(LOOP, LOOP[:80], "repetition", "the same phrase repeats")
        out.append(record("long-001", strategy, 0, LOOP, [rep], degenerate=True))
    elif locked:
        out.append(record("long-001", strategy, sample, LONG))
    else:
        text = f"{LONG}\n{DRIFT}"
        drift = find(text, DRIFT, "wrong_language", "sentence in English")
        out.append(record("long-001", strategy, sample, text, [drift]))
    # trap: English was asked for; the lock over-blocks it, and once errors out.
    if strategy == "lock" and sample == 0:
        error = "TimeoutError: no answer after 60 s <endpoint>"
        out.append(record("trap-001", strategy, 0, None, error=error))
    elif locked:
        over = find("Привет, мир", "Привет, мир", "wrong_language", "the prompt asked for English")
        out.append(record("trap-001", strategy, sample, "Привет, мир", [over]))
    else:
        out.append(record("trap-001", strategy, sample, "Hello, world"))
    return out


def make_generations() -> list[dict]:
    return [g for strategy in STRATEGIES for sample in (0, 1) for g in answers(strategy, sample)]


def interval(value: float, width: float = 0.12) -> dict:
    return {"value": value, "low": max(0.0, value - width), "high": min(1.0, value + width)}


def has_major(rec: dict, kind: str) -> bool:
    return any(f["kind"] == kind and f["severity"] == "major" for f in rec["findings"])


def make_summary(gens: list[dict]) -> dict:
    """Rows computed from the generations, with made-up but plausible intervals."""
    rows = []
    for strategy in STRATEGIES:
        for category in ["all", *CATEGORIES]:
            recs = [
                g
                for g in gens
                if g["strategy"] == strategy
                and (category == "all" or g["category"] == category)
                and g["error"] is None
            ]
            n = len(recs)
            kinds = {k: sum(has_major(g, k) for g in recs) / n for k in KIND_NAMES}
            rows.append(
                {
                    "strategy": strategy,
                    "category": category,
                    "n": n,
                    "pass_rate": interval(sum(g["ok"] for g in recs) / n),
                    "line_pass_rate": interval(min(1.0, 0.2 + sum(g["ok"] for g in recs) / n)),
                    "degenerate_rate": interval(sum(g["degenerate"] for g in recs) / n, 0.05),
                    "empty_rate": 0.0,
                    "lpr": None if category == "trap" else 0.5 + 0.1 * STRATEGIES.index(strategy),
                    "wpr": None if category == "trap" else 0.9,
                    "kinds": kinds,
                    "mean_chars": sum(len(g["answer"]) for g in recs) / n,
                    "tokens_per_second": 31.2 - 2 * STRATEGIES.index(strategy),
                    "mean_seconds": 3.1,
                }
            )
    return {
        "title": "langlock eval <ru>",
        "model": "bundled Gemma 3 270M (Q4_K_M)",
        "backend": "llama.cpp",
        "lang": "ru",
        "preset": "standard",
        "temperature": 0.7,
        "samples": 2,
        "seed": 0,
        "max_tokens": 256,
        "created": "2026-11-29T07:30:00Z",
        "strategies": STRATEGIES,
        "skipped": {},
        "categories": CATEGORIES,
        "rows": rows,
    }


class Page(HTMLParser):
    """Parses a page strictly enough to catch unbalanced tags, and keeps what tests query."""

    VOID = frozenset({"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "wbr"})

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[dict[str, Any]] = []
        self.done: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self.tags: Counter[str] = Counter()
        self.feed(html)
        self.close()
        if self.stack:
            self.errors.append(f"unclosed: {[e['tag'] for e in self.stack]}")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        if tag in self.VOID:
            return
        self.stack.append(
            {
                "tag": tag,
                "attrs": {k: v or "" for k, v in attrs},
                "text": [],
                "ancestors": [e["attrs"] | {"_tag": e["tag"]} for e in self.stack],
            }
        )

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1]["tag"] != tag:
            top = self.stack[-1]["tag"] if self.stack else None
            self.errors.append(f"</{tag}> closes <{top}>")
            return
        entry = self.stack.pop()
        entry["text"] = "".join(entry["text"])
        self.done.append(entry)

    def handle_data(self, data: str) -> None:
        for entry in self.stack:
            entry["text"].append(data)

    def find(self, tag: str, cls: str | None = None, **attrs: str) -> list[dict[str, Any]]:
        return [
            e
            for e in self.done
            if e["tag"] == tag
            and (cls is None or cls in e["attrs"].get("class", "").split())
            and all(e["attrs"].get(k.replace("_", "-")) == v for k, v in attrs.items())
        ]


def ancestor(entry: dict[str, Any], tag: str, attr: str) -> str | None:
    for a in reversed(entry["ancestors"]):
        if a["_tag"] == tag and attr in a:
            return a[attr]
    return None


def section_of(entry: dict[str, Any]) -> str | None:
    return ancestor(entry, "section", "id")


@pytest.fixture(scope="module")
def gens() -> list[dict]:
    return make_generations()


@pytest.fixture(scope="module")
def summary(gens: list[dict]) -> dict:
    return make_summary(gens)


@pytest.fixture(scope="module")
def html(summary: dict, gens: list[dict]) -> str:
    return render_report(summary, iter(gens))  # an iterator: the report must read it once


@pytest.fixture(scope="module")
def page(html: str) -> Page:
    return Page(html)


# ----------------------------------------------------------------------------- helpers


def mark_texts(fragment: str) -> dict[int, str]:
    """Each finding's mark pieces joined in document order (a crossing span has several)."""
    pieces: dict[int, list[str]] = {}
    for f, text in StartOrder(f"<div>{fragment}</div>").marks:
        pieces.setdefault(f, []).append(text)
    return {f: "".join(p) for f, p in pieces.items()}


class StartOrder(HTMLParser):
    """Mark pieces in the order they open, each with the text it encloses."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[tuple[int, list[str]] | None] = []
        self.pieces: list[tuple[int, list[str]]] = []
        self.feed(html)
        self.close()
        self.marks = [(f, "".join(t)) for f, t in self.pieces]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "mark":
            piece = (int(dict(attrs)["data-f"] or 0), [])
            self.pieces.append(piece)
            self.open.append(piece)
        else:
            self.open.append(None)

    def handle_endtag(self, tag: str) -> None:
        self.open.pop()

    def handle_data(self, data: str) -> None:
        for piece in self.open:
            if piece is not None:
                piece[1].append(data)


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
    assert report_mod.interval_text(none_all["pass_rate"]) in chart["text"]
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

    monkeypatch.setattr(report_mod.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_report(out, summary, gens)
    assert out.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


# ----------------------------------------------------------------------------- Chromium


def chromium() -> str:
    path = "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None
    path = path or shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install -y chromium)")
    return path


def chromium_args(binary: str, profile: Path) -> list[str]:
    return [
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
    ]


def screenshot(html_path: Path, png: Path, height: int = 2400, timeout: float = 90) -> None:
    """Render ``html_path`` at 1280 px wide into ``png`` (the viewport, not the full page)."""
    binary = chromium()
    args = chromium_args(binary, png.parent / "profile-shot")
    args += [f"--screenshot={png}", f"--window-size=1280,{height}", html_path.as_uri()]
    subprocess.run(args, check=True, capture_output=True, timeout=timeout)


@pytest.mark.slow
def test_report_renders_in_headless_chromium(
    tmp_path: Path, summary: dict, gens: list[dict]
) -> None:
    binary = chromium()
    html_path = write_report(tmp_path / "report.html", summary, gens)
    png = tmp_path / "report.png"
    screenshot(html_path, png)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1280, 2400)
    assert len(data) > 20_000, f"screenshot is only {len(data)} bytes: a blank page?"

    args = [*chromium_args(binary, tmp_path / "profile-dom"), "--dump-dom", html_path.as_uri()]
    done = subprocess.run(args, check=True, capture_output=True, timeout=90)
    dom = Page(done.stdout.decode("utf-8"))
    charts = {e["attrs"].get("data-chart") for e in dom.find("svg", "chart")}
    assert charts == {"pass_rate", "degenerate_rate", "kinds"}
    assert dom.tags["circle"] >= 2 * len(STRATEGIES) and dom.tags["rect"] > 20
    assert dom.tags["script"] == 0
    assert len(dom.find("article", "example")) == 6
