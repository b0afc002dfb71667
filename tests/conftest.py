"""Test-wide settings: a private lock cache, no model hub, and the shared llama.cpp server."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import pytest

# Tests must not read or fill the user's ~/.cache/langlock, nor reach a model hub.
os.environ.setdefault("LANGLOCK_CACHE_DIR", tempfile.mkdtemp(prefix="langlock-test-cache-"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from tests.support import start_llama_server, stop


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One real llama.cpp server with the bundled model, shared by the tests that need it."""
    process, url = start_llama_server(tmp_path_factory.mktemp("server") / "server.log")
    yield url
    stop(process)
