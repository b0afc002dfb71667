"""The proxy's routes as an ASGI app: authentication, health, metrics, the model list, and
the two guarded completion endpoints."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client import generate_latest as prometheus_text

from langlock.guarding.bias import merged_bias
from langlock.guarding.proxy.exchange import Exchange
from langlock.guarding.proxy.metrics import Metrics
from langlock.guarding.proxy.settings import ClientError, ProxyConfig, error_body
from langlock.guarding.proxy.streaming import stream_reply
from langlock.guarding.proxy.upstream import Upstream, UpstreamError
from langlock.policy import policy_for

log = logging.getLogger("langlock.serve")


def create_app(config: ProxyConfig) -> FastAPI:
    """The proxy as an ASGI app (``uvicorn`` runs it; tests can too)."""
    config.settings.validate()
    app = FastAPI(title="langlock proxy", docs_url=None, redoc_url=None)
    upstream = Upstream(config)
    upstream.ban(policy_for(config.settings.lang, config.settings.preset))  # built before serving
    metrics = Metrics()
    app.state.metrics = metrics
    app.state.upstream = upstream

    @app.middleware("http")
    async def authenticate(request: Request, call_next: Any) -> Response:
        guarded = config.api_key and request.url.path.startswith("/v1/")
        if guarded and request.headers.get("authorization") != f"Bearer {config.api_key}":
            message = "missing or wrong API key"
            body = error_body(message, "invalid_request_error", "invalid_api_key")
            return JSONResponse(body, status_code=401)
        return await call_next(request)

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        return {"status": "ok", "upstream": upstream.base}

    @app.get("/metrics")
    async def metrics_endpoint() -> Response:
        return Response(prometheus_text(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/v1/models")
    async def models(request: Request) -> Response:
        try:
            response = await upstream.client.get("models", headers=upstream.headers(request))
        except httpx.HTTPError as exc:
            return _upstream_failure(UpstreamError(502, f"upstream unreachable: {exc}"), metrics)
        return Response(
            response.content,
            status_code=response.status_code,
            media_type=response.headers.get("content-type", "application/json"),
        )

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Response:
        return await _handle(request, "chat")

    @app.post("/v1/completions")
    async def completions(request: Request) -> Response:
        return await _handle(request, "completions")

    async def _handle(request: Request, endpoint: str) -> Response:
        started = time.perf_counter()
        try:
            body = await _read_body(request)
            settings = config.settings.overridden(body.pop("langlock", None))
            if body.get("n") not in (None, 1):
                raise ClientError("langlock guards one choice per request: use n=1")
            if endpoint == "chat":
                messages = body.get("messages")
                if not isinstance(messages, list) or not messages:
                    raise ClientError("'messages' must be a non-empty list")
            elif not isinstance(body.get("prompt"), str):
                raise ClientError("'prompt' must be a string (one prompt per request)")
        except ClientError as exc:
            return JSONResponse(error_body(str(exc), "invalid_request_error"), status_code=400)
        headers = upstream.headers(request)
        ban = upstream.ban(policy_for(settings.lang, settings.preset))
        if ban:
            body["logit_bias"] = merged_bias(body.get("logit_bias"), ban)
        exchange = Exchange(
            endpoint=endpoint,
            body=body,
            settings=settings,
            headers=headers,
            upstream=upstream,
            metrics=metrics,
            started=started,
        )
        try:
            if body.get("stream"):
                return await stream_reply(exchange)
            return await exchange.complete()
        except UpstreamError as exc:
            return _upstream_failure(exc, metrics)

    return app


def _upstream_failure(exc: UpstreamError, metrics: Metrics) -> JSONResponse:
    metrics.upstream_errors.labels(str(exc.status)).inc()
    log.warning(json.dumps({"event": "upstream_error", "status": exc.status, "error": str(exc)}))
    if exc.status < 500 and isinstance(exc.body, dict) and "error" in exc.body:
        return JSONResponse(exc.body, status_code=exc.status)  # the upstream's own refusal
    return JSONResponse(error_body(str(exc), "upstream_error", exc.status), status_code=exc.status)


async def _read_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ClientError(f"the request body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ClientError("the request body must be a JSON object")
    return body
