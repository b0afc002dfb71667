"""The report's SVG: dot-and-whisker interval charts, table sparks and the kinds heat map.

Each function returns one ``<svg>`` string with every data-defined text escaped; the page
template inserts it as markup. Colours come from ``data/report/colors.toml``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from functools import cache
from html import escape
from importlib.resources import files
from typing import Any

from langlock.eval.formatting import interval_text, pct
from langlock.text.findings import KINDS

__all__ = [
    "blend",
    "heat_color",
    "interval_chart",
    "interval_geometry",
    "kind_colors",
    "kinds_heatmap",
    "nice_ceiling",
    "palette",
    "spark",
]


@cache
def _colors() -> dict[str, Any]:
    data = files("langlock").joinpath("data/report/colors.toml").read_text(encoding="utf-8")
    return tomllib.loads(data)


def palette(name: str) -> str:
    """A palette colour by name.

    >>> palette("blue")
    '#0072B2'
    """
    return str(_colors()["palette"][name])


@cache
def kind_colors() -> dict[str, str]:
    """The colour of every kind, in ``KINDS`` order; a kind without one is grey.

    >>> kind_colors()["foreign_word"], len(kind_colors()) == len(KINDS)
    ('#E69F00', True)
    """
    named = _colors()["kinds"]
    return {kind: palette(named.get(kind, "grey")) for kind in KINDS}


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


def spark(iv: Mapping[str, Any] | None, color: str | None = None) -> str:
    """A small interval bar for a table cell (not a chart: it carries class ``spark``);
    ``color`` defaults to the palette's blue.

    >>> spark({"value": 0.5, "low": 0.4, "high": 0.6}).startswith('<svg class="spark"')
    True
    >>> spark(None)
    ''
    """
    if not iv or iv.get("value") is None:
        return ""
    color = color or palette("blue")
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
        swatch = kind_colors().get(kind, palette("grey"))
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
