"""The eval report: one self-contained HTML page with inline SVG charts.

The page has no scripts, fonts or links to fetch, so it opens the same from a CI artifact,
an e-mail attachment or a laptop without network. Everything comes from two inputs the eval
produces: ``summary`` (scores per strategy and category, with bootstrap intervals) and the
``generations`` (one record per answer, with the checker's findings).

>>> page = render_report({"title": "t", "strategies": ["none"], "rows": []}, [])
>>> page.startswith("<!DOCTYPE html>") and "</html>" in page
True
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

from langlock.text.findings import KINDS

__all__ = [
    "highlight",
    "interval_geometry",
    "pick_examples",
    "render_report",
    "write_report",
]

# Okabe–Ito: distinguishable under the common colour-vision deficiencies.
BLUE = "#0072B2"
VERMILLION = "#D55E00"
ORANGE = "#E69F00"
SKY = "#56B4E9"
GREEN = "#009E73"
YELLOW = "#F0E442"
PURPLE = "#CC79A7"
GREY = "#7F7F7F"
INK = "#1F2328"

KIND_COLORS: dict[str, str] = {
    "foreign_script": VERMILLION,
    "foreign_word": ORANGE,
    "wrong_language": PURPLE,
    "translit": SKY,
    "mixed_script": BLUE,
    "mojibake": GREEN,
    "invisible": YELLOW,
    "special_token": INK,
    "repetition": GREY,
}

# The trap category asks for foreign text on purpose: passing there means it was allowed.
TRAP = "trap"


# --------------------------------------------------------------------------- formatting


def pct(x: float | None, digits: int = 0) -> str:
    """A share as a percentage; tiny non-zero shares do not round down to a false 0%.

    >>> pct(0.4237), pct(0.4237, 1), pct(0.002), pct(0.0), pct(None)
    ('42%', '42.4%', '<1%', '0%', '—')
    """
    if x is None:
        return "—"
    if 0 < x < 0.005 and digits == 0:
        return "<1%"
    return f"{x * 100:.{digits}f}%"


def num(x: float | int | None, digits: int = 1) -> str:
    """A number for a table cell, or a dash when it is missing.

    >>> num(412.345), num(3, 0), num(None)
    ('412.3', '3', '—')
    """
    if x is None:
        return "—"
    return f"{x:.{digits}f}"


def interval_text(iv: Mapping[str, Any] | None) -> str:
    """A rate with its 95% interval, as written next to charts and in the table.

    >>> interval_text({"value": 0.42, "low": 0.3, "high": 0.55})
    '42% [30–55]'
    >>> interval_text({"value": 0.5}), interval_text(None)
    ('50%', '—')
    """
    if not iv or iv.get("value") is None:
        return "—"
    low, high = iv.get("low"), iv.get("high")
    if low is None or high is None:
        return pct(iv["value"])
    return f"{pct(iv['value'])} [{pct(low)[:-1]}–{pct(high)[:-1]}]"


def visible(s: str) -> str:
    """Finding text with invisible and control characters spelled out, for the findings list.

    >>> visible("a\\u200bb\\n")
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


def clip(s: str, limit: int = 60) -> str:
    """At most ``limit`` characters, with an ellipsis when cut (a long repetition span).

    >>> clip("abcdef", 4), clip("abc", 4)
    ('abc…', 'abc')
    """
    return s if len(s) <= limit else s[: limit - 1] + "…"


def css_class(name: str) -> str:
    """A safe class token for a data-defined name (kinds, categories).

    >>> css_class("foreign_word"), css_class("frame+lock"), css_class('x" onload="y')
    ('foreign_word', 'frame-lock', 'x--onload--y')
    """
    return re.sub(r"[^A-Za-z0-9_-]", "-", name) or "-"


def blend(c1: str, c2: str, t: float) -> str:
    """Mix two ``#rrggbb`` colours: ``t=0`` gives ``c1``, ``t=1`` gives ``c2``.

    >>> blend("#000000", "#ffffff", 0.5), blend("#0072B2", "#ffffff", 0.0)
    ('#808080', '#0072b2')
    """
    t = min(max(t, 0.0), 1.0)
    a = [int(c1[i : i + 2], 16) for i in (1, 3, 5)]
    b = [int(c2[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(a, b, strict=True))


def nice_ceiling(x: float) -> float:
    """The top of a colour scale: the smallest of a few round shares at or above ``x``.

    A fixed 0–100% scale would leave typical shares (a few percent) nearly white.

    >>> nice_ceiling(0.0), nice_ceiling(0.07), nice_ceiling(0.31), nice_ceiling(0.9)
    (0.1, 0.1, 0.5, 1.0)
    """
    for top in (0.1, 0.2, 0.25, 0.5, 1.0):
        if x <= top + 1e-9:
            return top
    return 1.0


def heat_color(share: float, top: float) -> tuple[str, str]:
    """Fill and text colour of a heat-map cell (sequential blues, dark text on light cells).

    >>> heat_color(0.0, 0.2), heat_color(0.2, 0.2)
    (('#f4f8fb', '#1f2328'), ('#08306b', '#ffffff'))
    """
    t = share / top if top > 0 else 0.0
    fill = blend("#f4f8fb", "#08306b", t)
    return fill, ("#ffffff" if t > 0.5 else "#1f2328")


# --------------------------------------------------------------------------- geometry


def interval_geometry(iv: Mapping[str, Any], x0: float, width: float) -> tuple[float, float, float]:
    """Pixel positions ``(low, value, high)`` of a 0–1 interval on an axis at ``x0``.

    Bounds fall back to the value when missing, and everything is clamped to the axis, so a
    bootstrap interval that spills past 0 or 1 still draws inside the chart.

    >>> interval_geometry({"value": 0.42, "low": 0.3, "high": 0.55}, x0=100, width=200)
    (160.0, 184.0, 210.0)
    >>> interval_geometry({"value": 1.2, "low": -0.1, "high": None}, x0=0, width=100)
    (0.0, 100.0, 100.0)
    """

    def x(v: float) -> float:
        return round(x0 + min(max(v, 0.0), 1.0) * width, 1)

    value = float(iv.get("value") or 0.0)
    low = iv.get("low")
    high = iv.get("high")
    return (
        x(value if low is None else float(low)),
        x(value),
        x(value if high is None else float(high)),
    )


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


# --------------------------------------------------------------------------- charts


def _svg_open(name: str, width: int, height: int, label: str) -> str:
    return (
        f'<svg class="chart" data-chart="{name}" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(label)}"><title>{escape(label)}</title>'
    )


def interval_chart(
    name: str,
    label: str,
    rows: Sequence[tuple[str, Mapping[str, Any] | None, str]],
    color: str,
) -> str:
    """A dot-and-whisker chart on a 0–100% axis: one row per ``(label, interval, note)``.

    A row without an interval (a skipped strategy) shows its note instead of a mark.

    >>> svg = interval_chart("x", "Pass", [("none", {"value": 0.5}, "n=2")], "#0072B2")
    >>> svg.count("<circle"), 'data-chart="x"' in svg
    (1, True)
    """
    left, plot, row_h, top = 104, 300, 32, 10
    width = left + plot + 176
    height = top + row_h * len(rows) + 34
    out = [_svg_open(name, width, height, label)]
    axis_y = top + row_h * len(rows)
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        x = left + tick * plot
        out.append(
            f'<line class="grid" x1="{x:g}" y1="{top - 4}" x2="{x:g}" y2="{axis_y}"/>'
            f'<text class="tick" x="{x:g}" y="{axis_y + 16}" text-anchor="middle">'
            f"{tick * 100:.0f}%</text>"
        )
    out.append(f'<line class="axis" x1="{left}" y1="{axis_y}" x2="{left + plot}" y2="{axis_y}"/>')
    for i, (row_label, iv, note) in enumerate(rows):
        y = top + row_h * i + row_h / 2
        out.append(
            f'<text class="label" x="{left - 10}" y="{y + 4:g}" text-anchor="end">'
            f"{escape(row_label)}</text>"
        )
        if not iv or iv.get("value") is None:
            out.append(
                f'<text class="note" x="{left + 6}" y="{y + 4:g}">{escape(note or "no data")}'
                "</text>"
            )
            continue
        lo, val, hi = interval_geometry(iv, left, plot)
        out.append(
            f'<rect x="{left}" y="{y - 7:g}" width="{val - left:.1f}" height="14" rx="2" '
            f'fill="{color}" fill-opacity="0.18"/>'
            f'<line x1="{lo}" y1="{y:g}" x2="{hi}" y2="{y:g}" stroke="{color}" '
            'stroke-width="2"/>'
            f'<line x1="{lo}" y1="{y - 6:g}" x2="{lo}" y2="{y + 6:g}" stroke="{color}" '
            'stroke-width="2"/>'
            f'<line x1="{hi}" y1="{y - 6:g}" x2="{hi}" y2="{y + 6:g}" stroke="{color}" '
            'stroke-width="2"/>'
            f'<circle cx="{val}" cy="{y:g}" r="5.5" fill="{color}" stroke="#fff" '
            'stroke-width="1.5"/>'
            f'<text class="value" x="{left + plot + 12}" y="{y + 4:g}">'
            f"<tspan>{escape(interval_text(iv))}</tspan>"
            f'<tspan class="note" dx="6">{escape(note)}</tspan></text>'
        )
    out.append("</svg>")
    return "".join(out)


def spark(iv: Mapping[str, Any] | None, color: str = BLUE) -> str:
    """A small interval bar for a table cell (not a chart: it carries class ``spark``).

    >>> spark({"value": 0.5, "low": 0.4, "high": 0.6}).startswith('<svg class="spark"')
    True
    >>> spark(None)
    ''
    """
    if not iv or iv.get("value") is None:
        return ""
    w, h, pad = 80, 14, 3
    lo, val, hi = interval_geometry(iv, pad, w - 2 * pad)
    return (
        f'<svg class="spark" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" '
        f'width="{w}" height="{h}" aria-hidden="true">'
        f'<line x1="{pad}" y1="7" x2="{w - pad}" y2="7" stroke="#d0d7de" stroke-width="2"/>'
        f'<line x1="{lo}" y1="7" x2="{hi}" y2="7" stroke="{color}" stroke-width="4" '
        'stroke-opacity="0.45"/>'
        f'<circle cx="{val}" cy="7" r="3.5" fill="{color}"/></svg>'
    )


def kinds_heatmap(
    strategies: Sequence[str], kinds: Sequence[str], shares: Mapping[str, Mapping[str, float]]
) -> str:
    """A strategy × kind heat map of finding shares, with its colour legend.

    >>> svg = kinds_heatmap(["none"], ["foreign_word"], {"none": {"foreign_word": 0.2}})
    >>> svg.count('class="cell"'), "20%" in svg
    (1, True)
    """
    left, col_w, row_h, head = 112, 110, 30, 30
    width = left + col_w * max(len(kinds), 1) + 8
    grid_h = head + row_h * len(strategies)
    height = grid_h + 54
    top = nice_ceiling(max([v for s in shares.values() for v in s.values()] or [0.0]))
    out = [_svg_open("kinds", width, height, "Share of answers with each kind of finding")]
    out.append(
        '<defs><linearGradient id="heat-scale" x1="0" x2="1" y1="0" y2="0">'
        f'<stop offset="0" stop-color="{heat_color(0, 1)[0]}"/>'
        f'<stop offset="1" stop-color="{heat_color(1, 1)[0]}"/></linearGradient></defs>'
    )
    for j, kind in enumerate(kinds):
        x = left + col_w * j + col_w / 2
        swatch = KIND_COLORS.get(kind, GREY)
        out.append(
            f'<rect x="{x - col_w / 2 + 6:g}" y="{head - 6}" width="{col_w - 12}" height="3" '
            f'fill="{swatch}"/>'
            f'<text class="colhead" x="{x:g}" y="{head - 12}" text-anchor="middle">'
            f"{escape(kind.replace('_', ' '))}</text>"
        )
    for i, strategy in enumerate(strategies):
        y = head + row_h * i
        out.append(
            f'<text class="label" x="{left - 10}" y="{y + row_h / 2 + 4:g}" '
            f'text-anchor="end">{escape(strategy)}</text>'
        )
        row = shares.get(strategy)
        for j, kind in enumerate(kinds):
            x = left + col_w * j
            if row is None:
                out.append(
                    f'<rect class="cell missing" x="{x + 1}" y="{y + 1}" width="{col_w - 2}" '
                    f'height="{row_h - 2}"/>'
                    f'<text class="cellnote" x="{x + col_w / 2:g}" y="{y + row_h / 2 + 4:g}" '
                    'text-anchor="middle">—</text>'
                )
                continue
            share = float(row.get(kind) or 0.0)
            fill, ink = heat_color(share, top)
            out.append(
                f'<rect class="cell" x="{x + 1}" y="{y + 1}" width="{col_w - 2}" '
                f'height="{row_h - 2}" fill="{fill}"><title>{escape(strategy)} · '
                f"{escape(kind)}: {pct(share, 1)}</title></rect>"
                f'<text class="cellvalue" x="{x + col_w / 2:g}" y="{y + row_h / 2 + 4:g}" '
                f'text-anchor="middle" fill="{ink}">{pct(share)}</text>'
            )
    ly = grid_h + 18
    skipped_note = " (— = strategy skipped)" if any(s not in shares for s in strategies) else ""
    out.append(
        f'<text class="note" x="{left - 10}" y="{ly + 10}" text-anchor="end">scale</text>'
        f'<rect x="{left}" y="{ly}" width="220" height="12" fill="url(#heat-scale)" '
        'stroke="#d0d7de"/>'
        f'<text class="tick" x="{left}" y="{ly + 26}" text-anchor="start">0%</text>'
        f'<text class="tick" x="{left + 220}" y="{ly + 26}" text-anchor="end">'
        f"{pct(top)}</text>"
        f'<text class="note" x="{left + 236}" y="{ly + 10}">share of answers with a major '
        f"finding of that kind{skipped_note}</text>"
    )
    out.append("</svg>")
    return "".join(out)


# --------------------------------------------------------------------------- sections


def _strategies(summary: Mapping[str, Any], generations: Sequence[Mapping[str, Any]]) -> list[str]:
    """The summary's order, then any strategy that only the data names."""
    names = [str(s) for s in summary.get("strategies") or []]
    for row in summary.get("rows") or []:
        if str(row.get("strategy")) not in names:
            names.append(str(row.get("strategy")))
    for rec in generations:
        if str(rec.get("strategy")) not in names:
            names.append(str(rec.get("strategy")))
    return names


def _categories(summary: Mapping[str, Any], generations: Sequence[Mapping[str, Any]]) -> list[str]:
    names = [str(c) for c in summary.get("categories") or []]
    for source in (summary.get("rows") or [], generations):
        for item in source:
            cat = str(item.get("category"))
            if cat != "all" and cat not in names:
                names.append(cat)
    return names


def _header(summary: Mapping[str, Any], generations: Sequence[Mapping[str, Any]]) -> str:
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
    meta = "".join(
        f"<div><dt>{escape(k)}</dt><dd>{escape(str(v))}</dd></div>"
        for k, v in fields
        if v is not None
    )
    skipped = summary.get("skipped") or {}
    skipped_html = ""
    if skipped:
        items = "".join(
            f"<li><b>{escape(str(s))}</b>: {escape(str(why))}</li>" for s, why in skipped.items()
        )
        skipped_html = f'<div class="skipped"><h2>Skipped strategies</h2><ul>{items}</ul></div>'
    title = escape(str(summary.get("title") or "langlock eval"))
    return (
        f'<header id="header"><h1>{title}</h1><dl class="meta">{meta}</dl>{skipped_html}'
        "<nav><a href='#pass-rate'>Pass rate</a><a href='#kinds'>Kinds</a>"
        "<a href='#table'>Table</a><a href='#examples'>Examples</a></nav></header>"
    )


def _rows_by(summary: Mapping[str, Any]) -> dict[tuple[str, str], Mapping[str, Any]]:
    return {(str(r.get("strategy")), str(r.get("category"))): r for r in summary.get("rows") or []}


def _pass_section(
    strategies: Sequence[str], rows: Mapping[tuple[str, str], Mapping[str, Any]], skipped: dict
) -> str:
    pass_rows, junk_rows = [], []
    for s in strategies:
        row = rows.get((s, "all"))
        if row is None:
            note = "skipped" if s in skipped else "no data"
            pass_rows.append((s, None, note))
            junk_rows.append((s, None, note))
            continue
        n = f"n={row.get('n', '?')}"
        pass_rows.append((s, row.get("pass_rate"), n))
        empty = row.get("empty_rate")
        junk_rows.append((s, row.get("degenerate_rate"), f"empty {pct(empty)}" if empty else ""))
    return (
        '<section id="pass-rate"><h2>Pass rate by strategy</h2>'
        '<p class="lead">Share of answers with no major finding, all categories together, '
        "with bootstrap 95% intervals (whiskers). The degenerate rate beside it shows answers "
        "that are repetitive, empty or junk: a strategy that passes by emitting junk shows up "
        "there.</p>"
        '<div class="pair"><figure><figcaption>Pass rate (higher is better)</figcaption>'
        + interval_chart("pass_rate", "Pass rate per strategy", pass_rows, BLUE)
        + "</figure><figure><figcaption>Degenerate rate (lower is better)</figcaption>"
        + interval_chart("degenerate_rate", "Degenerate rate per strategy", junk_rows, VERMILLION)
        + "</figure></div></section>"
    )


def _kinds_section(
    strategies: Sequence[str], rows: Mapping[tuple[str, str], Mapping[str, Any]]
) -> str:
    shares = {
        s: {str(k): float(v or 0.0) for k, v in (rows[(s, "all")].get("kinds") or {}).items()}
        for s in strategies
        if (s, "all") in rows
    }
    present = {k for row in shares.values() for k in row}
    kinds = [k for k in KINDS if k in present] + sorted(present - set(KINDS))
    if not kinds:
        body = '<p class="lead">No kinds reported.</p>'
    else:
        body = f'<div class="scroll">{kinds_heatmap(strategies, kinds, shares)}</div>'
    return (
        '<section id="kinds"><h2>What goes wrong, by strategy</h2>'
        '<p class="lead">Share of answers (all categories) with at least one major finding of '
        "each kind. Darker is more frequent.</p>" + body + "</section>"
    )


def _table_section(
    strategies: Sequence[str],
    categories: Sequence[str],
    rows: Mapping[tuple[str, str], Mapping[str, Any]],
    skipped: dict,
) -> str:
    head = (
        "<thead><tr><th>Category</th><th>Strategy</th><th class='r'>n</th>"
        "<th>Pass rate [95%]</th><th></th><th class='r'>Line pass</th><th class='r'>LPR</th>"
        "<th class='r'>WPR</th><th class='r'>Degenerate</th><th class='r'>Empty</th>"
        "<th class='r'>Mean chars</th><th class='r'>Tokens/s</th><th class='r'>Mean s</th>"
        "<th class='r' title='model calls per answer (a guard retries)'>Tries</th>"
        "<th class='r' title='mean seconds beyond the first call'>Added s</th>"
        "</tr></thead>"
    )
    bodies = []
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
        trap = cat == TRAP
        cls = "trap" if trap else ("all" if cat == "all" else "")
        label = escape(cat)
        if trap:
            label += (
                '<span class="trap-tag">over-blocking check</span><div class="trap-note">'
                "A pass here means the foreign text the prompt asked for was allowed.</div>"
            )
        trs = []
        for k, s in enumerate(present):
            first = (
                f'<th class="cat" rowspan="{len(present)}" scope="rowgroup">{label}</th>'
                if k == 0
                else ""
            )
            row = rows.get((s, cat))
            if row is None:
                trs.append(
                    f'<tr class="skip">{first}<td class="strategy">{escape(s)}</td>'
                    f'<td colspan="13" class="note">skipped: {escape(str(skipped[s]))}</td></tr>'
                )
                continue
            pr = row.get("pass_rate") or {}
            is_best = best is not None and len(present) > 1 and pr.get("value") == best
            trs.append(
                f"<tr>{first}<td class='strategy'>{escape(s)}</td>"
                f"<td class='r'>{escape(str(row.get('n', '—')))}</td>"
                f"<td class='{'best' if is_best else ''}'>{escape(interval_text(pr))}</td>"
                f"<td>{spark(pr)}</td>"
                f"<td class='r'>{escape(interval_text(row.get('line_pass_rate')))}</td>"
                f"<td class='r'>{pct(row.get('lpr'))}</td><td class='r'>{pct(row.get('wpr'))}</td>"
                f"<td class='r'>{escape(interval_text(row.get('degenerate_rate')))}</td>"
                f"<td class='r'>{pct(row.get('empty_rate'))}</td>"
                f"<td class='r'>{num(row.get('mean_chars'), 0)}</td>"
                f"<td class='r'>{num(row.get('tokens_per_second'))}</td>"
                f"<td class='r'>{num(row.get('mean_seconds'))}</td>"
                f"<td class='r'>{num(row.get('mean_attempts'))}</td>"
                f"<td class='r'>{num(row.get('mean_added_seconds'))}</td></tr>"
            )
        bodies.append(f'<tbody class="{cls}" data-category="{escape(cat)}">{"".join(trs)}</tbody>')
    return (
        '<section id="table"><h2>By strategy and category</h2>'
        '<p class="lead">Pass rate: answers without a major finding. Line pass: lines without '
        "one. LPR / WPR: line- and word-level pass rates as in the Language Confusion "
        "Benchmark. Best pass rate per category in bold. The <span class='trap-tag'>trap"
        "</span> rows measure over-blocking.</p>"
        f'<div class="scroll"><table class="scores">{head}{"".join(bodies)}</table></div>'
        "</section>"
    )


def _badge(rec: Mapping[str, Any] | None) -> str:
    if rec is None:
        return '<span class="badge none">no answer</span>'
    verdict = _verdict(rec)
    if verdict is None:
        badge = '<span class="badge error">! error</span>'
    elif verdict:
        badge = '<span class="badge pass">✓ pass</span>'
    else:
        badge = '<span class="badge fail">✗ fail</span>'
    if rec.get("degenerate"):
        badge += '<span class="badge junk">degenerate</span>'
    return badge


def _findings_list(findings: Sequence[Mapping[str, Any]]) -> str:
    if not findings:
        return '<p class="clean">no findings</p>'
    items = []
    for i, f in enumerate(findings):
        kind = str(f.get("kind", "finding"))
        sev = str(f.get("severity", "major"))
        items.append(
            f'<li data-f="{i}"><span class="chip {css_class(kind)}">{escape(kind)}</span> '
            f'<span class="sev {css_class(sev)}">{escape(sev)}</span> '
            f"<span class='loc'>line {escape(str(f.get('line', '?')))}</span> "
            f"<q>{escape(clip(visible(str(f.get('text', '')))))}</q> "
            f"<span class='msg'>{escape(str(f.get('message', '')))}</span></li>"
        )
    return f'<ol class="findings">{"".join(items)}</ol>'


def _answer_cell(strategy: str, rec: Mapping[str, Any] | None) -> str:
    col = f'<div class="answer-col" data-strategy="{escape(strategy)}">'
    head = f'<div class="cell-head"><span class="strategy">{escape(strategy)}</span>{_badge(rec)}'
    if rec is None:
        return f'{col}{head}</div><p class="note">not run</p></div>'
    stats = []
    if rec.get("tokens") is not None:
        stats.append(f"{rec['tokens']} tok")
    if rec.get("seconds") is not None:
        stats.append(f"{num(rec['seconds'])} s")
    if rec.get("seed") is not None:
        stats.append(f"seed {rec['seed']}")
    head += f'<span class="stats">{escape(" · ".join(stats))}</span></div>'
    if rec.get("error") is not None:
        body = f'<pre class="error-text">{escape(str(rec["error"]))}</pre>'
    else:
        findings = list(rec.get("findings") or [])
        answer = str(rec.get("answer") or "")
        text = highlight(answer, findings) if answer else '<span class="note">(empty)</span>'
        body = f'<div class="answer">{text}</div>{_findings_list(findings)}'
    return f"{col}{head}{body}</div>"


def _examples_section(
    strategies: Sequence[str],
    categories: Sequence[str],
    generations: Sequence[Mapping[str, Any]],
    k: int,
) -> str:
    index: dict[tuple[str, int, str], Mapping[str, Any]] = {}
    for rec in generations:
        key = (str(rec.get("id", "")), int(rec.get("sample") or 0), str(rec.get("strategy")))
        index.setdefault(key, rec)
    columns = [s for s in strategies if any(key[2] == s for key in index)]
    picks = pick_examples(generations, k)
    legend = "".join(
        f'<li><mark class="{css_class(kind)}">{escape(kind.replace("_", " "))}</mark></li>'
        for kind in KINDS
    )
    parts = [
        '<section id="examples"><h2>Examples side by side</h2>'
        '<p class="lead">The same prompt and sample under each strategy. Prompts where '
        "strategies disagree are shown first. Findings are highlighted; hover for the "
        "message. Dashed underline: minor finding.</p>"
        f'<ul class="legend">{legend}</ul>'
    ]
    grid = f"grid-template-columns: repeat({max(len(columns), 1)}, minmax(0, 1fr))"
    for cat in categories:
        chosen = picks.get(cat, [])
        if not chosen:
            continue
        trap = cat == TRAP
        note = (
            '<span class="trap-tag">over-blocking check</span> '
            "<span class='trap-note'>the prompt asks for foreign text: a pass means it was "
            "allowed</span>"
            if trap
            else ""
        )
        parts.append(
            f'<div class="category{" trap" if trap else ""}" data-category="{escape(cat)}">'
            f"<h3>{escape(cat)} {note}</h3>"
        )
        for pid, sample in chosen:
            recs = {s: index.get((pid, sample, s)) for s in columns}
            prompt = next((str(r.get("prompt", "")) for r in recs.values() if r), "")
            cells = "".join(_answer_cell(s, recs[s]) for s in columns)
            parts.append(
                f'<article class="example" data-id="{escape(pid)}" data-sample="{sample}">'
                f'<div class="prompt"><span class="pid">{escape(pid)} · sample {sample}</span>'
                f'<div class="prompt-text">{escape(prompt)}</div></div>'
                f'<div class="cols" style="{grid}">{cells}</div></article>'
            )
        parts.append("</div>")
    if len(parts) == 1:
        parts.append('<p class="note">No generations.</p>')
    parts.append("</section>")
    return "".join(parts)


def _style() -> str:
    kind_css = "".join(
        f"mark.{css_class(k)}{{background:{blend(c, '#ffffff', 0.72)};"
        f"border-bottom-color:{c}}}"
        f".chip.{css_class(k)}{{background:{blend(c, '#ffffff', 0.72)};border-color:{c}}}"
        for k, c in KIND_COLORS.items()
    )
    return (
        """
*{box-sizing:border-box}
body{margin:0;background:#f6f8fa;color:#1f2328;
 font:14px/1.45 system-ui,-apple-system,"Segoe UI","DejaVu Sans","Liberation Sans",sans-serif}
main{max-width:1240px;margin:0 auto;padding:20px 20px 48px}
header,section{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:16px 20px;
 margin:0 0 18px}
h1{margin:0 0 10px;font-size:24px}
h2{margin:0 0 6px;font-size:18px}
h3{margin:18px 0 8px;font-size:16px}
.lead{margin:0 0 12px;color:#57606a;max-width:900px}
.note{color:#6e7781;font-style:italic}
dl.meta{display:flex;flex-wrap:wrap;gap:6px 22px;margin:0}
dl.meta div{display:flex;gap:6px}
dl.meta dt{color:#57606a}
dl.meta dd{margin:0;font-weight:600}
.skipped{margin-top:12px;padding:8px 12px;background:#fff8e5;border-left:4px solid #E69F00;
 border-radius:4px}
.skipped h2{font-size:14px;margin:0}
.skipped ul{margin:4px 0 0;padding-left:18px}
nav{margin-top:12px;display:flex;gap:16px}
nav a{color:#0072B2;text-decoration:none;font-weight:600}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:16px}
figure{margin:0;min-width:0}
figcaption{font-weight:600;margin-bottom:4px}
.scroll{overflow-x:auto}
svg.chart{display:block;max-width:100%;height:auto}
svg text{font-family:inherit;font-size:12px;fill:#1f2328}
svg .label{font-size:13px;font-weight:600}
svg .tick,svg .note,svg .cellnote{fill:#6e7781}
svg .note{font-style:italic}
svg .colhead{font-size:12px;font-weight:600}
svg .grid{stroke:#eaeef2}
svg .axis{stroke:#8c959f}
svg .missing{fill:#f6f8fa;stroke:#d0d7de;stroke-dasharray:3 3}
table.scores{border-collapse:collapse;width:100%;font-size:13px;font-variant-numeric:tabular-nums}
.scores th,.scores td{padding:5px 6px;border-bottom:1px solid #eaeef2;text-align:left;
 white-space:nowrap;vertical-align:middle}
.scores thead th{border-bottom:2px solid #8c959f;font-size:12px;color:#57606a}
.scores .r{text-align:right}
.scores tbody{border-top:2px solid #d0d7de}
.scores th.cat{vertical-align:top;min-width:150px;white-space:normal}
.scores tbody.all{background:#f6f8fa}
.scores tbody.trap{background:repeating-linear-gradient(135deg,#fff8e5 0 8px,#fffdf5 8px 16px)}
.scores tbody.trap th.cat{border-left:4px solid #E69F00}
.scores td.best{font-weight:700}
.scores svg.spark{display:block}
.scores tr.skip td{color:#6e7781}
.trap-tag{display:inline-block;margin-left:6px;padding:0 6px;border-radius:10px;
 background:#E69F00;color:#1f2328;font-size:11px;font-weight:700;font-style:normal}
.trap-note{font-weight:400;font-size:12px;color:#57606a;margin-top:4px}
h3 .trap-note{margin-left:4px}
ul.legend{list-style:none;display:flex;flex-wrap:wrap;gap:6px 12px;padding:0;margin:0 0 8px}
.category.trap{border-left:4px solid #E69F00;padding-left:12px}
article.example{border:1px solid #d0d7de;border-radius:6px;margin:0 0 14px;overflow:hidden}
.prompt{background:#f6f8fa;padding:8px 12px;border-bottom:1px solid #d0d7de}
.pid{font-size:12px;color:#57606a;font-family:ui-monospace,"DejaVu Sans Mono",monospace}
.prompt-text{white-space:pre-wrap;font-weight:600;max-height:8em;overflow:auto;
 overflow-wrap:anywhere}
.cols{display:grid;gap:0}
.answer-col{padding:8px 10px;border-left:1px solid #eaeef2;min-width:0}
.answer-col:first-child{border-left:0}
.cell-head{display:flex;flex-wrap:wrap;align-items:center;gap:6px;margin-bottom:6px}
.cell-head .strategy{font-weight:700}
.stats{flex-basis:100%;font-size:11px;color:#6e7781}
.badge{display:inline-block;padding:1px 7px;border-radius:10px;font-size:11px;font-weight:700}
.badge.pass{background:#0072B2;color:#fff}
.badge.fail{background:#D55E00;color:#fff}
.badge.error{background:#1f2328;color:#fff}
.badge.junk{background:#CC79A7;color:#1f2328}
.badge.none{background:#eaeef2;color:#57606a}
.answer{white-space:pre-wrap;overflow-wrap:anywhere;max-height:18em;overflow:auto;
 font-size:13px;line-height:1.5;padding:6px 8px;background:#fbfcfd;border:1px solid #eaeef2;
 border-radius:4px}
.error-text{white-space:pre-wrap;overflow-wrap:anywhere;margin:0;padding:6px 8px;
 background:#fff0f0;border:1px solid #ffcecb;border-radius:4px;font-size:12px}
mark{color:inherit;background:#eee;border-bottom:2px solid #7F7F7F;padding:0 1px;
 border-radius:2px;-webkit-box-decoration-break:clone;box-decoration-break:clone}
mark mark{padding-bottom:2px;border-bottom-width:3px}
mark.minor{border-bottom-style:dashed}
mark.cont{border-top-left-radius:0;border-bottom-left-radius:0}
mark.invisible::before{content:"\\2423";font-size:10px;color:#57606a}
ol.findings{margin:6px 0 0;padding-left:20px;font-size:12px;max-height:14em;overflow:auto}
ol.findings li{margin:2px 0;overflow-wrap:anywhere}
.chip{display:inline-block;padding:0 5px;border:1px solid #7F7F7F;border-radius:3px;
 font-size:11px;font-family:ui-monospace,"DejaVu Sans Mono",monospace}
.sev{font-size:11px;color:#57606a}
.sev.major{font-weight:700;color:#1f2328}
.loc{font-size:11px;color:#6e7781}
q{font-family:ui-monospace,"DejaVu Sans Mono",monospace;background:#f6f8fa}
.clean{margin:6px 0 0;font-size:12px;color:#6e7781}
footer{color:#6e7781;font-size:12px;text-align:center}
"""
        + kind_css
    )


# --------------------------------------------------------------------------- public API


def render_report(
    summary: Mapping[str, Any],
    generations: Iterable[Mapping[str, Any]],
    examples_per_category: int = 2,
) -> str:
    """The whole report as one HTML document (no scripts, no external resources).

    >>> page = render_report(
    ...     {"title": "<t>", "strategies": ["none"], "categories": ["c"],
    ...      "rows": [{"strategy": "none", "category": "all", "n": 1,
    ...                "pass_rate": {"value": 1.0, "low": 1.0, "high": 1.0}}]},
    ...     [{"id": "p", "category": "c", "strategy": "none", "sample": 0,
    ...       "prompt": "q", "answer": "a", "ok": True, "findings": []}])
    >>> "<title>&lt;t&gt;</title>" in page, page.count('class="chart"')
    (True, 2)
    """
    gens = list(generations)
    strategies = _strategies(summary, gens)
    categories = _categories(summary, gens)
    rows = _rows_by(summary)
    skipped = dict(summary.get("skipped") or {})
    title = escape(str(summary.get("title") or "langlock eval"))
    body = (
        _header(summary, gens)
        + _pass_section(strategies, rows, skipped)
        + _kinds_section(strategies, rows)
        + _table_section(strategies, categories, rows, skipped)
        + _examples_section(strategies, categories, gens, examples_per_category)
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><style>{_style()}</style></head>"
        f"<body><main>{body}<footer>generated by langlock eval · one self-contained file"
        "</footer></main></body></html>\n"
    )


def write_report(
    path: str | Path,
    summary: Mapping[str, Any],
    generations: Iterable[Mapping[str, Any]],
    examples_per_category: int = 2,
) -> Path:
    """Render the report and write it atomically: a reader never sees half a page.

    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> p = write_report(Path(d) / "report.html", {"strategies": [], "rows": []}, [])
    >>> p.name, sorted(x.name for x in p.parent.iterdir())
    ('report.html', ['report.html'])
    """
    path = Path(path)
    page = render_report(summary, generations, examples_per_category)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(page)
            fh.flush()
            os.fsync(fh.fileno())
        # mkstemp makes the file private; a report is meant to be shared like any output.
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
