"""The checker inside other curation tools: a datatrove filter, and functions for
``datasets.Dataset.filter`` / ``.map``.

Both import their library only when used.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from langlock.clean.cleaner import TAG_FIELD, CleanMode, RecordCleaner, Verdict
from langlock.clean.records import AUTO, RecordFormat
from langlock.policy import Policy


def dataset_filter(
    lang: str = "ru",
    preset: str = "standard",
    fmt: str = AUTO,
    roles: Sequence[str] = ("assistant",),
    text_field: str | None = None,
) -> Callable[[dict[str, Any]], bool]:
    """A predicate for ``Dataset.filter``: True for records with no major finding.

    >>> keep = dataset_filter()
    >>> keep({"text": "Всё по-русски."}), keep({"text": "Это важный milestone."})
    (True, False)
    """
    cleaner = RecordCleaner(
        Policy.from_options(lang=lang, preset=preset),
        mode=CleanMode.drop,
        fmt=fmt,
        roles=roles,
        text_field=text_field,
    )
    return lambda record: cleaner.clean(record).status is not Verdict.rejected


def dataset_tagger(
    lang: str = "ru",
    preset: str = "standard",
    fmt: str = AUTO,
    roles: Sequence[str] = ("assistant",),
    text_field: str | None = None,
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A function for ``Dataset.map``: adds ``langlock_ok`` and ``langlock_findings`` (JSON),
    flat columns that Arrow stores whatever the findings look like."""
    import json

    cleaner = RecordCleaner(
        Policy.from_options(lang=lang, preset=preset),
        mode=CleanMode.tag,
        fmt=fmt,
        roles=roles,
        text_field=text_field,
    )

    def tag(record: dict[str, Any]) -> dict[str, Any]:
        outcome = cleaner.clean(record)
        tagged = (outcome.record or {}).get(TAG_FIELD, {"ok": False, "findings": {}})
        return {
            "langlock_ok": bool(tagged["ok"]) and outcome.status is not Verdict.rejected,
            "langlock_findings": json.dumps(
                tagged["findings"] or outcome.reason, ensure_ascii=False
            ),
        }

    return tag


def datatrove_filter(lang: str = "ru", preset: str = "standard", **options: Any) -> Any:
    """A datatrove ``BaseFilter`` that drops documents with a major finding, with the
    finding as the exclusion reason (``LanguageDisciplineFilter`` in a pipeline)."""
    from datatrove.data import Document
    from datatrove.pipeline.filters.base_filter import BaseFilter

    class LanguageDisciplineFilter(BaseFilter):
        name = "🔒 langlock"

        def __init__(self) -> None:
            super().__init__(**options)
            self.cleaner = RecordCleaner(
                Policy.from_options(lang=lang, preset=preset),
                mode=CleanMode.drop,
                fmt=RecordFormat.text,
            )

        def filter(self, doc: Document) -> bool | tuple[bool, str]:
            outcome = self.cleaner.clean({"text": doc.text})
            return True if outcome.status is not Verdict.rejected else (False, outcome.reason)

    return LanguageDisciplineFilter()
