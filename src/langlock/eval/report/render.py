"""What the report page shows, as plain data for ``report.html.j2``: header fields, chart
SVG, table rows and the side-by-side examples, with findings highlighted in the answers.

Values are plain text (the template escapes them) except the SVG charts and highlighted
answers, which are built here and marked safe: every data-defined text in them is escaped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

from markupsafe import Markup

from langlock.eval.formatting import clip, interval_text, num, pct
from langlock.eval.report.charts import (
    blend,
    interval_chart,
    kind_colors,
    kinds_heatmap,
    palette,
    spark,
)
from langlock.text.findings import KINDS

__all__ = ["css_class", "highlight", "page_context", "pick_examples", "spell_out"]

# The trap category asks for foreign text on purpose: passing there means it was allowed.
TRAP = "trap"

Row = Mapping[str, Any]


def spell_out(s: str) -> str:
    """Finding text with invisible and control characters spelled out, for the findings list.

    >>> spell_out("a\\u200bb\\n")
    'a\\\\u200bb\\\\n'
    """
    out = []
    for ch in s:
        if ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif not ch.isprintable() or ch in "\u00ad\u200b\u200c\u200d\u2060\ufeff":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def css_class(name: str) -> str:
    """A safe class token for a data-defined name (kinds, categories).

    >>> css_class("foreign_word"), css_class("frame+lock"), css_class('x" onload="y')
    ('foreign_word', 'frame-lock', 'x--onload--y')
    """
    return re.sub(r"[^A-Za-z0-9_-]", "-", name) or "-"


def _unescaped(text: str) -> Markup:
    """A share as the page always wrote it in table cells: not escaped (``<1%`` stays as it
    is; HTML reads ``<`` before a digit as text)."""
    return Markup(text)


# --------------------------------------------------------------------------- highlighting


def _mark_open(i: int, f: Mapping[str, Any], cont: bool) -> str:
    kind = str(f.get("kind", "finding"))
    classes = [css_class(kind)]
    if f.get("severity") == "minor":
        classes.append("minor")
    if cont:
        classes.append("cont")
    title = str(f.get("message") or kind)
    return f'<mark class="{" ".join(classes)}" data-f="{i}" title="{escape(title)}">'


def highlight(text: str, findings: Sequence[Mapping[str, Any]]) -> str:
    """Escaped ``text`` with each finding wrapped in ``<mark>``, safe for any overlap.

    Nested spans nest. When two spans cross, the inner one is closed at the outer one's end
    and reopened after it (class ``cont``, same ``data-f``), so the HTML stays well formed
    and the pieces of one finding still join to exactly its text. Offsets are code points.

    >>> highlight("a <b> c", [{"kind": "foreign_word", "start": 2, "end": 5, "message": "x"}])
    'a <mark class="foreign_word" data-f="0" title="x">&lt;b&gt;</mark> c'
    >>> import re
    >>> crossed = highlight("abcd", [{"kind": "k", "start": 0, "end": 3},
    ...                              {"kind": "k", "start": 1, "end": 4}])
    >>> re.sub(r' class="[^"]*" data-f="(\\d)" title="k"', r"\\1", crossed)
    '<mark0>a<mark1>bc</mark></mark><mark1>d</mark>'
    """
    n = len(text)
    spans: list[tuple[int, int, int]] = []
    for i, f in enumerate(findings):
        try:
            start = min(max(int(f.get("start", 0)), 0), n)
            end = min(max(int(f.get("end", 0)), 0), n)
        except (TypeError, ValueError):
            continue
        if start < end:  # a zero-width finding has nothing to mark; it is still listed
            spans.append((start, end, i))
    bounds = sorted({0, n, *(s for s, _, _ in spans), *(e for _, e, _ in spans)})
    # Longer spans open first at a shared start, so they become the outer element.
    starting: dict[int, list[tuple[int, int, int]]] = {}
    for span in sorted(spans, key=lambda s: (s[0], -s[1], s[2])):
        starting.setdefault(span[0], []).append(span)

    out: list[str] = []
    stack: list[tuple[int, int, int]] = []
    for pos, nxt in zip(bounds, [*bounds[1:], None], strict=True):
        if any(end == pos for _, end, _ in stack):
            # Close down to the deepest span that ends here, then reopen the survivors.
            depth = min(k for k, (_, end, _) in enumerate(stack) if end == pos)
            survivors = [s for s in stack[depth:] if s[1] != pos]
            out.append("</mark>" * (len(stack) - depth))
            del stack[depth:]
            for s in survivors:
                out.append(_mark_open(s[2], findings[s[2]], cont=True))
                stack.append(s)
        for s in starting.get(pos, []):
            out.append(_mark_open(s[2], findings[s[2]], cont=False))
            stack.append(s)
        if nxt is not None:
            out.append(escape(text[pos:nxt]))
    out.append("</mark>" * len(stack))
    return "".join(out)


# --------------------------------------------------------------------------- examples


def _verdict(rec: Mapping[str, Any]) -> bool | None:
    """True/False for a scored answer, None for an error record."""
    if rec.get("error") is not None:
        return None
    return bool(rec.get("ok"))


def pick_examples(
    generations: Iterable[Mapping[str, Any]], k: int
) -> dict[str, list[tuple[str, int]]]:
    """Up to ``k`` ``(prompt id, sample)`` pairs per category, the most telling first.

    A prompt where strategies disagree (some pass, some fail) shows what a remedy changes,
    so it comes before one where all agree; then prompts answered by more strategies; then
    the order of the prompt set. Within a prompt the first disagreeing sample is used.

    >>> gens = [
    ...     {"id": "a", "category": "c", "strategy": "none", "sample": 0, "ok": True},
    ...     {"id": "a", "category": "c", "strategy": "lock", "sample": 0, "ok": True},
    ...     {"id": "b", "category": "c", "strategy": "none", "sample": 0, "ok": True},
    ...     {"id": "b", "category": "c", "strategy": "lock", "sample": 0, "ok": True},
    ...     {"id": "b", "category": "c", "strategy": "none", "sample": 1, "ok": False},
    ...     {"id": "b", "category": "c", "strategy": "lock", "sample": 1, "ok": True},
    ... ]
    >>> pick_examples(gens, 1)
    {'c': [('b', 1)]}
    """
    # (category, id) -> sample -> verdicts; dicts keep the prompt set's order.
    seen: dict[tuple[str, str], dict[int, list[bool | None]]] = {}
    for rec in generations:
        key = (str(rec.get("category", "")), str(rec.get("id", "")))
        seen.setdefault(key, {}).setdefault(int(rec.get("sample") or 0), []).append(_verdict(rec))

    ranked: dict[str, list[tuple[tuple[int, int, int], str, int]]] = {}
    for order, ((cat, pid), samples) in enumerate(seen.items()):

        def score(sample: int, verdicts: list[bool | None]) -> tuple[int, int]:
            scored = {v for v in verdicts if v is not None}
            return (0 if len(scored) == 2 else 1, -len(verdicts))

        sample = min(samples, key=lambda s: (score(s, samples[s]), s))
        disagree, width = score(sample, samples[sample])
        ranked.setdefault(cat, []).append(((disagree, width, order), pid, sample))
    return {
        cat: [(pid, sample) for _, pid, sample in sorted(items)[:k]]
        for cat, items in ranked.items()
    }


# --------------------------------------------------------------------------- page data


def _strategies(summary: Mapping[str, Any], generations: Sequence[Row]) -> list[str]:
    """The summary's order, then any strategy that only the data names."""
    names = [str(s) for s in summary.get("strategies") or []]
    for row in summary.get("rows") or []:
        if str(row.get("strategy")) not in names:
            names.append(str(row.get("strategy")))
    for rec in generations:
        if str(rec.get("strategy")) not in names:
            names.append(str(rec.get("strategy")))
    return names


def _categories(summary: Mapping[str, Any], generations: Sequence[Row]) -> list[str]:
    names = [str(c) for c in summary.get("categories") or []]
    for source in (summary.get("rows") or [], generations):
        for item in source:
            cat = str(item.get("category"))
            if cat != "all" and cat not in names:
                names.append(cat)
    return names


def _meta(summary: Mapping[str, Any], generations: Sequence[Row]) -> list[tuple[str, str]]:
    """The header's ``(name, value)`` pairs; missing values are left out."""
    fields = [
        ("model", summary.get("model")),
        ("backend", summary.get("backend")),
        ("language", summary.get("lang")),
        ("preset", summary.get("preset")),
        ("temperature", summary.get("temperature")),
        ("samples", summary.get("samples")),
        ("seed", summary.get("seed")),
        ("max tokens", summary.get("max_tokens")),
        ("repeat penalty", summary.get("repeat_penalty")),
        ("lock preset", summary.get("lock_preset")),
        ("created", summary.get("created")),
        ("answers", len(generations)),
    ]
    errors = sum(1 for g in generations if g.get("error") is not None)
    if errors:
        fields.append(("errors", errors))
    return [(k, str(v)) for k, v in fields if v is not None]


def _pass_charts(
    strategies: Sequence[str], rows: Mapping[tuple[str, str], Row], skipped: Mapping[str, str]
) -> tuple[Markup, Markup]:
    """The pass-rate and degenerate-rate charts (over all categories)."""
    pass_rows, junk_rows = [], []
    for s in strategies:
        row = rows.get((s, "all"))
        if row is None:
            note = "skipped" if s in skipped else "no data"
            pass_rows.append((s, None, note))
            junk_rows.append((s, None, note))
            continue
        pass_rows.append((s, row.get("pass_rate"), f"n={row.get('n', '?')}"))
        empty = row.get("empty_rate")
        junk_rows.append((s, row.get("degenerate_rate"), f"empty {pct(empty)}" if empty else ""))
    passed = interval_chart("pass_rate", "Pass rate per strategy", pass_rows, palette("blue"))
    junk = interval_chart(
        "degenerate_rate", "Degenerate rate per strategy", junk_rows, palette("vermillion")
    )
    return Markup(passed), Markup(junk)


def _kinds_heatmap(strategies: Sequence[str], rows: Mapping[tuple[str, str], Row]) -> Markup:
    """The strategy × kind heat map, or nothing when no kind is reported."""
    shares = {
        s: {str(k): float(v or 0.0) for k, v in (rows[(s, "all")].get("kinds") or {}).items()}
        for s in strategies
        if (s, "all") in rows
    }
    present = {k for row in shares.values() for k in row}
    kinds = [k for k in KINDS if k in present] + sorted(present - set(KINDS))
    return Markup(kinds_heatmap(strategies, kinds, shares)) if kinds else Markup("")


def _score_cells(row: Row, is_best: bool) -> dict[str, Any]:
    pr = row.get("pass_rate") or {}
    return {
        "n": str(row.get("n", "—")),
        "best": is_best,
        "pass_rate": interval_text(pr),
        "spark": Markup(spark(pr)),
        "line_pass_rate": interval_text(row.get("line_pass_rate")),
        "lpr": _unescaped(pct(row.get("lpr"))),
        "wpr": _unescaped(pct(row.get("wpr"))),
        "degenerate_rate": interval_text(row.get("degenerate_rate")),
        "empty_rate": _unescaped(pct(row.get("empty_rate"))),
        "mean_chars": num(row.get("mean_chars"), 0),
        "tokens_per_second": num(row.get("tokens_per_second")),
        "mean_seconds": num(row.get("mean_seconds")),
        "mean_attempts": num(row.get("mean_attempts")),
        "mean_added_seconds": num(row.get("mean_added_seconds")),
    }


def _table(
    strategies: Sequence[str],
    categories: Sequence[str],
    rows: Mapping[tuple[str, str], Row],
    skipped: Mapping[str, str],
) -> list[dict[str, Any]]:
    """One group per category ("all" first), each with its strategies' rows; a skipped
    strategy shows its reason in the "all" group."""
    groups = []
    for cat in ["all", *categories]:
        present = [s for s in strategies if (s, cat) in rows]
        if cat == "all":
            present = [s for s in strategies if (s, cat) in rows or s in skipped]
        if not present:
            continue
        best = max(
            (
                float((rows[(s, cat)].get("pass_rate") or {}).get("value") or 0)
                for s in present
                if (s, cat) in rows
            ),
            default=None,
        )
        lines = []
        for s in present:
            row = rows.get((s, cat))
            if row is None:
                lines.append({"strategy": s, "skipped": str(skipped[s])})
                continue
            value = (row.get("pass_rate") or {}).get("value")
            is_best = best is not None and len(present) > 1 and value == best
            lines.append({"strategy": s, "skipped": None, **_score_cells(row, is_best)})
        trap = cat == TRAP
        groups.append(
            {
                "category": cat,
                "cls": "trap" if trap else ("all" if cat == "all" else ""),
                "trap": trap,
                "rows": lines,
            }
        )
    return groups


def _badges(rec: Row | None) -> list[tuple[str, str]]:
    """``(class, text)`` of the badges of one answer."""
    if rec is None:
        return [("none", "no answer")]
    verdict = _verdict(rec)
    if verdict is None:
        badges = [("error", "! error")]
    elif verdict:
        badges = [("pass", "✓ pass")]
    else:
        badges = [("fail", "✗ fail")]
    if rec.get("degenerate"):
        badges.append(("junk", "degenerate"))
    return badges


def _finding_items(findings: Sequence[Row]) -> list[dict[str, str]]:
    items = []
    for f in findings:
        kind = str(f.get("kind", "finding"))
        severity = str(f.get("severity", "major"))
        items.append(
            {
                "kind": kind,
                "kind_class": css_class(kind),
                "severity": severity,
                "severity_class": css_class(severity),
                "line": str(f.get("line", "?")),
                "text": clip(spell_out(str(f.get("text", "")))),
                "message": str(f.get("message", "")),
            }
        )
    return items


def _answer_cell(strategy: str, rec: Row | None) -> dict[str, Any]:
    cell: dict[str, Any] = {"strategy": strategy, "badges": _badges(rec), "record": rec}
    if rec is None:
        return cell
    stats = []
    if rec.get("tokens") is not None:
        stats.append(f"{rec['tokens']} tok")
    if rec.get("seconds") is not None:
        stats.append(f"{num(rec['seconds'])} s")
    if rec.get("seed") is not None:
        stats.append(f"seed {rec['seed']}")
    cell["stats"] = " · ".join(stats)
    cell["error"] = None if rec.get("error") is None else str(rec["error"])
    findings = list(rec.get("findings") or [])
    answer = str(rec.get("answer") or "")
    cell["answer"] = Markup(highlight(answer, findings)) if answer else None
    cell["findings"] = _finding_items(findings)
    return cell


def _examples(
    strategies: Sequence[str], categories: Sequence[str], generations: Sequence[Row], k: int
) -> tuple[list[str], list[dict[str, Any]]]:
    """The strategies shown as columns, and per category the chosen prompts' answers."""
    index: dict[tuple[str, int, str], Row] = {}
    for rec in generations:
        key = (str(rec.get("id", "")), int(rec.get("sample") or 0), str(rec.get("strategy")))
        index.setdefault(key, rec)
    columns = [s for s in strategies if any(key[2] == s for key in index)]
    picks = pick_examples(generations, k)
    groups = []
    for cat in categories:
        chosen = picks.get(cat, [])
        if not chosen:
            continue
        examples = []
        for pid, sample in chosen:
            recs = {s: index.get((pid, sample, s)) for s in columns}
            prompt = next((str(r.get("prompt", "")) for r in recs.values() if r), "")
            cells = [_answer_cell(s, recs[s]) for s in columns]
            examples.append({"id": pid, "sample": sample, "prompt": prompt, "cells": cells})
        groups.append({"category": cat, "trap": cat == TRAP, "examples": examples})
    return columns, groups


def _kind_styles() -> list[dict[str, str]]:
    """Mark and chip colours per kind: a light fill and the kind's own colour."""
    return [
        {"cls": css_class(kind), "fill": blend(color, "#ffffff", 0.72), "color": color}
        for kind, color in kind_colors().items()
    ]


def page_context(
    summary: Mapping[str, Any], generations: Iterable[Row], examples_per_category: int = 2
) -> dict[str, Any]:
    """Everything ``report.html.j2`` shows.

    >>> ctx = page_context({"title": "t", "strategies": ["none"], "rows": []}, [])
    >>> ctx["title"], ctx["meta"], ctx["table"], ctx["example_groups"]
    ('t', [('answers', '0')], [], [])
    """
    gens = list(generations)
    strategies = _strategies(summary, gens)
    categories = _categories(summary, gens)
    rows = {(str(r.get("strategy")), str(r.get("category"))): r for r in summary.get("rows") or []}
    skipped = {str(s): str(why) for s, why in (summary.get("skipped") or {}).items()}
    pass_chart, degenerate_chart = _pass_charts(strategies, rows, skipped)
    columns, example_groups = _examples(strategies, categories, gens, examples_per_category)
    return {
        "title": str(summary.get("title") or "langlock eval"),
        "meta": _meta(summary, gens),
        "skipped": skipped,
        "pass_chart": pass_chart,
        "degenerate_chart": degenerate_chart,
        "kinds_heatmap": _kinds_heatmap(strategies, rows),
        "table": _table(strategies, categories, rows, skipped),
        "legend": [(css_class(kind), kind.replace("_", " ")) for kind in KINDS],
        "columns": max(len(columns), 1),
        "example_groups": example_groups,
        "kind_styles": _kind_styles(),
    }
