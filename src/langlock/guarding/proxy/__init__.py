"""``langlock serve``: an OpenAI-compatible proxy that guards every answer of an upstream
server (vLLM, TGI, Ollama, llama.cpp, a hosted API).

Request and response shapes are the upstream's, so an unmodified OpenAI client works. What
the guard did travels in ``x-langlock-*`` headers and a ``langlock`` field (in the last
chunk of a stream). A request may override the settings with an extra body field,
``"langlock": {"lang": "uk", "strategy": "block"}``.

``settings`` (what a request is guarded by), ``upstream`` (the upstream server),
``metrics``, ``exchange`` (one request, and its plain reply), ``streaming`` (a guarded
stream) and ``app`` (the routes). All but ``settings`` import fastapi, httpx and
prometheus_client: install ``langlock[serve]``. Importing this package loads none of them.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    # The app needs the serve extra; ``langlock serve``'s options need only the settings.
    if name == "create_app":
        from langlock.guarding.proxy.app import create_app

        return create_app
    if name in ("ClientError", "ProxyConfig", "ProxySettings"):
        from langlock.guarding.proxy import settings

        return getattr(settings, name)
    raise AttributeError(f"module 'langlock.guarding.proxy' has no attribute {name!r}")


__all__ = ["ClientError", "ProxyConfig", "ProxySettings", "create_app"]
