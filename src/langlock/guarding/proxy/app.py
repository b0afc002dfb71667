"""The proxy's routes as an ASGI app: authentication, health, metrics, the model list, and
the two guarded completion endpoints.

Every error a client gets is in OpenAI's shape (``{"error": {...}}``): a bad body is a 400,
one over ``--max-body-mb`` a 413, an unknown route a 404, a failure of ours a 500.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client import generate_latest as prometheus_text
from starlette.exceptions import HTTPException

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

    def has_key(request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {config.api_key}"

    @app.middleware("http")
    async def authenticate(request: Request, call_next: Any) -> Response:
        guarded = config.api_key and request.url.path.startswith("/v1/")
        if guarded and not has_key(request):
            message = "missing or wrong API key"
            body = error_body(message, "invalid_request_error", "invalid_api_key")
            return JSONResponse(body, status_code=401)
        return await call_next(request)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse(
            error_body(str(exc.detail), "invalid_request_error", exc.status_code),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> JSONResponse:
        log.exception(json.dumps({"event": "internal_error", "path": request.url.path}))
        message = f"langlock failed: {type(exc).__name__}"
        return JSONResponse(error_body(message, "server_error", 500), status_code=500)

    @app.get("/healthz")
    async def healthz(request: Request) -> dict[str, Any]:
        # Where the upstream is (an internal address, maybe credentials in it) is for those
        # holding the proxy's key; without --api-key nobody holds one.
        if config.api_key and has_key(request):
            return {"status": "ok", "upstream": upstream.base}
        return {"status": "ok"}

    @app.get("/metrics")
    async def metrics_endpoint() -> Response:
        return Response(prometheus_text(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/v1/models")
    async def models(request: Request) -> Response:
        try:
            response = await upstream.get("models", upstream.headers(request))
        except UpstreamError as exc:
            return _upstream_failure(exc, metrics)
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
            body = await _read_body(request, config.max_body_bytes)
            settings = config.settings.overridden(body.pop("langlock", None))
            if body.get("n") not in (None, 1):
                raise ClientError("langlock guards one choice per request: use n=1")
            if endpoint == "chat":
                check_messages(body.get("messages"))
            elif not isinstance(body.get("prompt"), str):
                raise ClientError("'prompt' must be a string (one prompt per request)")
        except BodyTooLarge as exc:
            body = error_body(str(exc), "invalid_request_error", "request_too_large")
            return JSONResponse(body, status_code=413)
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


#: How deeply a request's JSON may nest: far beyond any real request (a tool's schema), far
#: short of what would exhaust Python's stack in the parser or anything after it.
MAX_DEPTH = 64


class BodyTooLarge(ClientError):
    """A request body over the size limit: 413."""


async def _read_body(request: Request, limit: int) -> dict[str, Any]:
    """The request's JSON object, read no further than ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(f"the request body is over {limit:,} bytes (--max-body-mb)")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"the request body is over {limit:,} bytes (--max-body-mb)")
        chunks.append(chunk)
    try:
        body = json.loads(b"".join(chunks))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ClientError(f"the request body is not JSON: {exc}") from None
    except RecursionError:  # deeper than the parser goes
        raise ClientError(f"the request body nests deeper than {MAX_DEPTH} levels") from None
    if nesting_over(body, MAX_DEPTH):
        raise ClientError(f"the request body nests deeper than {MAX_DEPTH} levels")
    if not isinstance(body, dict):
        raise ClientError("the request body must be a JSON object")
    return body


def nesting_over(value: Any, limit: int) -> bool:
    """Whether JSON ``value`` nests deeper than ``limit`` arrays and objects (iteratively:
    no recursion to exhaust).

    >>> nesting_over({"a": [[1]]}, 3), nesting_over({"a": [[1]]}, 2)
    (False, True)
    """
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False


def check_messages(messages: Any) -> None:
    """A chat request's ``messages``: a non-empty list of objects, each with a string
    ``role`` and a ``content`` that is a string, a list of parts, or null.

    >>> check_messages([1, 2])
    Traceback (most recent call last):
    ...
    langlock.guarding.proxy.settings.ClientError: messages[0] must be an object with a string 'role'
    """
    if not isinstance(messages, list) or not messages:
        raise ClientError("'messages' must be a non-empty list")
    for n, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise ClientError(f"messages[{n}] must be an object with a string 'role'")
        content = message.get("content")
        if content is not None and not isinstance(content, (str, list)):
            raise ClientError(f"messages[{n}].content must be a string, a list of parts or null")
