"""The eval report: one self-contained HTML page with inline SVG charts.

The page has no scripts, fonts or links to fetch, so it opens the same from a CI artifact,
an e-mail attachment or a laptop without network. Everything comes from two inputs the eval
produces: ``summary`` (scores per strategy and category, with bootstrap intervals) and the
``generations`` (one record per answer, with the checker's findings).

``render`` turns them into the page's data, ``charts`` draws the SVG, and jinja2 renders
``report.html.j2`` (with ``report.css`` inlined) with autoescape on.

>>> page = render_report({"title": "t", "strategies": ["none"], "rows": []}, [])
>>> page.startswith("<!DOCTYPE html>") and "</html>" in page
True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from html import escape
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langlock.eval.report.charts import interval_geometry
from langlock.eval.report.render import highlight, page_context, pick_examples
from langlock.io import write_atomic

if TYPE_CHECKING:
    import jinja2

__all__ = [
    "highlight",
    "interval_geometry",
    "pick_examples",
    "render_report",
    "write_report",
]


def _template_source(name: str) -> str:
    """A template file of this package. The page template is indented for reading, but the
    page has no whitespace between tags: each line's indentation and line break are dropped
    as it loads (the CSS is kept as it is)."""
    text = files(__name__).joinpath(name).read_text(encoding="utf-8")
    if name.endswith(".j2"):
        return "".join(line.strip() for line in text.splitlines())
    return text


def _escaped(value: Any) -> Any:
    """Escape as :func:`html.escape` does (``'`` as ``&#x27;``, ``"`` as ``&quot;``), so the
    page reads the same as before it had a template; markup passes through."""
    from markupsafe import Markup

    return value if hasattr(value, "__html__") else Markup(escape(str(value)))


@cache
def _environment() -> jinja2.Environment:
    try:
        import jinja2
    except ImportError as exc:  # an optional part: say what to install
        raise ImportError(
            f"the eval report needs jinja2: pip install 'langlock[eval]' ({exc})"
        ) from exc
    return jinja2.Environment(
        loader=jinja2.FunctionLoader(_template_source),
        autoescape=True,
        finalize=_escaped,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


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
    context = page_context(summary, generations, examples_per_category)
    return _environment().get_template("report.html.j2").render(context)


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
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, render_report(summary, generations, examples_per_category))
    return path
