"""Test-wide settings: a private lock cache, and no model hub."""

from __future__ import annotations

import importlib.util
import os
import tempfile
from pathlib import Path

import pytest

# Tests must not read or fill the user's ~/.cache/langlock, nor reach a model hub.
os.environ.setdefault("LANGLOCK_CACHE_DIR", tempfile.mkdtemp(prefix="langlock-test-cache-"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def package_file(package: str, *parts: str) -> Path:
    """A file inside an installed package, found without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        pytest.skip(f"{package} is not installed")
    return Path(next(iter(spec.submodule_search_locations)), *parts)
