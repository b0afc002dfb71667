"""Fixtures the text tests share."""

from __future__ import annotations

import pytest

from langlock.text.detectors.translit import TranslitDetector


@pytest.fixture(scope="module")
def det() -> TranslitDetector:
    return TranslitDetector()
