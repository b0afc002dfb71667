"""The rendered report page, shared by the report tests (module-scoped: rendered once)."""

from __future__ import annotations

import pytest

from langlock.eval.report import render_report
from tests.eval.report_data import make_generations, make_summary
from tests.eval.report_html import Page


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
